/**
 * Evidence in the admin API (SPEC 11, issue 21): `GET /api/report?since=30d`, the effectiveness
 * report per rule, action and mode (src/domain/report.ts computes it from the store's runs), and
 * the shapes of the explanation `GET /api/problems/:pid` carries per notification. Registered by
 * the admin routes, behind the admin token.
 */
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { buildReport, type Report } from '../../domain/report.js'
import { parseDuration } from '../../domain/rules/duration.js'
import type { StoredExplanation } from '../../store/evidence.js'
import type { Store } from '../../store/index.js'
import { reportQuery, reportSchema, type ExplanationView } from './evidence-schemas.js'
import { errorSchema } from './schemas.js'

/** The stored explanations as the API shows them. */
export function explanationViews (stored: readonly StoredExplanation[]): ExplanationView[] {
  // What enrichment read is kept once per notification and step (runner/evidence.ts), in one of
  // its rows; older rows carry it in each. Every rule's view gets it.
  const group = (s: StoredExplanation): string => `${s.notificationId}\u0000${s.step}`
  const enrichments = new Map<string, ExplanationView['enrichment']>()
  for (const s of stored) {
    const enrichment = (s.explanation as Partial<ExplanationView> | null)?.enrichment
    if (enrichment !== undefined && enrichment !== null && !enrichments.has(group(s))) enrichments.set(group(s), enrichment)
  }
  return stored.map((s) => {
    const e = (s.explanation ?? {}) as Partial<ExplanationView>
    return { notificationId: s.notificationId, step: s.step, occurrence: s.occurrence, at: new Date(s.at).toISOString(), rule: s.rule, matched: e.matched ?? false, reason: e.reason ?? null, entities: e.entities ?? [], runs: e.runs ?? [], enrichment: enrichments.get(group(s)) ?? null }
  })
}

/** The report over the store's runs whose start falls within `sinceMs` before `now`. */
export async function reportFrom (store: Pick<Store, 'evidence'>, sinceMs: number, now: number): Promise<Report> {
  const since = now - sinceMs
  return buildReport(await store.evidence.reportRuns(since, now), { since, until: now })
}

export function registerReportRoutes (fastify: FastifyInstance): void {
  fastify.withTypeProvider<ZodTypeProvider>().get('/api/report', {
    schema: { tags: ['admin'], summary: 'Does remediation work? Per rule, action and mode: runs by state, verdicts and time to resolve', querystring: reportQuery, response: { 200: reportSchema, 400: errorSchema, 401: errorSchema } },
  }, async (request) => {
    const report = await reportFrom(fastify.store, parseDuration(request.query.since) ?? 0, fastify.store.clock.now())
    return { ...report, rows: [...report.rows] }
  })
}
