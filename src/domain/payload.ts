/**
 * The webhook payloads (SPEC section 4): zod schemas that are the single source of truth for
 * validation and types, and a formatter that turns zod issues into the messages Dynatrace shows
 * in its UI when a user presses "Send test notification" — one per missing or invalid field,
 * naming the placeholder to add, because that is how a user repairs a payload template.
 *
 * Pure: no Fastify, no I/O.
 */
import { z } from 'zod'

/** Longest PID / SecurityProblemId kept (SPEC 4): Dynatrace's are about 40 characters; an index entry must fit in a page. */
export const MAX_ID_LENGTH = 256

const nonEmptyId = z.union([z.string().trim().min(1, 'must not be empty'), z.number()], { error: 'expected a non-empty string or a number' })
  .transform((v) => String(v))
  .refine((v) => v.length <= MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
const optionalString = z.string({ error: 'expected a string' }).optional()
const optionalId = z.union([z.string(), z.number()], { error: 'expected a string' }).transform((v) => String(v)).optional()
const optionalObject = z.record(z.string(), z.unknown(), { error: 'expected a JSON object (use the placeholder without quotes)' }).optional()

/**
 * Fields only some bodies carry (a Gen 3 workflow's Davis names, an entity's type or name in a
 * security body): read leniently, never refused, so that declaring them here — where the code
 * reads them from — refuses no body the intake took before. Text is a non-blank string or a
 * number; a flag is true/"true" or false/"false"; anything else reads as absent.
 */
const lenientText = z.unknown().transform((v) => (typeof v === 'string' && v.trim() !== '' ? v : typeof v === 'number' ? String(v) : undefined)).optional()
const lenientFlag = z.unknown().transform((v) => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined)).optional()
/** A time in any of the forms Dynatrace writes (ISO text, ns, µs, ms): read by epochMs. */
const rawTime = z.unknown().optional()

export const impactedEntitySchema = z.union([
  z.string().trim().min(1),
  z.looseObject({
    entity: z.string().trim().min(1),
    type: z.string().optional(),
    name: z.string().optional(),
  }),
], { error: 'expected an entity id string or an object {"type","name","entity"} with a non-empty "entity"' })

export const problemPayloadSchema = z.looseObject({
  PID: nonEmptyId,
  State: z.string({ error: 'expected a string such as "OPEN" or "RESOLVED"' }),
  ImpactedEntities: z.array(impactedEntitySchema, { error: 'expected a JSON array (use {ImpactedEntities} without quotes)' }),
  ProblemID: optionalId,
  ProblemTitle: optionalString,
  ProblemImpact: optionalString,
  ProblemSeverity: optionalString,
  ProblemURL: optionalString,
  Tags: optionalString,
  ImpactedEntity: optionalString,
  ImpactedEntityNames: optionalString,
  NamesOfImpactedEntities: optionalString,
  ProblemDetailsJSON: optionalObject,
  ProblemDetailsJSONv2: optionalObject,
  ProblemDetailsText: optionalString,
  ProblemDetailsMarkdown: optionalString,
  ProblemDetailsHTML: optionalString,
  // A Gen 3 workflow's body (WORKFLOW_PROBLEM_BODY_TEMPLATE, docs/dynatrace.md) and the flags
  // under the names other senders use.
  'event.start': rawTime,
  start: rawTime,
  'event.category': lenientText,
  isDuplicate: lenientFlag,
  IsDuplicate: lenientFlag,
  'dt.davis.is_duplicate': lenientFlag,
  underMaintenance: lenientFlag,
  UnderMaintenance: lenientFlag,
  'maintenance.is_under_maintenance': lenientFlag,
  root_cause_entity_id: lenientText,
  root_cause_entity_name: lenientText,
  'dt.davis.mute.status': lenientText,
})
export type ProblemPayload = z.output<typeof problemPayloadSchema>

/** Security booleans arrive as "true"/"false", or "" when unset; unquoted templates give booleans. */
const securityFlag = z.union([z.enum(['true', 'false', '']), z.boolean()], { error: 'expected "true", "false" or ""' })
  .transform((v) => (v === '' ? undefined : v === true || v === 'true'))
  .optional()

export const affectedEntitySchema = z.union([
  z.string().trim().min(1),
  z.looseObject({ entity: z.string().trim().min(1), type: lenientText, name: lenientText }),
  z.looseObject({ id: z.string().trim().min(1), type: lenientText, name: lenientText }),
], { error: 'expected an entity id string or an object with a non-empty "entity" or "id"' })

