/**
 * What the runner writes when a run moves: the result comment (or, for a security problem, the
 * CUSTOM_INFO event), the verdict comment, and what follows a step (SPEC 5 and 8) — a
 * verification `verifyAfter` later, the next step at once, or nothing. Always called inside the
 * transaction that moves the run, so the write-back and the follow-up exist exactly when the new
 * state does.
 */
import { resultComment, resultEvent, resultMarker, verdictComment, verdictMarker, type CommentContext } from '../domain/decide/comment.js'
import { afterStep } from '../domain/decide/verdict.js'
import { kindOf } from '../domain/kinds/index.js'
import { humanDuration } from '../domain/rules/duration.js'
import type { DeploymentEvent, EntityRef, ProblemInfo } from '../domain/problem.js'
import type { Verification } from '../domain/runs.js'
import type { EnvSite } from '../domain/rules/placeholders.js'
import { criterion } from '../dynatrace/selectors.js'
import { NOTIFICATION_QUEUE } from '../store/notifications.js'
import type { TransactionStores } from '../store/index.js'
import { WRITEBACK_QUEUE } from '../store/outbox.js'
import type { Outcome } from '../domain/outcome.js'
import type { RunState } from '../domain/runs.js'
import type { RunRecord } from '../store/runs.js'
import { targetKey } from '../domain/target.js'
import type { RunnerDeps } from './deps.js'
import { redactSecrets, redactSecretText } from '../domain/secrets.js'
import { runnerSecrets } from './secrets.js'

export const QUEUES = {
  notification: NOTIFICATION_QUEUE,
  /** The next step of a ladder, planned afresh. */
  plan: 'plan',
  run: 'run',
  /** Verifications and approval expiries, due at a time. */
  timer: 'timer',
  writeback: WRITEBACK_QUEUE,
} as const

export type TimerJob = { readonly type: 'verify' | 'expire', readonly runId: string }

/** What a run keeps of its planning, for execution, comments and the audit. */
export interface RunFacts {
  readonly entity: EntityRef
  readonly problem: ProblemInfo
  readonly deploymentEvent: DeploymentEvent | undefined
  readonly targetSource: string | undefined
  /** The plan's `plannedAt`: every attempt receives it. */
  readonly plannedAt: number
  readonly foundBy: 'webhook' | 'reconcile'
  /**
   * Only on a run without an entity of its own (`*`, once per rule and occurrence) of a security
   * problem: the affected entities of its type, which its event goes on. Every other run keeps its
   * own entity only: a copy of all impacted ids in each of a problem's runs made storage grow
   * with the square of the entity count (500 entities: 6.95 MB).
   */
  readonly entities?: readonly string[]
  /** Where the rule's text had `${env:…}` in the run's params (absent on runs stored before they were kept). */
  readonly envSites?: readonly EnvSite[]
}

export const factsOf = (run: RunRecord): RunFacts => run.facts as unknown as RunFacts

/** Pure: what a comment says around a run's outcome. */
export function commentContext (run: RunRecord, extra: { next?: string, durationMs?: number } = {}): CommentContext {
  const facts = factsOf(run)
  const event = facts.deploymentEvent
  const start = facts.problem.startTime
  return {
    steps: run.settings.steps,
    entityName: facts.entity.name,
    trigger: event === undefined || start === undefined ? undefined : { title: event.title, beforeProblemMs: Math.max(0, start - event.startTime) },
    durationMs: extra.durationMs,
    foundBy: facts.foundBy,
    next: extra.next,
    gates: run.state === 'dry_run' && run.reason !== null ? run.reason : undefined,
  }
}

/** Pure: the entity selector a security run's event goes on: the run's entity, or its type's affected entities. */
export function eventSelector (run: RunRecord): string {
  const facts = factsOf(run)
  if (run.entityId !== '*') return criterion('entityId', [run.entityId])
  const type = facts.entity.type
  const sameType = (facts.entities ?? []).filter((id) => id.startsWith(`${type}-`))
  return criterion('entityId', sameType.length > 0 ? sameType : [facts.entity.id])
}

