/**
 * One reconciliation pass (SPEC 8): what the Problems API knows that no notification told us.
 *
 * - Open problems: one listing, `GET /api/v2/problems?problemSelector=status("open")`, 500 a
 *   page, `from` far enough back for the oldest problem we track as open. A listed problem we do
 *   not track as open is taken in as if notified: a new one (unless it started before the
 *   reconciliation horizon, so that installing the service never acts on days-old problems),
 *   or one we last saw closed (a re-open whose notification was lost: the next occurrence).
 *   One whose webhook notification is stored and still waits to be planned is left to it.
 *   DTR_RECONCILE_PROBLEM_SELECTOR adds its criteria to the listing's.
 * - Closed problems: a problem we track as open that the listing leaves out is read on its own
 *   (`GET /api/v2/problems/{id}`); closed, it is taken in as RESOLVED. Only a positive CLOSED
 *   closes it: one the API cannot read (a 404, a fault) stays as it is, and says so.
 * - Security problems likewise, from `GET /api/v2/securityProblems?securityProblemSelector=
 *   status("OPEN")`; a problem's details (its affected entities) are read for those taken in.
 *
 * What is taken in goes through `notifications.record`, the webhooks' store path, with the same
 * keys, marked `source: reconcile`: planning it, the runner gives the same run keys a webhook's
 * would have, so a problem notified and reconciled at once has one run. A listing is skipped when
 * no rule is of its kind and nothing of its kind is tracked open: then nothing could come of it.
 */
import { criterion } from '../../dynatrace/selectors.js'
import type { DynatraceClient } from '../../dynatrace/client.js'
import { isDynatraceApiError } from '../../dynatrace/errors.js'
import type { Problem, SecurityProblemDetails } from '../../dynatrace/schemas.js'
import { notificationState } from '../../domain/enrichment.js'
import { NOTIFICATION_QUEUE, type NewNotification } from '../../store/notifications.js'
import type { ProblemKind, TrackedProblem } from '../../store/problems.js'
import type { RunnerDeps } from '../deps.js'
import { problemBody, reconciledNotification, securityBody } from './body.js'

/** How far before the oldest open problem we track the listing reaches: its start precedes our first sight of it. */
export const TRACKED_LOOKBACK_MS = 2 * 3_600_000
/** The most problems one listing reads (20 pages of 500); more is logged, and the rest waits. */
const MAX_LISTED = 10_000
/** The most tracked problems read on their own per pass, when the listing leaves them out. */
const MAX_STATUS_READS = 100
const MAX_TRACKED = 10_000

export interface KindReport {
  /** Open in Dynatrace, as listed. */
  readonly listed: number
  readonly pages: number
  /** Listed and tracked open already: nothing to do. */
  readonly tracked: number
  /** Taken in as new notifications (and of those, re-opens). */
  readonly takenIn: number
  readonly reopened: number
  /** Already taken in by an earlier pass, not planned yet. */
  readonly duplicates: number
  /** Brought by a webhook notification still waiting to be planned: left to it. */
  readonly notified: number
  /** Tracked open, found closed: taken in as RESOLVED. */
  readonly resolved: number
  /** Started before the reconciliation horizon: left alone. */
  readonly predates: number
  /** Tracked open, left out of the listing, read open on their own. */
  readonly stillOpen: number
  /** Tracked open, left out of the listing, and their status could not be read. */
  readonly unreadable: number
}

export interface PassReport {
  readonly horizon: number
  readonly problems: KindReport | undefined
  readonly security: KindReport | undefined
}

type Counts = { -readonly [K in keyof KindReport]: KindReport[K] }
const zero = (): Counts => ({ listed: 0, pages: 0, tracked: 0, takenIn: 0, reopened: 0, duplicates: 0, notified: 0, resolved: 0, predates: 0, stillOpen: 0, unreadable: 0 })

export interface PassDeps extends RunnerDeps {
  readonly dynatrace: DynatraceClient
  /** The runner's wake-up: what was taken in is planned at once. */
  readonly wake: () => void
}

/** What a reconciler remembers between its passes. */
export interface PassMemory {
  /** The horizon, once read (it never changes). */
  horizon?: number
  /** Problems whose status could not be read, warned about once (a legacy PID the API never knows would warn every pass). */
  readonly unreadable: Set<string>
}

/**
 * The horizon: reconciliation never takes in a problem that started before it. The store's
 * creation, or — on a store an earlier release created — the first pass ever made on it, so that
 * an upgrade does not take in problems days old either. Written once, shared by every replica.
 */
export async function reconcileHorizon (deps: Pick<RunnerDeps, 'store' | 'clock'>): Promise<number> {
  const { value } = await deps.store.settings.setOnce('reconcile.since', String(Math.max(deps.store.createdAt, deps.clock.now())))
  return Math.max(deps.store.createdAt, Number(value))
}