export const securityPayloadSchema = z.looseObject({
  SecurityProblemId: nonEmptyId,
  AffectedEntities: z.array(affectedEntitySchema, { error: 'expected a JSON array (use {AffectedEntities} without quotes)' }),
  Title: optionalString,
  Description: optionalString,
  Severity: optionalString,
  DavisSecurityScore: optionalId,
  CvssScore: optionalId,
  SecurityProblemUrl: optionalString,
  ExploitAvailable: securityFlag,
  Exposed: securityFlag,
  SensitiveDataReachable: securityFlag,
  DataAssetsReachable: securityFlag,
  ManagementZones: optionalString,
  Tags: optionalString,
})
export type SecurityPayload = z.output<typeof securityPayloadSchema>

export type NotificationKind = 'problem' | 'security'

export type ParseResult<T> = { ok: true, value: T } | { ok: false, errors: string[] }

/** How each required field is written in a custom payload, for the "add … to the payload" hint. */
const placeholderHints: Record<string, string> = {
  PID: '"PID":"{PID}"',
  State: '"State":"{State}"',
  ImpactedEntities: '"ImpactedEntities":{ImpactedEntities}',
  SecurityProblemId: '"SecurityProblemId":"{SecurityProblemId}"',
  AffectedEntities: '"AffectedEntities":{AffectedEntities}',
}

/** Pure: `ImpactedEntities[1].name` for the path ['ImpactedEntities', 1, 'name']. */
export function formatPath (path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : (out === '' ? String(part) : `.${String(part)}`)
  return out
}

/**
 * Pure: one message per missing or invalid field of `input`, as a user repairing a payload
 * template needs it: `Missing PID: add "PID":"{PID}" to the custom payload`,
 * `Invalid ImpactedEntities[1]: expected an entity id string or …`. Shared by the webhook
 * routes' validator (through the validation plugin) and by every caller of parseWith.
 */
export function describeIssues (issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  const record = typeof input === 'object' && input !== null && !Array.isArray(input) ? input as Record<string, unknown> : undefined
  if (record === undefined) return ['Body must be a JSON object']
  const errors: string[] = []
  for (const issue of issues) {
    const [top] = issue.path
    const key = String(top)
    const missing = issue.path.length === 1 && (record[key] === undefined || record[key] === null)
    const message = issue.path.length === 0
      ? `Invalid body: ${issue.message}`
      : missing
        ? `Missing ${key}${placeholderHints[key] === undefined ? '' : `: add ${placeholderHints[key]} to the custom payload`}`
        : `Invalid ${formatPath(issue.path)}: ${issue.message}`
    if (!errors.includes(message)) errors.push(message)
  }
  return errors
}

/** Pure: given a body and a schema, returns the parsed value or describeIssues' messages. */
export function parseWith<S extends z.ZodType> (schema: S, body: unknown): ParseResult<z.output<S>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: ['Body must be a JSON object'] }
  }
  const result = schema.safeParse(body)
  if (result.success) return { ok: true, value: result.data }
  return { ok: false, errors: describeIssues(result.error.issues, body) }
}

export const parseProblemPayload = (body: unknown): ParseResult<ProblemPayload> => parseWith(problemPayloadSchema, body)
export const parseSecurityPayload = (body: unknown): ParseResult<SecurityPayload> => parseWith(securityPayloadSchema, body)

/** Pure: the entity ids of a problem's ImpactedEntities or a security problem's AffectedEntities. */
export function entityIds (entities: ReadonlyArray<string | { entity?: string, id?: string }>): string[] {
  return entities.map((e) => (typeof e === 'string' ? e : (e.entity ?? e.id ?? '')))
}

/** Dynatrace's test data uses entity ids with 13 X's, such as HOST-XXXXXXXXXXXXX. */
const TEST_ENTITY_MARK = 'XXXXXXXXXXXXX'
export const TEST_PROBLEM_TITLE = 'Dynatrace problem notification test run'

/** Pure: whether a valid problem payload is Dynatrace's "Send test notification" call (SPEC 4). */
export function isTestProblem (p: ProblemPayload): boolean {
  return p.ProblemTitle === TEST_PROBLEM_TITLE ||
    p.ProblemID === 'TESTID' ||
    (p.PID === '99999' && p.ProblemID === '999') ||
    entityIds(p.ImpactedEntities).some((id) => id.includes(TEST_ENTITY_MARK))
}

/**
 * Pure: whether a valid security payload is a test call. Dynatrace documents no test body for
 * security notifications; its test data everywhere uses the XXXXXXXXXXXXX entity ids, so those
 * are treated as a test here too.
 */
export function isTestSecurity (p: SecurityPayload): boolean {
  return entityIds(p.AffectedEntities).some((id) => id.includes(TEST_ENTITY_MARK))
}