/** Adds the run's result write-back (once per run: the outbox key is `result:<id>`). */
export async function addResult (tx: TransactionStores, run: RunRecord, ctx: CommentContext): Promise<void> {
  if (kindOf(run.kind).writeBack === 'event') {
    const event = resultEvent(run, ctx)
    await tx.outbox.add({
      key: `result:${run.id}`,
      runId: run.id,
      kind: 'event',
      problemId: run.problemId,
      payload: { eventType: 'CUSTOM_INFO', title: event.title, entitySelector: eventSelector(run), properties: event.properties },
      marker: resultMarker(run.id),
    })
    return
  }
  await tx.outbox.add({
    key: `result:${run.id}`,
    runId: run.id,
    kind: 'comment',
    problemId: run.problemId,
    payload: { message: resultComment(run, ctx), context: 'dt-remediator' },
    marker: resultMarker(run.id),
  })
}

/** Adds the verdict write-back of a run's verification (once per run). Security problems have no comment: the event carries it. */
export async function addVerdict (tx: TransactionStores, run: RunRecord, verification: Verification, next: string | undefined): Promise<void> {
  if (kindOf(run.kind).writeBack === 'event') {
    await tx.outbox.add({
      key: `verdict:${run.id}`,
      runId: run.id,
      kind: 'event',
      problemId: run.problemId,
      payload: {
        eventType: 'CUSTOM_INFO',
        title: `dt-remediator: ${run.action} verified ${verification.verdict}`,
        entitySelector: eventSelector(run),
        properties: { 'dt-remediator.run': run.id, 'dt-remediator.verdict': verification.verdict, 'dt-remediator.note': verification.note },
      },
      marker: verdictMarker(run.id),
    })
    return
  }
  await tx.outbox.add({
    key: `verdict:${run.id}`,
    runId: run.id,
    kind: 'comment',
    problemId: run.problemId,
    payload: { message: verdictComment(run, verification, { steps: run.settings.steps, next }), context: 'dt-remediator' },
    marker: verdictMarker(run.id),
  })
}

/**
 * Schedules what follows a run that ended: a verification after verifyAfter, the next step at
 * once, or nothing. Returns the "Next:" line of the result comment.
 */
export async function followUp (tx: TransactionStores, run: RunRecord, nextAction: string | undefined): Promise<string> {
  const hasNext = run.step + 1 < run.settings.steps
  const after = afterStep(run.state, run.skipSource, hasNext)
  if (after.next === 'verify') {
    await tx.jobs.enqueue(QUEUES.timer, `verify:${run.id}`, { type: 'verify', runId: run.id } satisfies TimerJob, { delayMs: run.settings.verifyAfterMs })
    return `verifying in ${humanDuration(run.settings.verifyAfterMs)}${hasNext ? `; if the problem is still open, ${nextAction ?? 'the next step'} (step ${run.step + 2})` : ''}`
  }
  if (after.next === 'step') {
    await tx.jobs.enqueue(QUEUES.plan, `next:${run.id}`, { runId: run.id })
    return `${after.note} (${nextAction ?? 'the next step'}, step ${run.step + 2})`
  }
  return after.note
}

/** The lease that is a target's lock. */
export const lockName = (run: Pick<RunRecord, 'target'>): string | undefined => (run.target === null ? undefined : `target:${targetKey(run.target)}`)

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
    await addResult(tx, ended, commentContext(ended, { next, ...(change.durationMs === undefined ? {} : { durationMs: change.durationMs }) }))
    return true
  }
  const done = tx === undefined ? await deps.store.transaction(work) : await work(tx)
  if (done) {
    deps.metrics.runs.inc({ action: run.action, outcome: to })
    deps.log.info({ problemId: run.problemId, runId: run.id, action: run.action, state: to, reason: change.reason }, `run ${to}: ${change.note}`)
  }
  return done
}