async function take (deps: PassDeps, n: NewNotification, counts: Counts, what: 'open' | 'reopen' | 'resolved', occurrence: number): Promise<void> {
  const result = await deps.store.notifications.record(n)
  deps.metrics.notifications.inc({ kind: n.kind, outcome: result.status, source: 'reconcile' })
  if (result.status === 'duplicate') {
    counts.duplicates++
    return
  }
  if (what === 'resolved') counts.resolved++
  else counts.takenIn++
  if (what === 'reopen') counts.reopened++
  const note = what === 'resolved'
    ? 'closed in the Problems API with no RESOLVED notification: taken in as RESOLVED'
    : what === 'reopen'
      ? 'open again in the Problems API with no notification: taken in as a re-open'
      : 'open in the Problems API with no notification: taken in'
  deps.log.info({ problemId: n.problemId, kind: n.kind, occurrence, notificationId: result.notificationId, source: 'reconcile' }, note)
  deps.wake()
}

const byId = (rows: readonly TrackedProblem[]): Map<string, TrackedProblem> => new Map(rows.map((r) => [r.problemId, r]))

/** Whether anything could come of a listing of this kind: a rule of it, or something of it tracked open. */
function wanted (deps: RunnerDeps, kind: ProblemKind, trackedOpen: number): boolean {
  return trackedOpen > 0 || deps.rules().rules.rules.some((r) => r.on === kind && r.disabledReason === undefined)
}

function listingFrom (horizon: number, tracked: readonly TrackedProblem[]): number {
  return tracked.reduce((from, t) => Math.min(from, t.openedAt - TRACKED_LOOKBACK_MS), horizon)
}

function unreadable (deps: PassDeps, memory: PassMemory, counts: Counts, problemId: string, err: unknown, what: string): void {
  counts.unreadable++
  if (memory.unreadable.has(problemId)) return
  memory.unreadable.add(problemId)
  deps.log.warn({ problemId, err: isDynatraceApiError(err) ? err.message : (err as Error).message }, `${what} could not be read: left as it is (said once; the pass summary counts it)`)
}

/**
 * Whether a webhook brought this problem (an OPEN received since we last saw it closed) and its
 * notification waits to be planned. The listing may come between a webhook's commit and its
 * planning; taking the problem in then would make no second run (the same keys), but whichever
 * notification is planned first tells the comment how the problem was found, and "no
 * notification reached dt-remediator" would be false.
 */
async function awaitingPlan (deps: PassDeps, kind: ProblemKind, problemId: string, last: TrackedProblem | undefined): Promise<boolean> {
  const since = last?.closedAt ?? 0
  const brought = (await deps.store.notifications.listByProblem(kind, problemId))
    .filter((n) => n.source === 'webhook' && n.receivedAt >= since && notificationState(n) === 'OPEN')
  return brought.length > 0 && (await deps.store.jobs.waiting(NOTIFICATION_QUEUE, brought.map((n) => n.id))).length > 0
}

async function reconcileProblems (deps: PassDeps, horizon: number, memory: PassMemory, signal: AbortSignal): Promise<KindReport | undefined> {
  const dt = deps.dynatrace
  const trackedList = await deps.store.problems.listOpen(MAX_TRACKED, 'problem')
  if (!wanted(deps, 'problem', trackedList.length)) return undefined
  const tracked = byId(trackedList)
  const counts = zero()
  // DTR_RECONCILE_PROBLEM_SELECTOR narrows the listing as the alerting profile narrows what
  // Dynatrace sends (criteria are ANDed); tracked problems outside it still get their status read.
  const selector = [criterion('status', ['open']), ...(deps.reconcileProblemSelector === undefined ? [] : [deps.reconcileProblemSelector])].join(',')
  const listing = await dt.listProblems({ problemSelector: selector, from: listingFrom(horizon, trackedList), pageSize: 500, limit: MAX_LISTED }, signal)
  if (listing.truncated) deps.log.warn({ listed: listing.items.length }, `more than ${MAX_LISTED} open problems: the rest are reconciled in a later pass`)
  counts.listed = listing.items.length
  counts.pages = listing.pages
  const untracked = listing.items.filter((p) => !tracked.has(p.problemId))
  counts.tracked = listing.items.length - untracked.length
  const seen = byId(await deps.store.problems.getMany('problem', untracked.map((p) => p.problemId)))
  const href = dt.environment.href
  for (const p of untracked) {
    const last = seen.get(p.problemId)
    if (last === undefined && p.startTime < horizon) {
      counts.predates++
      continue
    }
    if (await awaitingPlan(deps, 'problem', p.problemId, last)) {
      counts.notified++
      continue
    }
    const occurrence = last === undefined ? 1 : last.occurrence + 1
    await take(deps, reconciledNotification('problem', problemBody(p, 'OPEN', occurrence, href), deps.clock.now()), counts, last === undefined ? 'open' : 'reopen', occurrence)
  }

  const listed = new Set(listing.items.map((p) => p.problemId))
  const missing = trackedList.filter((t) => !listed.has(t.problemId))
  for (const t of missing.slice(0, MAX_STATUS_READS)) {
    let problem: Problem
    try {
      problem = await dt.getProblem(t.problemId, signal)
    } catch (err) {
      if (signal.aborted) throw err
      unreadable(deps, memory, counts, t.problemId, err, 'a problem tracked as open is not in the listing and')
      continue
    }
    memory.unreadable.delete(t.problemId)
    if (problem.status !== 'CLOSED') {
      counts.stillOpen++
      continue
    }
    await take(deps, reconciledNotification('problem', problemBody(problem, 'RESOLVED', t.occurrence, href), deps.clock.now()), counts, 'resolved', t.occurrence)
  }
  if (missing.length > MAX_STATUS_READS) deps.log.warn({ missing: missing.length }, `more than ${MAX_STATUS_READS} problems tracked as open are not listed: the rest are read in a later pass`)
  return counts
}

