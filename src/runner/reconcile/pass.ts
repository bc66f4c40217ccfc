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
 *
 * Each kind lists itself (its runner module in src/runner/kinds/: problems.ts, security.ts
 * here); a pass runs them one after the other. The shared parts are in take.ts.
 */
import { RUNNER_KINDS } from '../kinds/index.js'
import type { RunnerDeps } from '../deps.js'
import type { KindReport, PassDeps, PassMemory } from './take.js'

export { TRACKED_LOOKBACK_MS } from './take.js'
export type { KindReport, PassDeps, PassMemory } from './take.js'

export interface PassReport {
  readonly horizon: number
  /** Each kind's, by its report name (`problems`, `security`); undefined when it was not listed. */
  readonly kinds: Readonly<Record<string, KindReport | undefined>>
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

/** One pass over every kind. Throws when a listing fails (the pass is then a failure, tried again next interval). */
export async function reconcileOnce (deps: PassDeps, signal: AbortSignal, memory: PassMemory = { unreadable: new Set() }): Promise<PassReport> {
  const horizon = memory.horizon ?? await reconcileHorizon(deps)
  memory.horizon = horizon
  const ctx = { deps, horizon, memory, signal }
  const kinds: Record<string, KindReport | undefined> = {}
  for (const kind of RUNNER_KINDS) kinds[kind.reportName] = await kind.reconcile(ctx)
  return { horizon, kinds }
}
