/**
 * From an accepted notification to planned runs (SPEC 8). A RESOLVED closes the occurrence:
 * it cancels the runs that have not started and gives the verifications waiting for it their
 * verdict at once; it never starts an action. An OPEN (or a security notification) is judged
 * against what we remember of the problem and what the Problems API says (decideOpen): a new
 * problem or a re-open plans; a resend, a merge or a second replica plans the same keys and so
 * inserts nothing; an OPEN after the problem was resolved plans nothing.
 *
 * An OPEN is judged from our record of the problem read first, then the Problems API read after
 * it; enrichment and planning follow outside any transaction (they read Dynatrace and
 * Kubernetes). The decision and the runs then commit in one transaction that first reads the
 * record again under its lock: when it still says what the judgement assumed (or the occurrence
 * is open, as planned), the problem is opened and the runs inserted; when anything else happened
 * meanwhile (a RESOLVED above all), the notification is judged again from fresh reads. So a
 * RESOLVED that came in the meantime wins, nothing is planned for a closed problem, and no API
 * answer read before a RESOLVED was handled ever re-opens the problem it closed.
 */
import { randomUUID } from 'node:crypto'
import { decideOpen, decideResolved, decisionHolds, type OpenDecision, type ProblemRecord } from '../domain/decide/lifecycle.js'
import { epochMs } from '../domain/enrichment.js'
import { kindOf, notificationState } from '../domain/kinds/index.js'
import type { NotificationKind } from '../domain/payload.js'
import { NEXT_RESOLVED, outcomeGroupKey, SUMMARY_MIN_RUNS, summarisable } from '../domain/writeback/index.js'
import { NOT_STARTED_STATES, type RunState } from '../domain/runs.js'
import type { TransactionStores } from '../store/index.js'
import type { StoredNotification } from '../store/notifications.js'
import type { Job } from '../store/queue.js'
import type { NewRun, RunRecord, SkipSource } from '../store/runs.js'
import type { RunnerDeps } from './deps.js'
import { enrich, type NotificationInput } from './enrich.js'
import type { Enrichment } from '../domain/enrichment.js'
import { planNotification, type NotificationPlan, type RunPlan } from './plan.js'
import { occurrenceOf } from './reconcile/body.js'
import { commentContext, type RunFacts } from './facts.js'
import { followUp, nextActionOf } from './finish.js'
import { QUEUES, type TimerJob } from './queues.js'
import { addWriteBack } from './writeback.js'
import { dynatraceRead } from './status.js'
import { statusReadMark, type ProblemRead } from './kinds/index.js'
import { endTimeOf, recordResolution, saveExplanations } from './evidence.js'
import type { JobContext, JobResult } from './worker.js'

/** Intake enqueues a notification's job with no payload: its key is the notification's id. */
export type NotificationJob = null

/** Pure: a Gen 3 workflow's `dt.davis.last_reopen_timestamp` as ms (ISO text, or ns/µs/ms numbers). */
function reopenMark (body: unknown): number | undefined {
  return epochMs(typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['dt.davis.last_reopen_timestamp'] : undefined)
}

const input = (n: StoredNotification): NotificationInput => ({ kind: n.kind, problemId: n.problemId, body: n.body, receivedAt: n.receivedAt })

/** Closes the occurrence: not-started runs are cancelled, waiting verifications are due now. */
export async function resolveOccurrence (deps: RunnerDeps, tx: TransactionStores, p: { kind: NotificationKind, problemId: string, displayId: string | null, occurrence: number, source: 'webhook' | 'reconcile', note: string, endTime?: number | undefined }): Promise<void> {
  await tx.problems.close(p)
  // The report's clock stops here: at the problem's endTime when the body carries it, else now.
  await recordResolution(deps, tx, { kind: p.kind, problemId: p.problemId, occurrence: p.occurrence, at: p.endTime ?? deps.clock.now(), source: p.endTime !== undefined ? 'endTime' : p.source === 'reconcile' ? 'reconcile' : 'notification' })
  const runs = await tx.runs.ofOccurrence(p.kind, p.problemId, p.occurrence)
  for (const run of runs) {
    if (NOT_STARTED_STATES.has(run.state)) {
      const reason = `the problem was resolved before the action started (${p.note})`
      if (await tx.runs.transition(run.id, [...NOT_STARTED_STATES], 'cancelled', reason, { reason })) {
        const moved = { ...run, state: 'cancelled' as RunState, reason }
        await addWriteBack(tx, moved, { type: 'result', run: moved, ctx: commentContext(moved, { next: NEXT_RESOLVED }) })
      }
    } else if ((run.state === 'succeeded' || run.state === 'dry_run') && run.verification === null) {
      // The verification waiting for verifyAfter is due now: it will read the problem as closed.
      await tx.jobs.reschedule(QUEUES.timer, `verify:${run.id}`, 0)
    }
  }
}

