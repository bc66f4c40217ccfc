/**
 * What the runner writes when a run ends: its state, its result write-back, and what follows a
 * step (SPEC 5 and 8) — a verification `verifyAfter` later, the next step at once, or nothing.
 * Always inside the transaction that moves the run, so the write-back and the follow-up exist
 * exactly when the new state does.
 */
import { afterStep } from '../domain/decide/verdict.js'
import type { Outcome } from '../domain/outcome.js'
import type { RunState } from '../domain/runs.js'
import { redactSecrets, redactSecretText } from '../domain/secrets.js'
import { nextAfterStep } from '../domain/writeback/index.js'
import type { TransactionStores } from '../store/index.js'
import type { RunRecord } from '../store/runs.js'
import type { RunnerDeps } from './deps.js'
import { commentContext } from './facts.js'
import { lockName } from './lock.js'
import { QUEUES, type TimerJob } from './queues.js'
import { runnerSecrets } from './secrets.js'
import { addWriteBack } from './writeback.js'

/**
 * Schedules what follows a run that ended: a verification after verifyAfter, the next step at
 * once, or nothing. Returns the "Next:" line of the result comment.
 */
export async function followUp (tx: TransactionStores, run: RunRecord, nextAction: string | undefined): Promise<string> {
  const hasNext = run.step + 1 < run.settings.steps
  const after = afterStep(run.state, run.skipSource, hasNext)
  if (after.next === 'verify') await tx.jobs.enqueue(QUEUES.timer, `verify:${run.id}`, { type: 'verify', runId: run.id } satisfies TimerJob, { delayMs: run.settings.verifyAfterMs })
  if (after.next === 'step') await tx.jobs.enqueue(QUEUES.plan, `next:${run.id}`, { runId: run.id })
  return nextAfterStep(after, { step: run.step, hasNext, nextAction, verifyAfterMs: run.settings.verifyAfterMs })
}

/** The action of the step after this run's, if the rule (as loaded now) has one. */
export function nextActionOf (deps: RunnerDeps, run: Pick<RunRecord, 'rule' | 'step'>): string | undefined {
  return deps.rules().rules.rules.find((r) => r.name === run.rule)?.ladder[run.step + 1]?.use
}

/** Moves a run to a final state with its write-back and follow-up, in one transaction. */
export async function finishRun (deps: RunnerDeps, run: RunRecord, from: readonly RunState[], to: RunState, change: { reason: string | null, outcome?: Outcome | null, skipSource?: RunRecord['skipSource'], note: string, durationMs?: number }, tx?: TransactionStores): Promise<boolean> {
  // An outcome's details, a reason or an error message may carry a secret (an echoed request, a
  // URL): what is stored, and so what the API and the comment show, has it redacted.
  const secrets = runnerSecrets(deps)
  const work = async (tx: TransactionStores): Promise<boolean> => {
    const moved = await tx.runs.transition(run.id, from, to, redactSecretText(change.note, secrets), { reason: change.reason === null ? null : redactSecretText(change.reason, secrets), outcome: change.outcome == null ? change.outcome : redactSecrets(change.outcome, secrets), skipSource: change.skipSource ?? null })
    if (!moved) return false
    const lock = lockName(run)
    if (lock !== undefined) await tx.leases.release(lock, run.id)
    const ended = await tx.runs.get(run.id)
    if (ended === undefined) return false
    const next = await followUp(tx, ended, nextActionOf(deps, ended))
    await addWriteBack(tx, ended, { type: 'result', run: ended, ctx: commentContext(ended, { next, ...(change.durationMs === undefined ? {} : { durationMs: change.durationMs }) }) })
    return true
  }
  const done = tx === undefined ? await deps.store.transaction(work) : await work(tx)
  if (done) {
    deps.metrics.runs.inc({ action: run.action, outcome: to })
    deps.log.info({ problemId: run.problemId, runId: run.id, action: run.action, state: to, reason: change.reason }, `run ${to}: ${change.note}`)
  }
  return done
}
