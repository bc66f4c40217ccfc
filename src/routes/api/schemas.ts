/**
 * The admin API's shapes (SPEC 11), as zod schemas: the source of the route validation, the
 * handlers' types and /openapi.json.
 */
import { z } from 'zod'
import { RUN_STATES, runSchema } from '../../domain/runs.js'
import { explanationSchema } from './evidence-schemas.js'

export const errorSchema = z.object({
  code: z.string().meta({ example: 'DTR_ERR_NOT_FOUND' }),
  message: z.string(),
}).meta({ id: 'Error', description: 'Every error answer: a stable code and a message naming what is wrong' })

/** A decision the run's state does not allow (SPEC 9): the error, and the state the run is in. */
export const conflictSchema = errorSchema.extend({
  state: z.string().optional().meta({ description: 'The run\'s current state (absent when it could not be read)', example: 'cancelled' }),
}).meta({ id: 'Conflict' })

export const runListQuery = z.object({
  problemId: z.string().min(1).optional().meta({ description: 'A PID, a P-… display id or a security problem id' }),
  state: z.enum(RUN_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional().meta({ description: 'nextCursor of the previous page' }),
}).strict()

export const runList = z.object({
  runs: z.array(runSchema),
  nextCursor: z.string().nullable(),
}).meta({ id: 'RunList' })

export const runParams = z.object({ id: z.string().min(1).max(200) })

export const decisionBody = z.object({
  by: z.string().max(200).optional().meta({ description: 'Who decided, recorded beside the admin token\'s name' }),
  reason: z.string().max(2000).optional(),
}).strict()

export const problemParams = z.object({ pid: z.string().min(1).max(300) })

const notificationSummary = z.object({
  id: z.string(),
  kind: z.enum(['problem', 'security']),
  displayId: z.string().nullable(),
  state: z.string().nullable(),
  receivedAt: z.string(),
  /** `webhook`: Dynatrace called; `reconcile`: taken in from the Problems API, no notification having brought it. */
  source: z.enum(['webhook', 'reconcile']),
  /** Only when processing it failed for good (poison: it crashed the process or failed 5 times alike): why, and when. */
  failed: z.object({ reason: z.string(), at: z.string() }).optional(),
}).meta({ id: 'NotificationSummary' })

export const problemView = z.object({
  problemId: z.string(),
  /** What we track of it: the current occurrence and whether it is open. */
  occurrence: z.int().nullable(),
  status: z.enum(['open', 'closed']).nullable(),
  notifications: z.array(notificationSummary),
  runs: z.array(runSchema),
  /** Per notification planned, per rule: why it did or did not fire (src/routes/api/report.ts). */
  explanations: z.array(explanationSchema),
}).meta({ id: 'Problem' })

export const pauseBody = z.object({
  paused: z.boolean(),
  reason: z.string().max(2000).optional(),
  by: z.string().max(200).optional(),
}).strict()

export const pauseState = z.object({
  paused: z.boolean(),
  reason: z.string().optional(),
  since: z.string().optional().meta({ description: 'ISO 8601, when paused' }),
  by: z.string().optional(),
}).meta({ id: 'Pause' })