/**
 * Pure: who skipped a run planning skipped — the action itself (it found nothing to do: the
 * ladder moves on), or the lack of a target of its own (none resolved, another entity's run has
 * it, or the action does not handle the entity's type: the ladder stops).
 */
function skipSourceOf (run: RunPlan): SkipSource {
  const noTargetOfItsOwn = run.sameTargetAs !== undefined || (run.target === null && run.entityId !== '*') || run.reason?.includes(' does not handle ') === true
  return noTargetOfItsOwn ? 'target' : 'action'
}

/** The runs a plan makes, as the store keeps them. */
function newRuns (deps: RunnerDeps, plan: NotificationPlan, n: StoredNotification, runs: readonly RunPlan[], foundBy: 'webhook' | 'reconcile', entities: readonly string[]): NewRun[] {
  const rules = deps.rules().rules
  return runs.map((r) => {
    const rule = rules.rules.find((x) => x.name === r.rule)
    const state: RunState = r.status === 'planned' ? 'queued' : r.status
    // The impacted entities only where they are read (an event-channel kind's `*` run's event), and only its type's.
    const eventEntities = kindOf(plan.kind).writeBack === 'event' && r.entityId === '*' ? { entities: entities.filter((id) => id.startsWith(`${r.entity.type}-`)) } : {}
    const facts: RunFacts = { entity: r.entity, problem: plan.problem, deploymentEvent: r.deploymentEvent, targetSource: r.targetSource, plannedAt: plan.plannedAt, foundBy, envSites: r.envSites, ...eventEntities }
    // The timeline starts with what was planned (SPEC 8), then the state planning put it in.
    const note = r.status === 'planned'
      ? `planned by rule ${r.rule} (step ${r.step + 1}): ${r.target === null ? 'no target needed' : `target from ${r.targetSource ?? 'the rule'}`}`
      : `planned by rule ${r.rule} (step ${r.step + 1}) for ${r.entityId}`
    const stateNote = r.status === 'planned' ? 'queued for the safety gates' : `${r.status} when planned: ${r.reason ?? ''}`
    return {
      id: randomUUID(),
      key: r.runKey,
      kind: plan.kind,
      problemId: plan.problemId,
      displayId: plan.displayId ?? n.displayId,
      occurrence: plan.occurrence,
      notificationId: n.id,
      rule: r.rule,
      step: r.step,
      entityId: r.entityId,
      action: r.action,
      target: r.target,
      state,
      reason: r.status === 'planned' ? null : r.reason ?? null,
      skipSource: r.status === 'skipped' ? skipSourceOf(r) : null,
      dryRun: rules.mode !== 'live' || rule?.dryRun === true,
      params: r.params,
      plan: r.plan ?? null,
      facts: facts as unknown as Record<string, unknown>,
      settings: {
        timeoutMs: rule?.timeoutMs ?? rules.defaults.timeoutMs,
        verifyAfterMs: rule?.verifyAfterMs ?? rules.defaults.verifyAfterMs,
        cooldownMs: rule?.cooldownMs ?? rules.defaults.cooldownMs,
        approvalTimeoutMs: rule?.approvalTimeoutMs ?? rules.defaults.approvalTimeoutMs,
        approval: rule?.approval ?? false,
        steps: rule?.ladder.length ?? 1,
      },
      note,
      stateNote,
    }
  })
}

/**
 * Inserts the runs whose keys are new, in the caller's transaction: a job for each queued one, a
 * result comment (and what follows) for each that planning already ended. Returns the inserted.
 */
