/**
 * The shapes of the evidence in the admin API (SPEC 11, issue 21): the effectiveness report and
 * the explanation a problem carries per notification. Their own file, so schemas.ts (the Problem
 * view) and report.ts (the route) both import them without a cycle.
 */
import { z } from 'zod'
import { DURATION_HINT } from '../../domain/rules/duration.js'

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
  enrichment: z.object({
    source: z.string().meta({ description: 'Where the problem and its entities were read from: the Problems and Entities APIs, or the notification alone' }),
    notes: z.array(z.string()).meta({ description: 'What enrichment could not read, and why' }),
  }).nullable().meta({ description: 'What enrichment read for the notification, the same for each of its rules (null when the store kept none)' }),
}).meta({ id: 'Explanation', description: 'Why a rule did or did not fire for a notification' })

export type ExplanationView = z.infer<typeof explanationSchema>
