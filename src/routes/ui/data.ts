/**
 * What the console shows that another part of the service computes: the effectiveness report
 * (SPEC 11 `GET /api/report`) and, per notification of a problem, why each rule did or did not
 * match. The console depends on this small port, not on how those are computed; buildApp passes
 * another implementation (`consoleData` in AppOptions) where a test wants one; by default the
 * store's (storeConsoleData). A port that has none makes the pages say so rather than invent them.
 */
import { buildReport, type Report } from '../../domain/report.js'
import type { Store } from '../../store/index.js'
import { explanationViews } from '../api/report.js'

/** The report (SPEC 11): the pages show what src/domain/report.ts builds. */
export type { Report, ReportRow } from '../../domain/report.js'

/** Why one notification planned what it did (SPEC 11, `GET /api/problems/:pid`). */
export interface Explanation {
  /** Per rule: matched, or the first condition that failed. */
  readonly rules: ReadonlyArray<{ readonly rule: string, readonly matched: boolean, readonly failed?: string | undefined }>
  /** Per entity: the target and its source, or what was tried. */
  readonly entities: ReadonlyArray<{ readonly entityId: string, readonly target?: string | undefined, readonly source?: string | undefined, readonly tried?: string | undefined }>
  /** What enrichment read for the notification: from Dynatrace's APIs or the notification alone, and what it could not read. */
  readonly read?: { readonly source: string, readonly notes: readonly string[] } | undefined
}

export interface ConsoleData {
  /** The report over runs started since `sinceMs` (ms epoch); undefined when this version has none. */
  report(sinceMs: number): Promise<Report | undefined>
  /** Per notification id, its explanation; undefined when this version keeps none. */
  explanations(kind: 'problem' | 'security', problemId: string): Promise<ReadonlyMap<string, Explanation> | undefined>
}

/**
 * The store's: the report is the one `GET /api/report` answers (src/domain/report.ts over the
 * runs that started in the window), and the explanations are those planning kept per
 * notification and rule, grouped by notification in the console's shape.
 */
export function storeConsoleData (store: Pick<Store, 'evidence' | 'clock'>): ConsoleData {
  return {
    async report (sinceMs) {
      const now = store.clock.now()
      return buildReport(await store.evidence.reportRuns(sinceMs, now), { since: sinceMs, until: now })
    },
    async explanations (_kind, problemId) {
      const byNotification = new Map<string, { rules: Array<Explanation['rules'][number]>, entities: Array<Explanation['entities'][number]>, read?: Explanation['read'] }>()
      for (const view of explanationViews(await store.evidence.explanations(problemId))) {
        const e = byNotification.get(view.notificationId) ?? { rules: [], entities: [] }
        byNotification.set(view.notificationId, e)
        e.read ??= view.enrichment ?? undefined
        e.rules.push({ rule: view.rule, matched: view.matched, failed: view.reason ?? undefined })
        for (const x of view.entities) {
          if (e.entities.some((seen) => seen.entityId === x.entityId)) continue
          e.entities.push({
            entityId: x.entityId,
            target: x.target === null ? undefined : `${x.target.kind} ${x.target.namespace}/${x.target.name}`,
            source: x.targetSource ?? undefined,
            tried: x.target !== null ? undefined : (x.tried.map((t) => `${t.source}: ${t.note}`).join('; ') || (x.reason ?? x.targetNote ?? undefined)),
          })
        }
      }
      return byNotification
    },
  }
}
