/**
 * Reconciling security problems (SPEC 8, pass.ts): like problems, from the Security Problems
 * API; a muted one is left alone, and the details (the affected entities) of those taken in are
 * read on their own.
 */
import { criterion } from '../../dynatrace/selectors.js'
import type { SecurityProblemDetails } from '../../dynatrace/schemas.js'
import { reconciledNotification, securityBody } from './body.js'
import { awaitingPlan, byId, listingFrom, MAX_LISTED, MAX_STATUS_READS, MAX_TRACKED, take, unreadable, wanted, zero, type KindReport, type ReconcileContext } from './take.js'

export async function reconcileSecurity ({ deps, horizon, memory, signal }: ReconcileContext): Promise<KindReport | undefined> {
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
