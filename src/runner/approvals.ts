/**
 * Approvals (SPEC 9 and 11): a run whose rule sets `approval: true` waits `awaiting_approval`
 * with a comment that says how to approve (the exact curl line) — or that nobody can, when no
 * admin token is configured. Approving moves it back to `queued`: the gates that can change
 * meanwhile (pause, cooldown, budgets, lock) are checked again when it runs, so an approval
 * reserves nothing. Rejecting cancels it; after `approvalTimeout` it expires. Each ends with a
 * comment naming who and why.
 */
import type { Run, RunState } from '../domain/runs.js'
import type { TransactionStores } from '../store/index.js'
import type { RunRecord } from '../store/runs.js'
import type { RunnerDeps } from './deps.js'
import { finishRun } from './finish.js'
import { QUEUES } from './queues.js'
import { addWriteBack } from './writeback.js'

export async function addApprovalRequest (deps: RunnerDeps, tx: TransactionStores, run: RunRecord): Promise<void> {
  await addWriteBack(tx, run, { type: 'approval', run, request: { steps: run.settings.steps, adminConfigured: deps.adminConfigured, publicUrl: deps.publicUrl, expiresInMs: run.settings.approvalTimeoutMs } })
}

export type ApprovalResult =
  | { readonly ok: true, readonly run: Run }
  | { readonly ok: false, readonly status: 404 | 409, readonly state?: RunState }

/** Who decided, as recorded: the admin token's name, and the body's `by` beside it. */
const decider = (tokenName: string, by: string | undefined): string => (by === undefined || by === '' || by === tokenName ? tokenName : `${tokenName} (for ${by})`)

export async function approve (deps: Pick<RunnerDeps, 'store' | 'log' | 'clock'>, id: string, who: { tokenName: string, by?: string | undefined, reason?: string | undefined, from: string }): Promise<ApprovalResult> {
  const name = decider(who.tokenName, who.by)
  const result = await deps.store.transaction(async (tx): Promise<ApprovalResult | undefined> => {
    const run = await tx.runs.get(id)
    if (run === undefined) return { ok: false, status: 404 }
    if (run.state !== 'awaiting_approval') return { ok: false, status: 409, state: run.state }
    const note = `approved by ${name} from ${who.from}${who.reason === undefined || who.reason === '' ? '' : `: ${who.reason}`}`
    // Queued afresh: its timeout (status retries, lock wait) counts from now, not from when it first waited.
    // Of two approvals at once (two replicas, two people), both may have read awaiting_approval:
    // the update decides. The one it touched no row for lost, and answers 409 with what the run is
    // now; the record names the one that won (SPEC 9).
    if (!(await tx.runs.transition(id, ['awaiting_approval'], 'queued', note, { approvedBy: name, reason: null, queuedAt: deps.clock.now() }))) {
      const now = await tx.runs.get(id)
      return { ok: false, status: 409, ...(now === undefined ? {} : { state: now.state }) }
    }
    await tx.jobs.enqueue(QUEUES.run, `${id}:approved`, { runId: id })
    return undefined
  })
  if (result !== undefined) return result
  deps.log.info({ problemId: undefined, runId: id, by: name, from: who.from }, 'run approved')
  const view = await deps.store.runs.view(id)
  return view === undefined ? { ok: false, status: 404 } : { ok: true, run: view }
}

export async function reject (deps: RunnerDeps, id: string, who: { tokenName: string, by?: string | undefined, reason?: string | undefined, from: string }): Promise<ApprovalResult> {
  const name = decider(who.tokenName, who.by)
  const run = await deps.store.runs.get(id)
  if (run === undefined) return { ok: false, status: 404 }
  if (run.state !== 'awaiting_approval') return { ok: false, status: 409, state: run.state }
  const reason = `rejected by ${name}${who.reason === undefined || who.reason === '' ? '' : `: ${who.reason}`}`
  const done = await finishRun(deps, run, ['awaiting_approval'], 'cancelled', { reason, note: `${reason} (from ${who.from})` })
  if (!done) {
    const now = await deps.store.runs.get(id)
    return { ok: false, status: 409, ...(now === undefined ? {} : { state: now.state }) }
  }
  const view = await deps.store.runs.view(id)
  return view === undefined ? { ok: false, status: 404 } : { ok: true, run: view }
}
