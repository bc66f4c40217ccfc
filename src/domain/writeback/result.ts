/**
 * A run's result and its verification's verdict (SPEC section 10), rendered purely from the run: a
 * Markdown problem comment, and, for security problems (which have no comment API), the title and
 * properties of a CUSTOM_INFO event. Which of the two goes out is chosen once, in ./index.ts.
 *
 * The first line says outcome, action and target, e.g.
 * `✅ kubernetes.rollback succeeded on Deployment shop/checkout`; then what changed, the rule, the
 * trigger, dry-run or live, duration and attempts, who approved, and the marker line. The marker
 * (`dt-remediator run <id>`, `dt-remediator verdict <id>`) is how a write-back that may or may
 * not have landed is found before it is posted again, so each kind of message has its own.
 */
import { outcomeLine, type Outcome } from '../outcome.js'
import type { Run, RunState, Verification } from '../runs.js'
import { describeTarget } from '../target.js'
import { problemLabel } from './label.js'
import { humanDuration } from '../rules/duration.js'

export type CommentRun = Pick<Run, 'id' | 'state' | 'reason' | 'kind' | 'problemId' | 'displayId' | 'entityId' | 'rule' | 'action' | 'step' | 'target' | 'dryRun' | 'approvedBy' | 'attempts' | 'outcome' | 'occurrence'>

export interface CommentContext {
  /** Steps in the rule's ladder. */
  readonly steps: number
  readonly entityName?: string | undefined
  /** The deployment event the rule matched, and how long before the problem started. */
  readonly trigger?: { readonly title: string, readonly beforeProblemMs: number } | undefined
  readonly durationMs?: number | undefined
  /** How the problem reached us; only reconciliation is worth saying. */
  readonly foundBy?: 'webhook' | 'reconcile' | undefined
  /** What happens next: "verifying in 10 min", "the ladder stops: …". */
  readonly next?: string | undefined
  /** A dry run's gate report: what would have stopped it live ("would be skipped by cooldown: …"). */
  readonly gates?: string | undefined
}

const ICON: Readonly<Record<RunState, string>> = {
  planned: '📝',
  awaiting_approval: '⏸️',
  queued: '⏳',
  running: '⚙️',
  succeeded: '✅',
  failed: '❌',
  skipped: '⏭️',
  dry_run: '🧪',
  cancelled: '🚫',
  expired: '⌛',
}

const WORD: Readonly<Record<RunState, string>> = {
  planned: 'planned',
  awaiting_approval: 'awaiting approval',
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  skipped: 'skipped',
  dry_run: 'dry run',
  cancelled: 'cancelled',
  expired: 'expired',
}

export const resultMarker = (runId: string): string => `dt-remediator run ${runId}`
export const verdictMarker = (runId: string): string => `dt-remediator verdict ${runId}`

/** Pure: `on Deployment shop/checkout`, or what the run is for when it has no target. */
function subject (run: CommentRun, ctx: CommentContext): string {
  if (run.target !== null) return `on ${describeTarget(run.target)}`
  if (run.entityId === '*') return `for ${problemLabel(run)}`
  return `for ${run.entityId}${ctx.entityName === undefined ? '' : ` (${ctx.entityName})`}`
}

/** Pure: the outcome's one line (summary or reason), or the run's reason. */
function summaryOf (run: CommentRun): string {
  const outcome: Outcome | null = run.outcome
  if (outcome !== null) return outcomeLine(outcome)
  return run.reason ?? ''
}

