/**
 * One comment for many runs with the same outcome (issue 19 item 6): a problem with 500 impacted
 * entities and no target for any of them gets one "skipped for 500 entities" comment, not 500.
 * Pure; the runs are grouped by rule, step, action and state, and the comment carries the marker
 * of the group's first run (the write-back is that run's result, standing for the group).
 */
import type { CommentRun } from './result.js'
import { resultMarker } from './result.js'
import { kindOf } from '../kinds/index.js'

/** Groups of at least this many runs get one summary comment; smaller ones a comment each. */
export const SUMMARY_MIN_RUNS = 3
/** Entity ids and distinct reasons a summary lists before "and N more". */
const LISTED = 10

/** Pure: the key two runs share when one comment can say both their outcomes. */
export const outcomeGroupKey = (run: Pick<CommentRun, 'rule' | 'step' | 'action' | 'state' | 'dryRun'>): string =>
  JSON.stringify([run.rule, run.step, run.action, run.state, run.dryRun])

/**
 * Pure: whether a run planning ended may share a summary comment: a problem's skipped or failed
 * run. A security problem has no comment API; its runs' events stay one per run.
 */
export const summarisable = (r: Pick<CommentRun, 'kind' | 'state'>): boolean => kindOf(r.kind).writeBack === 'comment' && (r.state === 'skipped' || r.state === 'failed')

/** Pure: a value from Dynatrace or a rule, made inert inside Markdown inline code. */
const code = (value: string): string => `\`${value.replace(/[`\r\n]/g, ' ')}\``

/** Pure: the summary comment of runs sharing rule, step, action and state (at least one). */
export function summaryComment (runs: readonly CommentRun[], steps: number): string {
  const first = runs[0]
  if (first === undefined) throw new Error('a summary needs at least one run')
  const reasons = new Map<string, number>()
  for (const r of runs) reasons.set(r.reason ?? '', (reasons.get(r.reason ?? '') ?? 0) + 1)
  const byCount = [...reasons.entries()].sort((a, b) => b[1] - a[1])
  const ids = runs.map((r) => r.entityId)
  return [
    `${first.state === 'failed' ? '❌' : '⏭️'} ${first.action} ${first.state.replace('_', ' ')} for ${runs.length} entities of problem ${first.displayId ?? first.problemId}`,
    '',
    ...byCount.slice(0, LISTED).map(([reason, n]) => `- ${n} × ${reason.replace(/[\r\n]+/g, ' ')}`),
    ...(byCount.length > LISTED ? [`- and ${byCount.length - LISTED} other reasons`] : []),
    '',
    `- **Rule:** ${first.rule} (step ${first.step + 1} of ${steps})`,
    `- **Mode:** ${first.dryRun ? 'dry run — no change was made' : 'live'}`,
    `- **Entities:** ${ids.slice(0, LISTED).map(code).join(', ')}${ids.length > LISTED ? ` and ${ids.length - LISTED} more` : ''}`,
    '',
    resultMarker(first.id),
  ].join('\n')
}
