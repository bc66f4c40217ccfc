/** The "Next:" line of a result or verdict comment: what follows the step (SPEC 5 and 8). */
import type { AfterStep } from '../decide/verdict.js'
import { humanDuration } from '../rules/duration.js'

/** What follows a run the problem's resolution cancelled. */
export const NEXT_RESOLVED = 'nothing: the problem is resolved'

/** Pure: the next step, as a comment names it: `kubernetes.scale (step 2)`. */
export const nextStep = (step: number, nextAction: string | undefined): string => `${nextAction ?? 'the next step'} (step ${step + 2})`

/** Pure: the "Next:" line after a step ended, given what follows it (`afterStep`). */
export function nextAfterStep (after: AfterStep, o: { step: number, hasNext: boolean, nextAction: string | undefined, verifyAfterMs: number }): string {
  if (after.next === 'verify') return `verifying in ${humanDuration(o.verifyAfterMs)}${o.hasNext ? `; if the problem is still open, ${o.nextAction ?? 'the next step'} (step ${o.step + 2})` : ''}`
  if (after.next === 'step') return `${after.note} (${o.nextAction ?? 'the next step'}, step ${o.step + 2})`
  return after.note
}
