/**
 * What the console shows that another part of the service computes: the effectiveness report
 * (SPEC 11 `GET /api/report`) and, per notification of a problem, why each rule did or did not
 * match. The console depends on this small port, not on how those are computed; buildApp passes
 * the implementation (`consoleData` in AppOptions). Without one the pages say that this version
 * has no report or no explanations, rather than inventing them.
 */

/** One row of the report (SPEC 11), per rule, action and mode. */
export interface ReportRow {
  readonly rule: string
  readonly action: string
  readonly mode: 'live' | 'dry-run'
  readonly runs: Readonly<Record<string, number>>
  readonly verdicts: { readonly resolved: number, readonly unresolved: number, readonly unknown: number }
  readonly timeToResolveSeconds: { readonly n: number, readonly p50: number | null, readonly p90: number | null }
}

export interface Report {
  /** ISO times. */
  readonly since: string
  readonly until: string
  readonly rows: readonly ReportRow[]
}

/** Why one notification planned what it did (SPEC 11, `GET /api/problems/:pid`). */
export interface Explanation {
  /** Per rule: matched, or the first condition that failed. */
  readonly rules: ReadonlyArray<{ readonly rule: string, readonly matched: boolean, readonly failed?: string | undefined }>
  /** Per entity: the target and its source, or what was tried. */
  readonly entities: ReadonlyArray<{ readonly entityId: string, readonly target?: string | undefined, readonly source?: string | undefined, readonly tried?: string | undefined }>
}

export interface ConsoleData {
  /** The report over runs started since `sinceMs` (ms epoch); undefined when this version has none. */
  report(sinceMs: number): Promise<Report | undefined>
  /** Per notification id, its explanation; undefined when this version keeps none. */
  explanations(kind: 'problem' | 'security', problemId: string): Promise<ReadonlyMap<string, Explanation> | undefined>
}

/** This version's: neither is computed yet, and the pages say so. */
export const noConsoleData: ConsoleData = {
  report: async () => undefined,
  explanations: async () => undefined,
}