async function insertRuns (deps: RunnerDeps, tx: TransactionStores, runs: readonly NewRun[]): Promise<RunRecord[]> {
  const ids = new Set(await tx.runs.insert(runs))
  const inserted: RunRecord[] = []
  // A problem's runs that planning ended alike (500 entities, no target for any) share one
  // comment: counted first, so that a group big enough is summarised instead of commented per run.
  const alike = new Map<string, number>()
  for (const r of runs) if (ids.has(r.id) && summarisable(r)) alike.set(outcomeGroupKey(r), (alike.get(outcomeGroupKey(r)) ?? 0) + 1)
  const groups = new Map<string, RunRecord[]>()
  for (const r of runs) {
    if (!ids.has(r.id)) continue
    const run = await tx.runs.get(r.id)
    if (run === undefined) continue
    inserted.push(run)
    if (run.state === 'queued') {
      await tx.jobs.enqueue(QUEUES.run, run.id, { runId: run.id })
      continue
    }
    const next = await followUp(tx, run, nextActionOf(deps, run))
    const key = outcomeGroupKey(run)
    if (summarisable(run) && (alike.get(key) ?? 0) >= SUMMARY_MIN_RUNS) groups.set(key, [...(groups.get(key) ?? []), run])
    else await addWriteBack(tx, run, { type: 'result', run, ctx: commentContext(run, { next }) })
  }
  for (const group of groups.values()) {
    const [first, ...rest] = group
    if (first !== undefined) await addWriteBack(tx, first, { type: 'summary', runs: [first, ...rest], steps: first.settings.steps })
  }
  return inserted
}

/** Enrichment under the rules in force now, and those rules (planning uses the same). */
function startEnrichment (deps: RunnerDeps, n: StoredNotification, problemRead: Promise<ProblemRead | undefined> | undefined, ctx: JobContext): Enriching {
  const ruleSet = deps.rules()
  const enrichment = enrich(input(n), {
    dynatrace: deps.dynatrace,
    problemRead,
    longestDeployedWithinMs: ruleSet.rules.longestDeployedWithinMs,
    readClusters: deps.clusterName !== undefined,
    signal: ctx.signal,
    log: ctx.log,
  })
  return { ruleSet, enrichment }
}

interface Enriching {
  readonly ruleSet: ReturnType<RunnerDeps['rules']>
  readonly enrichment: Promise<Enrichment>
}

/** What an OPEN's judgement assumed: the record read before the Problems API, and the decision. */
interface Judged { readonly seen: ProblemRecord | undefined, readonly decision: OpenDecision & { readonly action: 'plan' } }

/** The record moved on between the judgement's read and its commit: judge the notification again. */
const CHANGED = 'changed'

/**
 * Plans `step` of the rules (or one rule) for a notification and inserts the runs, unless the
 * occurrence closed meanwhile. With `judged` (an OPEN's first step) the problem is opened in the
 * same transaction, when the record still supports the judgement; CHANGED when it does not.
 */
