/**
 * What one attempt of an action ended with (SPEC section 7). Outcomes are values; exceptions are
 * faults (a TerminalError from src/errors.ts means "do not retry").
 */

export type Outcome =
  | { readonly status: 'succeeded', readonly summary: string, readonly details?: Record<string, unknown> }
  | { readonly status: 'skipped', readonly reason: string, readonly details?: Record<string, unknown> }
  | { readonly status: 'failed', readonly summary: string, readonly details?: Record<string, unknown> }

export type OutcomeStatus = Outcome['status']

/** Pure: the one line an outcome is summed up by (summary, or the skip's reason). */
export function outcomeLine (outcome: Outcome): string {
  return outcome.status === 'skipped' ? outcome.reason : outcome.summary
}
