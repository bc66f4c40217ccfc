/**
 * Every message dt-remediator writes to Dynatrace (SPEC section 10), rendered here and nowhere
 * else: a run's result, its verification's verdict, an approval request, and the one summary of
 * many runs planning ended alike. Pure: given the message, returns what goes in the outbox — its
 * key (once per run and message), its marker (how a write-back that may or may not have landed is
 * found before it is posted again) and its channel: a Markdown comment on a problem, or, for a
 * security problem, which has no comment API, a CUSTOM_INFO event. That choice is made once, here.
 *
 * To change what a message says, change its renderer (./result.ts, ./approval.ts, ./summary.ts,
 * ./next.ts); the snapshot tests under test/domain/writeback show every text.
 */
import type { Verification } from '../runs.js'
import { approvalComment, approvalEvent, approvalMarker, type ApprovalRequest } from './approval.js'
import { resultComment, resultEvent, resultMarker, verdictComment, verdictEvent, verdictMarker, type CommentContext, type CommentRun, type IngestEvent } from './result.js'
import { summaryComment } from './summary.js'
import { kindOf } from '../kinds/index.js'

export type { ApprovalRequest } from './approval.js'
export type { CommentContext, CommentRun, IngestEvent } from './result.js'
export { NEXT_RESOLVED, nextAfterStep, nextStep } from './next.js'
export { outcomeGroupKey, SUMMARY_MIN_RUNS, summarisable } from './summary.js'

export type WriteBackMessage =
  | { readonly type: 'result', readonly run: CommentRun, readonly ctx: CommentContext }
  | { readonly type: 'verdict', readonly run: CommentRun, readonly verification: Verification, readonly steps: number, readonly next: string | undefined }
  | { readonly type: 'approval', readonly run: CommentRun, readonly request: ApprovalRequest }
  /** Runs sharing rule, step, action and state (`outcomeGroupKey`), all `summarisable`: the first run's result stands for them. */
  | { readonly type: 'summary', readonly runs: readonly [CommentRun, ...CommentRun[]], readonly steps: number }

export type RenderedWriteBack = {
  /** The outbox key: `result:<run>`, `verdict:<run>`, `approval:<run>`. */
  readonly key: string
  readonly runId: string
  readonly marker: string
} & ({ readonly channel: 'comment', readonly message: string } | { readonly channel: 'event', readonly event: IngestEvent })

type Message<T extends WriteBackMessage['type']> = Extract<WriteBackMessage, { type: T }>

interface Renderer<M extends WriteBackMessage> {
  readonly marker: (runId: string) => string
  readonly comment: (m: M) => string
  /** Absent: the message is a comment whatever the kind (a summary: only problems' runs are summarised). */
  readonly event?: (m: M) => IngestEvent
}

/** One entry per message: its marker, its comment, its event. */
const RENDERERS: { readonly [T in WriteBackMessage['type']]: Renderer<Message<T>> } = {
  result: { marker: resultMarker, comment: (m) => resultComment(m.run, m.ctx), event: (m) => resultEvent(m.run, m.ctx) },
  verdict: { marker: verdictMarker, comment: (m) => verdictComment(m.run, m.verification, { steps: m.steps, next: m.next }), event: (m) => verdictEvent(m.run, m.verification) },
  approval: { marker: approvalMarker, comment: (m) => approvalComment(m.run, m.request), event: (m) => approvalEvent(m.run) },
  // The summary is the first run's result write-back, standing for the group: its key and marker.
  summary: { marker: resultMarker, comment: (m) => summaryComment(m.runs, m.steps) },
}

/** Pure: what a message is written back as (see the module comment). */
export function renderWriteBack (m: WriteBackMessage): RenderedWriteBack {
  const run = m.type === 'summary' ? m.runs[0] : m.run
  // TypeScript cannot correlate RENDERERS[m.type] with m's own type (a union, not a generic): the table's type guarantees it.
  const r = RENDERERS[m.type] as Renderer<WriteBackMessage>
  const head = { key: `${m.type === 'summary' ? 'result' : m.type}:${run.id}`, runId: run.id, marker: r.marker(run.id) }
  if (kindOf(run.kind).writeBack === 'event' && r.event !== undefined) return { ...head, channel: 'event', event: r.event(m) }
  return { ...head, channel: 'comment', message: r.comment(m) }
}
