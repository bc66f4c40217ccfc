/**
 * What an OPEN or a RESOLVED notification means for a problem we track (SPEC section 8). Pure:
 * given what the store remembers of the problem and what the Problems API says now, decide.
 *
 * - An OPEN for a problem we have not seen opens occurrence 1; for an open one it is a resend or
 *   an event merge of the same occurrence (the run keys make it plan nothing new).
 * - An OPEN for a problem last seen closed plans nothing — unless Dynatrace re-opened it (it does,
 *   within 30 minutes, under the same id): the Problems API shows it open again, or a Gen 3
 *   workflow's `dt.davis.last_reopen_timestamp` is later than our close. That is occurrence n+1,
 *   which the gates judge afresh.
 * - With the Problems API at hand, a problem it shows closed plans nothing: it is resolved.
 * - A RESOLVED closes the open occurrence; for a problem we never saw it records the closed
 *   problem, so a late OPEN is recognised as one.
 */

export interface ProblemRecord {
  /** 1 for the first open period. */
  readonly occurrence: number
  readonly status: 'open' | 'closed'
  /** ms epoch of our close, when closed. */
  readonly closedAt: number | null
}

/** What the Problems API said just now: undefined when there is no Dynatrace URL configured. */
export type ApiStatus = 'open' | 'closed' | 'unreadable' | undefined

export type OpenDecision =
  | { readonly action: 'plan', readonly occurrence: number, readonly reopened: boolean, readonly note: string }
  | { readonly action: 'resolve', readonly occurrence: number, readonly note: string }
  | { readonly action: 'ignore', readonly note: string }

export type ResolvedDecision =
  | { readonly action: 'resolve', readonly occurrence: number, readonly note: string }
  | { readonly action: 'ignore', readonly note: string }

/** Pure: what to do with an OPEN. `reopenedAt` is a Gen 3 workflow's last re-open time (ms), if sent. */
export function decideOpen (record: ProblemRecord | undefined, api: ApiStatus, reopenedAt?: number): OpenDecision {
  const unreadable = api === 'unreadable' ? '; the Problems API could not be read, so the status will be checked again before any action' : ''
  if (record === undefined) {
    if (api === 'closed') return { action: 'resolve', occurrence: 1, note: 'the Problems API shows the problem closed already: nothing is planned' }
    return { action: 'plan', occurrence: 1, reopened: false, note: `problem opened${unreadable}` }
  }
  if (record.status === 'open') {
    if (api === 'closed') return { action: 'resolve', occurrence: record.occurrence, note: 'the Problems API shows the problem closed: treated as RESOLVED' }
    return { action: 'plan', occurrence: record.occurrence, reopened: false, note: `problem still open (occurrence ${record.occurrence})${unreadable}` }
  }
  const byWorkflow = reopenedAt !== undefined && record.closedAt !== null && reopenedAt > record.closedAt
  if (api === 'open' || (byWorkflow && api !== 'closed')) {
    const why = api === 'open' ? 'the Problems API shows it open again' : 'the workflow reports a re-open after our close'
    return { action: 'plan', occurrence: record.occurrence + 1, reopened: true, note: `problem re-opened (${why}): occurrence ${record.occurrence + 1}` }
  }
  const check = api === undefined ? 'without DTR_DYNATRACE_URL a re-open cannot be confirmed' : api === 'closed' ? 'the Problems API shows it closed' : 'the Problems API could not be read'
  return { action: 'ignore', note: `OPEN after the problem was resolved: nothing is planned (${check})` }
}

/**
 * Pure: what to do with a RESOLVED. `closes` is the occurrence it was meant for, when known:
 * reconciliation saw that one closed in the Problems API, and a later occurrence opened since
 * (a re-open notified meanwhile) is not closed by it.
 */
export function decideResolved (record: ProblemRecord | undefined, closes?: number): ResolvedDecision {
  if (record === undefined) return { action: 'resolve', occurrence: closes ?? 1, note: 'RESOLVED for a problem not seen open: recorded as closed' }
  if (record.status === 'closed') return { action: 'ignore', note: `already resolved (occurrence ${record.occurrence})` }
  if (closes !== undefined && closes !== record.occurrence) return { action: 'ignore', note: `seen closed as occurrence ${closes}, but occurrence ${record.occurrence} is the current one: left open` }
  return { action: 'resolve', occurrence: record.occurrence, note: `problem resolved (occurrence ${record.occurrence})` }
}

/**
 * Pure: whether the record read under the lock, as the decision commits, still supports a
 * decision made from `seen` (the record as read before the Problems API was): unchanged, or,
 * for a plan, its occurrence open. Anything else (a RESOLVED handled, a re-open decided
 * elsewhere) means the OPEN must be judged again from fresh reads: the API's answer may be
 * older than the change, and judged against the new record it could re-open a closed problem.
 */
export function decisionHolds (seen: ProblemRecord | undefined, locked: ProblemRecord | undefined, decision: OpenDecision): boolean {
  if (decision.action === 'plan' && locked?.status === 'open' && locked.occurrence === decision.occurrence) return true
  if (seen === undefined || locked === undefined) return seen === locked
  return seen.occurrence === locked.occurrence && seen.status === locked.status && seen.closedAt === locked.closedAt
}
