/**
 * Reconciling security problems (SPEC 8, pass.ts): like problems, from the Security Problems
 * API; a muted one is left alone, and the details (the affected entities) of those taken in are
 * read on their own.
 */
import { criterion } from '../../dynatrace/selectors.js'
import type { SecurityProblemDetails } from '../../dynatrace/schemas.js'
import { reconciledNotification, securityBody } from './body.js'
import { awaitingPlan, byId, closeUnlisted, listingFrom, MAX_LISTED, MAX_TRACKED, take, unreadable, wanted, zero, type KindReport, type ReconcileContext } from './take.js'

export async function reconcileSecurity (ctx: ReconcileContext): Promise<KindReport | undefined> {
  const { deps, horizon, memory, signal } = ctx
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
  await closeUnlisted(ctx, counts, 'security problem', trackedList.filter((t) => !listed.has(t.problemId)),
    async (t) => {
      const found = /^S-\d+$/i.test(t.problemId) ? await dt.findSecurityProblemByDisplayId(t.problemId, signal) : { securityProblemId: t.problemId }
      if (found === undefined) throw new Error(`Dynatrace lists no security problem ${t.problemId}`)
      return dt.getSecurityProblem(found.securityProblemId, signal)
    },
    (details, t) => (details.status === 'RESOLVED' ? reconciledNotification('security', securityBody(details, details, t.occurrence, href), deps.clock.now(), true) : undefined))
  return counts
}
