/**
 * What one attempt of an action ended with (SPEC section 7). Outcomes are values; exceptions are
 * faults (a TerminalError from src/errors.ts means "do not retry").
 */

import { z } from 'zod'

const details = z.record(z.string(), z.unknown()).optional()

export const outcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('succeeded'), summary: z.string(), details }).readonly(),
  z.object({ status: z.literal('skipped'), reason: z.string(), details }).readonly(),
  z.object({ status: z.literal('failed'), summary: z.string(), details }).readonly(),
])

export type Outcome = z.output<typeof outcomeSchema>

export type OutcomeStatus = Outcome['status']

/** Pure: the one line an outcome is summed up by (summary, or the skip's reason). */
export function outcomeLine (outcome: Outcome): string {
  return outcome.status === 'skipped' ? outcome.reason : outcome.summary
}