async function planAndInsert (deps: RunnerDeps, n: StoredNotification, o: { occurrence: number, step: number, rule?: string, entityId?: string, foundBy: 'webhook' | 'reconcile', enriching?: Enriching, judged?: Judged }, ctx: JobContext): Promise<JobResult | typeof CHANGED> {
  const { ruleSet, enrichment: enriched } = o.enriching ?? startEnrichment(deps, n, undefined, ctx)
  const enrichment = await enriched
  const plan = await planNotification({
    notification: input(n),
    enrichment,
    rules: ruleSet.rules,
    registry: ruleSet.registry,
    readers: deps.readers,
    env: deps.env,
    clusterName: deps.clusterName,
    occurrence: o.occurrence,
    step: o.step,
    ...(o.rule === undefined ? {} : { rule: o.rule }),
    plannedAt: deps.clock.now(),
    signal: ctx.signal,
    log: ctx.log,
  })
  let runs = plan.rules.flatMap((r) => r.runs)
  if (o.entityId !== undefined) runs = runs.filter((r) => r.entityId === o.entityId)
  const transient = runs.find((r) => r.status === 'failed' && r.error?.retryable === true)
  if (transient !== undefined) {
    ctx.log.warn({ reason: transient.reason }, 'planning met a fault that may pass; planning again later')
    return { status: 'retry', delayMs: deps.timings.planRetryMs, error: transient.reason ?? 'planning failed' }
  }
  const unmatched = plan.rules.filter((r) => !r.matched).map((r) => `${r.rule}: ${r.reason ?? ''}`)
  const entities = enrichment.entities.map((e) => e.id)
  const inserted = await deps.store.transaction(async (tx) => {
    const tracked = await tx.problems.lock(n.kind, n.problemId)
    if (o.judged !== undefined) {
      if (!decisionHolds(o.judged.seen, tracked, o.judged.decision)) return CHANGED
      await tx.problems.open({ kind: n.kind, problemId: n.problemId, displayId: n.displayId, occurrence: o.occurrence, source: o.foundBy })
    } else if (tracked !== undefined && (tracked.occurrence !== o.occurrence || tracked.status === 'closed')) {
      return undefined
    }
    await saveExplanations(tx, n.id, plan)
    return insertRuns(deps, tx, newRuns(deps, plan, n, runs, o.foundBy, entities))
  })
  if (inserted === CHANGED) return CHANGED
  // Said once per notification here, not copied into each of its runs.
  if (enrichment.notes.length > 0) ctx.log.info({ notes: enrichment.notes.slice(0, 20), more: Math.max(0, enrichment.notes.length - 20) }, 'enrichment notes')
  if (inserted === undefined) {
    ctx.log.info({ occurrence: o.occurrence }, 'the problem was resolved while its runs were planned: nothing planned')
    return { status: 'done' }
  }
  for (const run of inserted) ctx.log.info({ runId: run.id, rule: run.rule, action: run.action, state: run.state, target: run.target }, `run ${run.state}`)
  ctx.log.info({ occurrence: o.occurrence, step: o.step, runs: runs.length, inserted: inserted.length, notMatched: unmatched }, 'notification planned')
  return { status: 'done' }
}

export async function handleNotification (deps: RunnerDeps, job: Job<NotificationJob>, ctx: JobContext): Promise<JobResult> {
  const n = await deps.store.notifications.get(job.key)
  if (n === undefined) return { status: 'done' }
  const log = ctx.log.child({ problemId: n.problemId, notificationId: n.id })
  const state = notificationState(n)
  const foundBy = n.source

  if (state === 'RESOLVED') {
    await deps.store.transaction(async (tx) => {
      // Reconciliation says which occurrence it saw closed; a re-open notified since stays open.
      const decision = decideResolved(await tx.problems.lock(n.kind, n.problemId), occurrenceOf(n.body))
      log.info({ decision, source: n.source }, decision.note)
      const note = n.source === 'reconcile' ? 'found closed by reconciliation with the Problems API' : 'RESOLVED notification'
      if (decision.action === 'resolve') await resolveOccurrence(deps, tx, { kind: n.kind, problemId: n.problemId, displayId: n.displayId, occurrence: decision.occurrence, source: foundBy, note, endTime: endTimeOf(n.body) })
    })
    return judgeLaterOpen(deps, n, job.id, { ...ctx, log })
  }
  if (state !== 'OPEN') {
    log.info({ state: n.state }, `State ${n.state ?? '(none)'} is neither OPEN nor RESOLVED: nothing is planned`)
    return { status: 'done' }
  }

  return judged(deps, n, { ...ctx, log })
}

/** Judges an OPEN, again from fresh reads while the record keeps moving under it, then waits and retries. */
async function judged (deps: RunnerDeps, n: StoredNotification, ctx: JobContext): Promise<JobResult> {
  for (let judgement = 1; ; judgement++) {
    const result = await judgeOpen(deps, n, ctx)
    if (result !== CHANGED) return result
    if (judgement >= JUDGEMENTS) {
      ctx.log.warn({ judgements: judgement }, 'the problem kept changing while this notification was judged: judging it again later')
      return { status: 'retry', delayMs: deps.timings.planRetryMs, error: 'the problem kept changing while the notification was judged' }
    }
    ctx.log.info('the problem changed while this notification was judged: judging it again from fresh reads')
  }
}

/**
 * After a RESOLVED: an OPEN of the same problem received after it, but judged before it (its job
 * waited: a retry, a slow replica), was judged against an occurrence this RESOLVED has now
 * closed: "still open", when Dynatrace had in fact re-opened the problem. That OPEN is judged
 * again, from fresh reads: a re-open becomes the next occurrence; a stale OPEN plans nothing.
 * One still waiting will be judged after this anyway; one being judged now finds the record
 * moved when it commits.
 */
