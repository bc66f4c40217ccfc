/**
 * Work due at a time: a run's verification `verifyAfter` after it ended (SPEC 8), and an
 * approval's expiry. The verification reads the problem — our record first (a RESOLVED that came
 * in closes it, and makes this job due at once), then the Problems API: closed gives `resolved`;
 * read as open gives `unresolved` and, when the ladder has one, plans the next step; a status that
 * cannot be read gives `unknown` and the ladder stops. Each verdict has its own comment.
 */
import { decideVerdict } from '../domain/decide/verdict.js'
import type { Verification } from '../domain/runs.js'
import type { Job } from '../store/queue.js'
import type { RunnerDeps } from './deps.js'
import { nextStep } from '../domain/writeback/index.js'
import { finishRun, nextActionOf } from './finish.js'
import { QUEUES, type TimerJob } from './queues.js'
import { addWriteBack } from './writeback.js'
import { problemStatus } from './status.js'
import { countVerdict, recordResolution } from './evidence.js'
import type { JobContext, JobResult } from './worker.js'

export async function handleTimer (deps: RunnerDeps, job: Job<TimerJob>, ctx: JobContext): Promise<JobResult> {
  const run = await deps.store.runs.get(job.payload.runId)
  if (run === undefined) return { status: 'done' }
  if (job.payload.type === 'expire') {
    if (run.state !== 'awaiting_approval') return { status: 'done' }
    const reason = `the approval request expired after ${Math.round(run.settings.approvalTimeoutMs / 60_000)} min without an answer`
    await finishRun(deps, run, ['awaiting_approval'], 'expired', { reason, note: reason })
    return { status: 'done' }
  }
  if (run.verification !== null || (run.state !== 'succeeded' && run.state !== 'dry_run')) return { status: 'done' }
  const status = await problemStatus(run, deps.store, deps.dynatrace, ctx.signal) ?? 'unreadable'
  const hasNext = run.step + 1 < run.settings.steps
  const decision = decideVerdict(status, hasNext, deps.clock.now() - (run.endedAt ?? run.queuedAt))
  const next = nextActionOf(deps, run)
  const verification: Verification = { verdict: decision.verdict, at: new Date(deps.clock.now()).toISOString(), note: status === 'unreadable' && deps.dynatrace === undefined ? `${decision.note} (without DTR_DYNATRACE_URL only a RESOLVED notification tells)` : decision.note }
  await deps.store.transaction(async (tx) => {
    await tx.runs.update(run.id, { verification }, { state: run.state, note: `verified: ${verification.verdict}, ${verification.note}` })
    const verified = { ...run, verification }
    await addWriteBack(tx, verified, { type: 'verdict', run: verified, verification, steps: run.settings.steps, next: decision.escalate ? nextStep(run.step, next) : undefined })
    if (decision.escalate) await tx.jobs.enqueue(QUEUES.plan, `next:${run.id}`, { runId: run.id })
    // A status read that found it closed is the last-resort resolution time (a RESOLVED, if one came, was recorded already).
    if (status === 'closed') await recordResolution(deps, tx, { kind: run.kind, problemId: run.problemId, occurrence: run.occurrence, at: deps.clock.now(), source: 'status' })
  })
  countVerdict(deps, run, verification)
  ctx.log.info({ problemId: run.problemId, runId: run.id, verdict: verification.verdict }, `verification: ${verification.note}`)
  return { status: 'done' }
}
