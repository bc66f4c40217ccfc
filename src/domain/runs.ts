/**
 * Runs (SPEC section 8): one action on one target (or once per occurrence for an action without a
 * target), for one rule and ladder step of one problem occurrence. The vocabulary of their states,
 * which transitions are allowed, and the shape every reader sees (the admin API's `Run`, the
 * comments, the logs). Pure.
 */
import type { Outcome } from './outcome.js'
import type { NotificationKind } from './payload.js'
import type { Target } from './target.js'

export const RUN_STATES = ['planned', 'awaiting_approval', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'dry_run', 'cancelled', 'expired'] as const
export type RunState = (typeof RUN_STATES)[number]

/** States a run never leaves. */
export const FINAL_STATES: ReadonlySet<RunState> = new Set(['succeeded', 'failed', 'skipped', 'dry_run', 'cancelled', 'expired'])
/** States in which nothing has been done to the target yet: a RESOLVED cancels these. */
export const NOT_STARTED_STATES: ReadonlySet<RunState> = new Set(['planned', 'awaiting_approval', 'queued'])

/** Which state may follow which. `running` → `queued` is a retry after a retryable fault. */
const NEXT: Readonly<Record<RunState, readonly RunState[]>> = {
  planned: ['queued', 'awaiting_approval', 'skipped', 'cancelled', 'dry_run'],
  awaiting_approval: ['queued', 'cancelled', 'expired', 'skipped'],
  queued: ['running', 'skipped', 'cancelled', 'awaiting_approval', 'dry_run'],
  running: ['succeeded', 'failed', 'skipped', 'dry_run', 'queued', 'cancelled'],
  succeeded: [],
  failed: [],
  skipped: [],
  dry_run: [],
  cancelled: [],
  expired: [],
}

/** Pure: whether a run in `from` may move to `to`. */
export function canTransition (from: RunState, to: RunState): boolean {
  return NEXT[from].includes(to)
}

export const VERDICTS = ['resolved', 'unresolved', 'unknown'] as const
export type Verdict = (typeof VERDICTS)[number]

export interface Verification {
  readonly verdict: Verdict
  /** ISO 8601. */
  readonly at: string
  readonly note: string
}

export interface TimelineEntry {
  /** ISO 8601. */
  readonly at: string
  readonly state: RunState
  readonly note: string
}

/** The run as the admin API answers it (SPEC section 11) and as comments and logs describe it. */
export interface Run {
  readonly id: string
  readonly state: RunState
  readonly reason: string | null
  readonly kind: NotificationKind
  readonly problemId: string
  readonly displayId: string | null
  readonly entityId: string
  readonly rule: string
  readonly action: string
  /** 0-based index into the rule's ladder. */
  readonly step: number
  readonly target: Target | null
  readonly dryRun: boolean
  readonly approvedBy: string | null
  readonly createdAt: string
  readonly updatedAt: string
  readonly timeline: readonly TimelineEntry[]
  readonly outcome: Outcome | null
  readonly verification: Verification | null
  readonly occurrence: number
  readonly attempts: number
}
