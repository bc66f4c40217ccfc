/**
 * Write-backs: queued in the outbox inside the transaction that moves a run (addWriteBack), and
 * delivered to Dynatrace by the writeback worker (handleWriteBack). What they say is rendered in
 * src/domain/writeback/.
 *
 * Delivering the outbox to Dynatrace (SPEC 10): a problem comment through postCommentOnce, which
 * reads the comments for the write-back's marker before posting again, so each lands once across
 * retries, crashes and replicas (the first try of a write-back, which nothing can have posted
 * before, posts without that read); a security problem's event through the ingest API, which has no
 * idempotency key (a crash between the post and its record can post one extra event: the docs
 * say so). 429 waits as long as Dynatrace asks; 5xx and network faults back off with jitter, for
 * as long as it takes; any other 4xx is final, and recorded with the run. Without
 * DTR_DYNATRACE_URL the write-back is logged instead.
 */
import { renderWriteBack, type WriteBackMessage } from '../domain/writeback/index.js'
import { isDynatraceApiError } from '../dynatrace/errors.js'
import { criterion } from '../dynatrace/selectors.js'
import type { TransactionStores } from '../store/index.js'
import type { RunRecord } from '../store/runs.js'
import { factsOf } from './facts.js'
import type { CommentRequest, EventIngest } from '../dynatrace/schemas.js'
import type { Job } from '../store/queue.js'
import { redactSecrets } from '../domain/secrets.js'
import { runnerSecrets } from './secrets.js'
import { backoffMs, type RunnerDeps } from './deps.js'
import type { JobContext, JobResult } from './worker.js'

/** Pure: the entity selector a security run's event goes on: the run's entity, or its type's affected entities. */
function eventSelector (run: RunRecord): string {
  const facts = factsOf(run)
  if (run.entityId !== '*') return criterion('entityId', [run.entityId])
  const type = facts.entity.type
  const sameType = (facts.entities ?? []).filter((id) => id.startsWith(`${type}-`))
  return criterion('entityId', sameType.length > 0 ? sameType : [facts.entity.id])
}

/** Adds a run's write-back to the outbox (once per run and message: the outbox key says which). */
export async function addWriteBack (tx: TransactionStores, run: RunRecord, message: WriteBackMessage): Promise<void> {
  const wb = renderWriteBack(message)
  const payload = wb.channel === 'comment'
    ? { message: wb.message, context: 'dt-remediator' }
    : { eventType: 'CUSTOM_INFO', title: wb.event.title, entitySelector: eventSelector(run), properties: wb.event.properties }
  await tx.outbox.add({ key: wb.key, runId: wb.runId, kind: wb.channel, problemId: run.problemId, payload, marker: wb.marker })
}

export interface WriteBackJob { readonly writeBackId: string }

export async function handleWriteBack (deps: RunnerDeps, job: Job<WriteBackJob>, ctx: JobContext): Promise<JobResult> {
  const wb = await deps.store.outbox.get(job.payload.writeBackId)
  if (wb === undefined || wb.state !== 'pending') return { status: 'done' }
  const log = ctx.log.child({ problemId: wb.problemId, runId: wb.runId, writeBack: wb.key })
  // Nothing secret reaches Dynatrace, whatever a comment was built from.
  const payload = redactSecrets(wb.payload, runnerSecrets(deps))
  if (deps.dynatrace === undefined) {
    log.info({ writeBack: payload }, `${wb.kind === 'comment' ? 'comment' : 'event'} not posted (DTR_DYNATRACE_URL is not set)`)
    await deps.store.outbox.delivered(wb.id)
    return { status: 'done' }
  }
  try {
    if (wb.kind === 'comment') {
      // The first claim of a write-back never tried (no attempt recorded, no process held it
      // before) cannot have posted it: no read of the problem's comments first. Any later try —
      // a retry, a takeover after a crash, a lease given back at shutdown — reads before posting.
      const neverPosted = job.attempts === 1 && !job.takenOver && wb.attempts === 0
      const outcome = await deps.dynatrace.postCommentOnce(wb.problemId, payload as CommentRequest, wb.marker, ctx.signal, { neverPosted })
      log.info({ outcome: outcome.status }, outcome.status === 'posted' ? 'comment posted' : 'comment found already posted')
    } else {
      await deps.dynatrace.ingestEvent(payload as EventIngest, ctx.signal)
      log.info('event ingested')
    }
    await deps.store.outbox.delivered(wb.id)
    return { status: 'done' }
  } catch (err) {
    if (ctx.signal.aborted) throw err
    const message = err instanceof Error ? err.message : String(err)
    if (isDynatraceApiError(err) && !err.retryable) {
      await deps.store.transaction(async (tx) => {
        await tx.outbox.failed(wb.id, message)
        const run = await tx.runs.get(wb.runId)
        if (run !== undefined) await tx.runs.update(run.id, {}, { state: run.state, note: `write-back ${wb.key} refused by Dynatrace for good: ${message}` })
      })
      deps.metrics.writebackFailed.inc()
      log.error({ err }, 'Dynatrace refused the write-back; it will not be retried')
      return { status: 'done' }
    }
    await deps.store.outbox.attempted(wb.id, message)
    const delayMs = isDynatraceApiError(err) && err.retryAfterMs !== undefined ? err.retryAfterMs : backoffMs(job.attempts, deps.timings, deps.random)
    log.warn({ err, delayMs }, 'write-back not delivered yet; trying again')
    return { status: 'retry', delayMs, error: message }
  }
}
