/**
 * The effectiveness report (SPEC 11, `GET /api/report`, `dt-remediator report`): per rule, action
 * and mode, the runs by state, the verdicts, and the time from the action to the problem's
 * resolution. Live runs give the time to resolve *with* the action; dry-run runs give it
 * *without* (nothing was changed), the shadow baseline a team compares against before it flips a
 * rule to live.
 *
 * Pure: given the runs (as the store or anyone else reads them) and the window, returns the
 * report. The clock starts at the run's start (`running`; for a dry run, when it was evaluated)
 * and stops at the problem's resolution (its `endTime` when known, else when the RESOLVED or a
 * closed reading arrived). Only runs that ended `succeeded` (live) or `dry_run` (dry-run) and whose
 * problem resolved count; percentiles are nearest-rank.
 */
import type { RunState } from './runs.js'

export type ReportMode = 'live' | 'dry-run'
export type ReportVerdict = 'resolved' | 'unresolved' | 'unknown'

/** What the report needs to know of one run. */
export interface ReportRun {
  readonly rule: string
  readonly action: string
  readonly dryRun: boolean
  readonly state: RunState
  /** The verification's verdict, if verified. */
  readonly verdict: ReportVerdict | null
  /** ms epoch: when it reached `running` (or, dry, was evaluated); null if it never did. */
  readonly startedAt: number | null
  /** ms epoch: when the problem resolved, if it has. */
  readonly resolvedAt: number | null
}

export interface ReportRow {
  readonly rule: string
  readonly action: string
  readonly mode: ReportMode
  /** Runs by state; only the states that occurred. */
  readonly runs: Readonly<Record<string, number>>
  readonly verdicts: { readonly resolved: number, readonly unresolved: number, readonly unknown: number }
  readonly timeToResolveSeconds: { readonly n: number, readonly p50: number | null, readonly p90: number | null }
}

export interface Report {
  /** ISO 8601: the window's start (runs that started, or were created, from here). */
  readonly since: string
  readonly until: string
  readonly rows: readonly ReportRow[]
}

/** Fewer runs than this in a row's time to resolve: too few to compare live against dry-run. */
export const MIN_RUNS_TO_COMPARE = 10

/** Pure: the nearest-rank percentile `p` (0–100) of ascending `sorted`; null when empty. */
export function nearestRank (sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1] ?? null
}

/** Pure: the seconds from a run's start to its problem's resolution, when the run counts (SPEC 11). */
export function timeToResolveSeconds (run: ReportRun): number | undefined {
  const counts = run.dryRun ? run.state === 'dry_run' : run.state === 'succeeded'
  if (!counts || run.startedAt === null || run.resolvedAt === null) return undefined
  // An endTime a little before the start (the problem closed as the action began) is 0, not negative.
  return Math.max(0, (run.resolvedAt - run.startedAt) / 1000)
}

/**
 * Pure: the report over `runs` for the window [since, until] (ms epoch). The caller selects the
 * runs of the window (by their start, or creation for runs that never started); rows are sorted
 * by rule, action, then live before dry-run.
 */
export function buildReport (runs: readonly ReportRun[], window: { readonly since: number, readonly until: number }): Report {
  const rows = new Map<string, { rule: string, action: string, mode: ReportMode, runs: Record<string, number>, verdicts: { resolved: number, unresolved: number, unknown: number }, times: number[] }>()
  for (const run of runs) {
    const mode: ReportMode = run.dryRun ? 'dry-run' : 'live'
    const key = JSON.stringify([run.rule, run.action, mode])
    let row = rows.get(key)
    if (row === undefined) {
      row = { rule: run.rule, action: run.action, mode, runs: {}, verdicts: { resolved: 0, unresolved: 0, unknown: 0 }, times: [] }
      rows.set(key, row)
    }
    row.runs[run.state] = (row.runs[run.state] ?? 0) + 1
    if (run.verdict !== null) row.verdicts[run.verdict]++
    const t = timeToResolveSeconds(run)
    if (t !== undefined) row.times.push(t)
  }
  const out = [...rows.values()].map((r): ReportRow => {
    const sorted = [...r.times].sort((a, b) => a - b)
    return { rule: r.rule, action: r.action, mode: r.mode, runs: r.runs, verdicts: r.verdicts, timeToResolveSeconds: { n: sorted.length, p50: nearestRank(sorted, 50), p90: nearestRank(sorted, 90) } }
  })
  out.sort((a, b) => a.rule.localeCompare(b.rule) || a.action.localeCompare(b.action) || (a.mode === b.mode ? 0 : a.mode === 'live' ? -1 : 1))
  return { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString(), rows: out }
}