async function judgeLaterOpen (deps: RunnerDeps, n: StoredNotification, jobId: string, ctx: JobContext): Promise<JobResult> {
  const later = await deps.store.notifications.newestAfter(n.kind, n.problemId, jobId)
  if (later === undefined || later.waiting || notificationState(later.notification) !== 'OPEN') return { status: 'done' }
  const log = ctx.log.child({ laterNotificationId: later.notification.id })
  log.info('an OPEN received after this RESOLVED was judged before it: judging it again')
  return judged(deps, later.notification, { ...ctx, log })
}

/** How many times in a row an OPEN is judged again at once before its job waits and retries. */
const JUDGEMENTS = 3

/**
 * Judges an OPEN and, when it plans, plans and commits the decision with the runs. Our record is
 * read before the Problems API: a RESOLVED handled after the record's read changes the record
 * (the commit then finds it moved on: CHANGED), and one handled before it is seen in both reads.
 */
async function judgeOpen (deps: RunnerDeps, n: StoredNotification, ctx: JobContext): Promise<JobResult | typeof CHANGED> {
  const { log } = ctx
  const foundBy = n.source
  const mark = statusReadMark()
  const seen = await deps.store.problems.get(n.kind, n.problemId)
  // One read of the problem: the decision's status, and enrichment's facts from the same answer.
  // Enrichment starts with that read, not after the decision: its entity and event reads need
  // only the notification, and an outage's notifications wait for one round of Dynatrace
  // answers (and of its 429s) less. When the decision plans nothing (the problem closed
  // meanwhile) those reads were for nothing: the rare case, and reads only.
  // Not a read sent before the record's (another notification's, still in flight): its answer
  // may predate a RESOLVED the record shows, and would make the closed problem look re-opened.
  const statusRead = dynatraceRead(n.kind, n.problemId, deps.dynatrace, ctx.signal, mark)
  const enriching = startEnrichment(deps, n, statusRead.then((r) => r.read, () => undefined), ctx)
  // Awaited below when the decision plans; otherwise how it ended is of no interest.
  enriching.enrichment.catch(() => {})
  const { status: api } = await statusRead
  const decision = decideOpen(seen, api, reopenMark(n.body))
  log.info({ decision: decision.action, source: n.source }, decision.note)
  if (decision.action === 'plan') return planAndInsert(deps, n, { occurrence: decision.occurrence, step: 0, foundBy, enriching, judged: { seen, decision } }, ctx)
  // Nothing to write for an ignored OPEN: the reads it was judged on are the latest there are.
  if (decision.action === 'ignore') return { status: 'done' }
  return deps.store.transaction(async (tx) => {
    if (!decisionHolds(seen, await tx.problems.lock(n.kind, n.problemId), decision)) return CHANGED
    await resolveOccurrence(deps, tx, { kind: n.kind, problemId: n.problemId, displayId: n.displayId, occurrence: decision.occurrence, source: foundBy, note: decision.note })
    return { status: 'done' } as const
  })
}

export type { TimerJob }

export interface PlanJob { readonly runId: string }

/** The next step of a ladder, planned afresh for the rule and entity of the step before (SPEC 5). */
export async function handlePlanNext (deps: RunnerDeps, job: Job<PlanJob>, ctx: JobContext): Promise<JobResult> {
  const previous = await deps.store.runs.get(job.payload.runId)
  if (previous === undefined) return { status: 'done' }
  const log = ctx.log.child({ problemId: previous.problemId, afterRunId: previous.id })
  const rule = deps.rules().rules.rules.find((r) => r.name === previous.rule)
  if (rule === undefined || previous.step + 1 >= rule.ladder.length) {
    log.info({ rule: previous.rule }, 'no next step: the rule has no further step (or is gone after a reload)')
    return { status: 'done' }
  }
  const n = await deps.store.notifications.get(previous.notificationId)
  if (n === undefined) return { status: 'done' }
  const result = await planAndInsert(deps, n, { occurrence: previous.occurrence, step: previous.step + 1, rule: previous.rule, entityId: previous.entityId, foundBy: (previous.facts as { foundBy?: 'webhook' | 'reconcile' }).foundBy ?? 'webhook' }, { ...ctx, log })
  // Without a judgement to hold, planning the next step never finds the record CHANGED.
  return result === CHANGED ? { status: 'done' } : result
}