async function reconcileSecurity (deps: PassDeps, horizon: number, memory: PassMemory, signal: AbortSignal): Promise<KindReport | undefined> {
  const dt = deps.dynatrace
  const trackedList = await deps.store.problems.listOpen(MAX_TRACKED, 'security')
  if (!wanted(deps, 'security', trackedList.length)) return undefined
  // Security problems are tracked by the id their notifications carry: the display id (S-1234).
  const tracked = byId(trackedList)
  const counts = zero()
  const listing = await dt.listSecurityProblems({ securityProblemSelector: criterion('status', ['OPEN']), from: listingFrom(horizon, trackedList), pageSize: 500, fields: '+riskAssessment,+managementZones', limit: MAX_LISTED }, signal)
  if (listing.truncated) deps.log.warn({ listed: listing.items.length }, `more than ${MAX_LISTED} open security problems: the rest are reconciled in a later pass`)
  // A muted security problem is one somebody decided to leave alone.
  const open = listing.items.filter((s) => s.muted !== true)
  counts.listed = open.length
  counts.pages = listing.pages
  const idOf = (s: { displayId?: string | undefined, securityProblemId: string }): string => s.displayId ?? s.securityProblemId
  const untracked = open.filter((s) => !tracked.has(idOf(s)))
  counts.tracked = open.length - untracked.length
  const seen = byId(await deps.store.problems.getMany('security', untracked.map(idOf)))
  const href = dt.environment.href
  for (const s of untracked) {
    const last = seen.get(idOf(s))
    if (last === undefined && (s.firstSeenTimestamp ?? 0) < horizon) {
      counts.predates++
      continue
    }
    if (await awaitingPlan(deps, 'security', idOf(s), last)) {
      counts.notified++
      continue
    }
    let details: SecurityProblemDetails
    try {
      details = await dt.getSecurityProblem(s.securityProblemId, signal)
    } catch (err) {
      if (signal.aborted) throw err
      unreadable(deps, memory, counts, idOf(s), err, 'an open security problem (to be taken in at a later pass)')
      continue
    }
    const occurrence = last === undefined ? 1 : last.occurrence + 1
    await take(deps, reconciledNotification('security', securityBody(s, details, occurrence, href), deps.clock.now()), counts, last === undefined ? 'open' : 'reopen', occurrence)
  }

  const listed = new Set(listing.items.map(idOf))
  const missing = trackedList.filter((t) => !listed.has(t.problemId))
  for (const t of missing.slice(0, MAX_STATUS_READS)) {
    let details: SecurityProblemDetails
    try {
      const found = /^S-\d+$/i.test(t.problemId) ? await dt.findSecurityProblemByDisplayId(t.problemId, signal) : { securityProblemId: t.problemId }
      if (found === undefined) throw new Error(`Dynatrace lists no security problem ${t.problemId}`)
      details = await dt.getSecurityProblem(found.securityProblemId, signal)
    } catch (err) {
      if (signal.aborted) throw err
      unreadable(deps, memory, counts, t.problemId, err, 'a security problem tracked as open is not in the listing and')
      continue
    }
    memory.unreadable.delete(t.problemId)
    if (details.status !== 'RESOLVED') {
      counts.stillOpen++
      continue
    }
    await take(deps, reconciledNotification('security', securityBody(details, details, t.occurrence, href), deps.clock.now(), true), counts, 'resolved', t.occurrence)
  }
  return counts
}

/** One pass over both kinds. Throws when a listing fails (the pass is then a failure, tried again next interval). */
export async function reconcileOnce (deps: PassDeps, signal: AbortSignal, memory: PassMemory = { unreadable: new Set() }): Promise<PassReport> {
  const horizon = memory.horizon ?? await reconcileHorizon(deps)
  memory.horizon = horizon
  const problems = await reconcileProblems(deps, horizon, memory, signal)
  const security = await reconcileSecurity(deps, horizon, memory, signal)
  return { horizon, problems, security }
}
