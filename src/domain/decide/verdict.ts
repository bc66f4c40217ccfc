/**
 * Verification and the ladder (SPEC sections 5 and 8). Pure decisions:
 *
 * - after a step ends: `succeeded` or `dry_run` → verify `verifyAfter` later; skipped by the action
 *   itself (nothing to do) → the next step at once; anything else (failed, a gate's skip, no
 *   target, cancelled, expired) → the ladder stops;
 * - at verification: closed → `resolved`; read as open → `unresolved` and the next step, if any;
 *   the status could not be read → `unknown`, and the ladder stops (only a problem read as open
 *   escalates). A RESOLVED before `verifyAfter` gives the resolved verdict at once.
 */
import type { RunState, Verdict } from '../runs.js'
import { humanDuration } from '../rules/duration.js'

/** Why a run was skipped: by the action (nothing to do), by a gate, or for want of a target. */
export type SkipSource = 'action' | 'gate' | 'target'

export type AfterStep =
  | { readonly next: 'verify' }
  | { readonly next: 'step', readonly note: string }
  | { readonly next: 'stop', readonly note: string }

/** Pure: what follows a step that ended in `state`. */
export function afterStep (state: RunState, skipSource: SkipSource | null, hasNextStep: boolean): AfterStep {
  if (state === 'succeeded' || state === 'dry_run') return { next: 'verify' }
  if (state === 'skipped' && skipSource === 'action') {
    return hasNextStep ? { next: 'step', note: 'the action had nothing to do: the next step runs at once' } : { next: 'stop', note: 'the action had nothing to do, and this was the last step' }
  }
  const why = state === 'skipped' && skipSource === 'gate' ? 'a safety gate skipped it' : state === 'skipped' ? 'it had no target' : `it ended ${state}`
  return { next: 'stop', note: `the ladder stops: ${why}` }
}

export type ProblemStatus = 'open' | 'closed' | 'unreadable'

export interface VerdictDecision {
  readonly verdict: Verdict
  readonly escalate: boolean
  readonly note: string
}

/** Pure: the verdict for a status read at verification time (or a RESOLVED that came first). */
export function decideVerdict (status: ProblemStatus, hasNextStep: boolean, waitedMs: number): VerdictDecision {
  const after = humanDuration(waitedMs)
  if (status === 'closed') return { verdict: 'resolved', escalate: false, note: `the problem was resolved ${after} after the action` }
  if (status === 'unreadable') return { verdict: 'unknown', escalate: false, note: `the problem status could not be read ${after} after the action; the ladder stops` }
  return {
    verdict: 'unresolved',
    escalate: hasNextStep,
    note: hasNextStep ? `the problem is still open ${after} after the action: escalating to the next step` : `the problem is still open ${after} after the action, and this was the last step`,
  }
}
