/**
 * Evidence in the admin API (SPEC 11, issue 21): `GET /api/report?since=30d`, the effectiveness
 * report per rule, action and mode (src/domain/report.ts computes it from the store's runs), and
 * the shapes of the explanation `GET /api/problems/:pid` carries per notification. Registered by
 * the admin routes, behind the admin token.
 */
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { buildReport, type Report } from '../../domain/report.js'
import { DURATION_HINT, parseDuration } from '../../domain/rules/duration.js'
import type { StoredExplanation } from '../../store/evidence.js'
import type { Store } from '../../store/index.js'
import { errorSchema } from './schemas.js'

export const reportQuery = z.object({
  since: z.string().regex(/^\d{1,9}[smhd]$/, { error: `since: expected ${DURATION_HINT}` }).default('30d').meta({ description: 'How far back the runs\' start goes, as a duration (30d, 12h)' }),
}).strict()

const verdicts = z.object({ resolved: z.int(), unresolved: z.int(), unknown: z.int() })

export const reportSchema = z.object({
  since: z.string().meta({ description: 'ISO 8601: the window\'s start' }),
  until: z.string(),
  rows: z.array(z.object({
    rule: z.string(),
    action: z.string(),
    mode: z.enum(['live', 'dry-run']),
    runs: z.record(z.string(), z.int()).meta({ description: 'Runs by state' }),
    verdicts,
    timeToResolveSeconds: z.object({
      n: z.int().meta({ description: 'Runs that ended succeeded (live) or dry_run (dry-run) and whose problem resolved' }),
      p50: z.number().nullable().meta({ description: 'Nearest-rank; null when n is 0' }),
      p90: z.number().nullable(),
    }),
  })),
}).meta({ id: 'Report' })

const targetShape = z.object({ kind: z.string(), namespace: z.string(), name: z.string() })

export const explanationSchema = z.object({
  notificationId: z.string(),
  step: z.int(),
  occurrence: z.int(),
  at: z.string(),
  rule: z.string(),
  matched: z.boolean(),
  reason: z.string().nullable().meta({ description: 'The first condition that failed (or why a matched rule planned no step)' }),
  entities: z.array(z.object({
    entityId: z.string(),
    type: z.string(),
    name: z.string(),
    matched: z.boolean(),
    reason: z.string().nullable(),
    target: targetShape.nullable(),
    targetSource: z.string().nullable().meta({ description: 'The source that resolved the target' }),
    targetNote: z.string().nullable().meta({ description: 'What the winning source found, or why none did' }),
    tried: z.array(z.object({ source: z.string(), target: targetShape.nullish(), note: z.string() })),
  })),
  runs: z.array(z.object({ runKey: z.string(), action: z.string(), entityId: z.string(), status: z.string(), reason: z.string().nullable() })),
}).meta({ id: 'Explanation', description: 'Why a rule did or did not fire for a notification' })

export type ExplanationView = z.infer<typeof explanationSchema>

/** The stored explanations as the API shows them. */
export function explanationViews (stored: readonly StoredExplanation[]): ExplanationView[] {
  return stored.map((s) => {
    const e = (s.explanation ?? {}) as Partial<ExplanationView>
    return { notificationId: s.notificationId, step: s.step, occurrence: s.occurrence, at: new Date(s.at).toISOString(), rule: s.rule, matched: e.matched ?? false, reason: e.reason ?? null, entities: e.entities ?? [], runs: e.runs ?? [] }
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
