/**
 * What every kind's reconciliation shares (SPEC 8; pass.ts says what a pass does): the report
 * counts, the limits, and taking a problem in through the webhooks' store path.
 */
import { isDynatraceApiError } from '../../dynatrace/errors.js'
import { notificationState } from '../../domain/kinds/index.js'
import { NOTIFICATION_QUEUE, type NewNotification } from '../../store/notifications.js'
import type { ProblemKind, TrackedProblem } from '../../store/problems.js'
import type { DynatraceClient } from '../../dynatrace/client.js'
import type { RunnerDeps } from '../deps.js'

/** How far before the oldest open problem we track the listing reaches: its start precedes our first sight of it. */
export const TRACKED_LOOKBACK_MS = 2 * 3_600_000
/** The most problems one listing reads (20 pages of 500); more is logged, and the rest waits. */
export const MAX_LISTED = 10_000
/** The most tracked problems read on their own per pass, when the listing leaves them out. */
export const MAX_STATUS_READS = 100
export const MAX_TRACKED = 10_000

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

export type Counts = { -readonly [K in keyof KindReport]: KindReport[K] }
export const zero = (): Counts => ({ listed: 0, pages: 0, tracked: 0, takenIn: 0, reopened: 0, duplicates: 0, notified: 0, resolved: 0, predates: 0, stillOpen: 0, unreadable: 0 })

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

export async function take (deps: PassDeps, n: NewNotification, counts: Counts, what: 'open' | 'reopen' | 'resolved', occurrence: number): Promise<void> {
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

export const byId = (rows: readonly TrackedProblem[]): Map<string, TrackedProblem> => new Map(rows.map((r) => [r.problemId, r]))

/** Whether anything could come of a listing of this kind: a rule of it, or something of it tracked open. */
export function wanted (deps: RunnerDeps, kind: ProblemKind, trackedOpen: number): boolean {
  return trackedOpen > 0 || deps.rules().rules.rules.some((r) => r.on === kind && r.disabledReason === undefined)
}

export function listingFrom (horizon: number, tracked: readonly TrackedProblem[]): number {
  return tracked.reduce((from, t) => Math.min(from, t.openedAt - TRACKED_LOOKBACK_MS), horizon)
}

export function unreadable (deps: PassDeps, memory: PassMemory, counts: Counts, problemId: string, err: unknown, what: string): void {
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
 * notification reached dt-remediator" would be false. A problem the store tracks open by now is
 * left the same way: its notification was planned after `last` was read, and its job may be
 * done already. (Planning tracks the problem in its transaction, and the job is marked done only
 * after that commits; so once the job is seen not waiting, a fresh read sees what its planning
 * tracked. `last` alone is not enough: it was read before.)
 */
export async function awaitingPlan (deps: PassDeps, kind: ProblemKind, problemId: string, last: TrackedProblem | undefined): Promise<boolean> {
  if (last?.status === 'open') return true
  const since = last?.closedAt ?? 0
  const brought = (await deps.store.notifications.listByProblem(kind, problemId))
    .filter((n) => n.source === 'webhook' && n.receivedAt >= since && notificationState(n) === 'OPEN')
  if (brought.length === 0) return false
  if ((await deps.store.jobs.waiting(NOTIFICATION_QUEUE, brought.map((n) => n.id))).length > 0) return true
  return (await deps.store.problems.get(kind, problemId))?.status === 'open'
}

/**
 * The problems of a kind tracked open that its listing left out, read on their own (at most
 * MAX_STATUS_READS a pass, the rest in a later one). Only a positive "closed" closes one: `read`
 * gives the notification to take in as RESOLVED, or undefined while it is still open; one that
 * cannot be read stays as it is, and says so once.
 */
export async function closeUnlisted<T> (ctx: ReconcileContext, counts: Counts, what: string, unlisted: readonly TrackedProblem[],
  read: (t: TrackedProblem) => Promise<T>, resolved: (found: T, t: TrackedProblem) => NewNotification | undefined): Promise<void> {
  const { deps, memory, signal } = ctx
  for (const t of unlisted.slice(0, MAX_STATUS_READS)) {
    let found: T
    try {
      found = await read(t)
    } catch (err) {
      if (signal.aborted) throw err
      unreadable(deps, memory, counts, t.problemId, err, `a ${what} tracked as open is not in the listing and`)
      continue
    }
    memory.unreadable.delete(t.problemId)
    const n = resolved(found, t)
    if (n === undefined) {
      counts.stillOpen++
      continue
    }
    await take(deps, n, counts, 'resolved', t.occurrence)
  }
  if (unlisted.length > MAX_STATUS_READS) deps.log.warn({ missing: unlisted.length }, `more than ${MAX_STATUS_READS} ${what}s tracked as open are not listed: the rest are read in a later pass`)
}

/** What a kind's reconciliation is given for one pass. */
export interface ReconcileContext {
  readonly deps: PassDeps
  readonly horizon: number
  readonly memory: PassMemory
  readonly signal: AbortSignal
}
