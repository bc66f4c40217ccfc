/**
 * Runs (SPEC section 8): one action on one target (or once per occurrence for an action without a
 * target), for one rule and ladder step of one problem occurrence. The vocabulary of their states,
 * which transitions are allowed, and the shape every reader sees (the admin API's `Run`, the
 * comments, the logs). Pure.
 */
import { z } from 'zod'
import { outcomeSchema } from './outcome.js'
import { targetSchema } from './target.js'

export const RUN_STATES = ['planned', 'awaiting_approval', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'dry_run', 'cancelled', 'expired'] as const
export type RunState = (typeof RUN_STATES)[number]

/** States a run never leaves. */
export const FINAL_STATES: ReadonlySet<RunState> = new Set(['succeeded', 'failed', 'skipped', 'dry_run', 'cancelled', 'expired'])
/** States in which nothing has been done to the target yet: a RESOLVED cancels these. */
export const NOT_STARTED_STATES: ReadonlySet<RunState> = new Set(['planned', 'awaiting_approval', 'queued'])

/**
 * Which state may follow which: the one state machine every move is checked against (the store
 * refuses any other, on both engines). The moves the runner makes:
 * - planned → anything planning can end in (queued, skipped, failed when its parameters have no
 *   value, dry_run, cancelled);
 * - queued → running (admission), awaiting_approval, skipped (a gate), cancelled (a RESOLVED, a
 *   closed problem), failed (its action is no longer registered);
 * - running → running is a resume after an interruption (the next attempt, same plan), running →
 *   queued a retry after a retryable fault; running → failed also when its action is gone;
 * - awaiting_approval → queued (approved), cancelled (rejected, resolved), expired, skipped.
 */
const NEXT: Readonly<Record<RunState, readonly RunState[]>> = {
  planned: ['queued', 'awaiting_approval', 'skipped', 'failed', 'cancelled', 'dry_run'],
  awaiting_approval: ['queued', 'cancelled', 'expired', 'skipped'],
  queued: ['running', 'skipped', 'cancelled', 'awaiting_approval', 'dry_run', 'failed'],
  running: ['running', 'succeeded', 'failed', 'skipped', 'dry_run', 'queued', 'cancelled'],
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

/** Pure: the states of `from` that may not move to `to` (empty when the move is legal from each). */
export function illegalFrom (from: readonly RunState[], to: RunState): RunState[] {
  return from.filter((f) => !canTransition(f, to))
}

export const VERDICTS = ['resolved', 'unresolved', 'unknown'] as const
export type Verdict = (typeof VERDICTS)[number]

const isoTime = z.string().meta({ description: 'ISO 8601 time', example: '2024-05-01T10:15:42.000Z' })

const verificationSchema = z.object({
  verdict: z.enum(VERDICTS),
  at: isoTime,
  note: z.string(),
}).readonly()
export type Verification = z.output<typeof verificationSchema>

const timelineEntrySchema = z.object({
  at: isoTime,
  state: z.enum(RUN_STATES),
  note: z.string(),
}).readonly()
export type TimelineEntry = z.output<typeof timelineEntrySchema>

/** The run as the admin API answers it (SPEC section 11), and as comments and logs describe it. */
export const runSchema = z.object({
  id: z.string(),
  state: z.enum(RUN_STATES),
  reason: z.string().nullable(),
  kind: z.enum(['problem', 'security']),
  problemId: z.string(),
  displayId: z.string().nullable(),
  entityId: z.string().meta({ description: 'The impacted entity, or * for an action without a target' }),
  rule: z.string(),
  action: z.string(),
  step: z.int().nonnegative().meta({ description: '0-based index into the rule\'s ladder' }),
  target: targetSchema.nullable(),
  dryRun: z.boolean(),
  approvedBy: z.string().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
  timeline: z.array(timelineEntrySchema).readonly(),
  outcome: outcomeSchema.nullable(),
  verification: verificationSchema.nullable(),
  occurrence: z.int().positive(),
  attempts: z.int().nonnegative(),
}).readonly().meta({ id: 'Run' })
export type Run = z.output<typeof runSchema>
