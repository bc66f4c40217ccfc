/**
 * Reconciling problems (SPEC 8, pass.ts): the open ones listed, taken in when no notification
 * brought them; those tracked open that the listing leaves out read on their own, and taken in
 * as RESOLVED when the API says CLOSED.
 */
import { criterion } from '../../dynatrace/selectors.js'
import { problemBody, reconciledNotification } from './body.js'
import { awaitingPlan, byId, closeUnlisted, listingFrom, MAX_LISTED, MAX_TRACKED, take, wanted, zero, type KindReport, type ReconcileContext } from './take.js'

export async function reconcileProblems (ctx: ReconcileContext): Promise<KindReport | undefined> {
  const { deps, horizon, signal } = ctx
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
  await closeUnlisted(ctx, counts, 'problem', trackedList.filter((t) => !listed.has(t.problemId)),
    async (t) => dt.getProblem(t.problemId, signal),
    (problem, t) => (problem.status === 'CLOSED' ? reconciledNotification('problem', problemBody(problem, 'RESOLVED', t.occurrence, href), deps.clock.now()) : undefined))
  return counts
}