function details (run: CommentRun, ctx: CommentContext): string[] {
  const lines = [`- **Rule:** ${run.rule} (step ${run.step + 1} of ${ctx.steps})`]
  if (ctx.trigger !== undefined) lines.push(`- **Trigger:** deployment event "${ctx.trigger.title}", ${humanDuration(ctx.trigger.beforeProblemMs)} before the problem started`)
  lines.push(`- **Mode:** ${run.dryRun ? 'dry run — no change was made' : 'live'}`)
  if (ctx.gates !== undefined) lines.push(`- **Gates:** ${ctx.gates}`)
  if (ctx.durationMs !== undefined) lines.push(`- **Duration:** ${humanDuration(ctx.durationMs)}, ${run.attempts} ${run.attempts === 1 ? 'attempt' : 'attempts'}`)
  if (run.approvedBy !== null) lines.push(`- **Approved by:** ${run.approvedBy}`)
  if (ctx.foundBy === 'reconcile') lines.push('- **Found by:** reconciliation with the Problems API (no notification reached dt-remediator)')
  if (run.occurrence > 1) lines.push(`- **Occurrence:** ${run.occurrence} (the problem was re-opened)`)
  if (ctx.next !== undefined) lines.push(`- **Next:** ${ctx.next}`)
  return lines
}

/** Pure: the result comment of a run. */
export function resultComment (run: CommentRun, ctx: CommentContext): string {
  const dry = run.state === 'dry_run' ? ' (no change made)' : ''
  return [
    `${ICON[run.state]} ${run.action} ${WORD[run.state]} ${subject(run, ctx)}${dry}`,
    '',
    summaryOf(run),
    '',
    ...details(run, ctx),
    '',
    resultMarker(run.id),
  ].join('\n')
}

const VERDICT_ICON = { resolved: '✔️', unresolved: '⚠️', unknown: '❔' } as const
const VERDICT_WORD = { resolved: 'Resolved', unresolved: 'Not resolved', unknown: 'Unknown' } as const

/** Pure: the verdict comment of a run's verification. */
export function verdictComment (run: CommentRun, verification: Verification, ctx: Pick<CommentContext, 'steps' | 'next'>): string {
  return [
    `${VERDICT_ICON[verification.verdict]} ${VERDICT_WORD[verification.verdict]} after ${run.action} ${subject(run, { steps: ctx.steps })}`,
    '',
    `Verification: ${verification.note}.`,
    '',
    `- **Rule:** ${run.rule} (step ${run.step + 1} of ${ctx.steps})`,
    ...(ctx.next === undefined ? [] : [`- **Next:** ${ctx.next}`]),
    '',
    verdictMarker(run.id),
  ].join('\n')
}

export interface IngestEvent {
  readonly title: string
  readonly properties: Readonly<Record<string, string>>
}

/** Pure: the CUSTOM_INFO event of a security run's verdict: the event carries what the comment would. */
export function verdictEvent (run: Pick<CommentRun, 'id' | 'action'>, verification: Verification): IngestEvent {
  return {
    title: `dt-remediator: ${run.action} verified ${verification.verdict}`,
    properties: { 'dt-remediator.run': run.id, 'dt-remediator.verdict': verification.verdict, 'dt-remediator.note': verification.note },
  }
}

/** Dynatrace's limits for event properties: a value is cut, never refused. */
const MAX_VALUE = 4096

/** Pure: the CUSTOM_INFO event of a security run's result (SPEC 10), with the run id among its properties. */
export function resultEvent (run: CommentRun, ctx: CommentContext): IngestEvent {
  const properties: Record<string, string> = {
    'dt-remediator.run': run.id,
    'dt-remediator.outcome': run.state,
    'dt-remediator.action': run.action,
    'dt-remediator.rule': run.rule,
    'dt-remediator.step': String(run.step + 1),
    'dt-remediator.mode': run.dryRun ? 'dry-run' : 'live',
    'dt-remediator.summary': summaryOf(run).slice(0, MAX_VALUE),
    'dt-remediator.securityProblem': run.displayId ?? run.problemId,
  }
  if (run.target !== null) properties['dt-remediator.target'] = describeTarget(run.target)
  if (run.approvedBy !== null) properties['dt-remediator.approvedBy'] = run.approvedBy
  if (ctx.foundBy === 'reconcile') properties['dt-remediator.foundBy'] = 'reconciliation with the Security Problems API (no notification reached dt-remediator)'
  if (ctx.durationMs !== undefined) properties['dt-remediator.durationMs'] = String(ctx.durationMs)
  return { title: `dt-remediator: ${run.action} ${WORD[run.state]}`, properties }
}
