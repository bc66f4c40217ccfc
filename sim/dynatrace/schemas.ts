/**
 * zod schemas of what the simulator is told: the state file (`--state`, JSON or YAML) and the
 * bodies of the `/_sim` control API. One schema per concept, shared by both, so a state file
 * entry and a control call read the same.
 */
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'

export const ALL_SCOPES = ['problems.read', 'problems.write', 'events.read', 'events.ingest', 'entities.read', 'securityProblems.read', 'securityProblems.write'] as const

export const tokenSchema = z.strictObject({
  token: z.string().min(1),
  scopes: z.array(z.string()).default([...ALL_SCOPES]),
})

const tagInput = z.union([z.string().min(1), z.strictObject({ key: z.string().min(1), value: z.string().optional(), context: z.string().optional() })])
const zoneInput = z.union([z.string().min(1), z.strictObject({ id: z.string(), name: z.string() })])

const relationshipsInput = z.record(z.string().min(1), z.array(z.string().min(1)))

export const entitySchema = z.strictObject({
  entityId: z.string().regex(/^[A-Z_]+-[0-9A-Za-z]+$/, 'expected TYPE-ID').optional(),
  type: z.string().min(1),
  displayName: z.string().min(1),
  properties: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(tagInput).optional(),
  managementZones: z.array(zoneInput).optional(),
  /** Relationship name → ids of the entities in the TO position. */
  fromRelationships: relationshipsInput.optional(),
  /** Relationship name → ids of the entities in the FROM position. */
  toRelationships: relationshipsInput.optional(),
})

export const relationshipSchema = z.strictObject({
  from: z.string().min(1),
  relation: z.string().min(1),
  to: z.string().min(1),
})

export const workloadSchema = z.strictObject({
  namespace: z.string().min(1),
  name: z.string().min(1),
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).optional(),
  service: z.string().min(1).optional(),
  cluster: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  instances: z.number().int().min(0).max(50).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  calls: z.array(z.string().min(1)).optional(),
  tags: z.array(tagInput).optional(),
  managementZones: z.array(zoneInput).optional(),
})

export const problemSchema = z.strictObject({
  title: z.string().min(1),
  impactedEntities: z.array(z.string()).min(1),
  affectedEntities: z.array(z.string()).optional(),
  rootCauseEntity: z.string().optional(),
  severityLevel: z.enum(['AVAILABILITY', 'CUSTOM_ALERT', 'ERROR', 'INFO', 'MONITORING_UNAVAILABLE', 'PERFORMANCE', 'RESOURCE_CONTENTION']).optional(),
  impactLevel: z.enum(['APPLICATION', 'ENVIRONMENT', 'INFRASTRUCTURE', 'SERVICES']).optional(),
  startTime: z.number().int().optional(),
  problemId: z.string().min(1).optional(),
  displayId: z.string().min(1).optional(),
  managementZones: z.array(zoneInput).optional(),
  entityTags: z.array(tagInput).optional(),
  /** What a Gen 3 workflow's event says of it (dt.davis.is_duplicate, maintenance.is_under_maintenance). */
  duplicate: z.boolean().optional(),
  underMaintenance: z.boolean().optional(),
  /** State file only: seed a problem that is already closed, or with comments. */
  status: z.enum(['OPEN', 'CLOSED']).optional(),
  comments: z.array(z.strictObject({ message: z.string(), context: z.string().optional() })).optional(),
  /** Control API only: skip the webhook for this change. */
  notify: z.boolean().optional(),
})

export const eventSchema = z.strictObject({
  eventType: z.string().min(1).default('CUSTOM_DEPLOYMENT'),
  title: z.string().min(1),
  entityId: z.string().optional(),
  entitySelector: z.string().optional(),
  startTime: z.number().int().optional(),
  endTime: z.number().int().optional(),
  timeout: z.number().int().positive().optional(),
  properties: z.record(z.string(), z.string()).optional(),
})

/**
 * A CUSTOM_DEPLOYMENT event in the properties Dynatrace's release monitoring reads
 * (`dt.event.deployment.name`, `.version`, …), on the entities `entityId` or `entitySelector` names.
 */
export const deploymentSchema = z.strictObject({
  entityId: z.string().optional(),
  entitySelector: z.string().optional(),
  name: z.string().min(1),
  version: z.string().min(1),
  title: z.string().min(1).optional(),
  project: z.string().optional(),
  releaseStage: z.string().optional(),
  releaseProduct: z.string().optional(),
  releaseBuildVersion: z.string().optional(),
  ciBackLink: z.string().optional(),
  remediationActionLink: z.string().optional(),
  /** More properties, e.g. `k8s.deployment.name`, `k8s.namespace.name`. */
  properties: z.record(z.string(), z.string()).optional(),
  startTime: z.number().int().optional(),
  timeout: z.number().int().positive().optional(),
})

export const securityProblemSchema = z.strictObject({
  title: z.string().min(1),
  affectedEntities: z.array(z.string()).min(1),
  description: z.string().optional(),
  riskLevel: z.enum(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE']).optional(),
  riskScore: z.number().min(0).max(10).optional(),
  cvssScore: z.number().min(0).max(10).optional(),
  technology: z.string().optional(),
  vulnerabilityType: z.enum(['CODE_LEVEL', 'RUNTIME', 'THIRD_PARTY']).optional(),
  cveIds: z.array(z.string()).optional(),
  exposed: z.boolean().optional(),
  dataAssetsReachable: z.boolean().optional(),
  exploitAvailable: z.boolean().optional(),
  managementZones: z.array(zoneInput).optional(),
  securityProblemId: z.string().optional(),
  displayId: z.string().regex(/^S-\d+$/, 'expected S-<number>').optional(),
  notify: z.boolean().optional(),
})

const headersInput = z.union([
  z.record(z.string(), z.string()),
  // Dynatrace's own settings shape: [{name, value}].
  z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).transform((list) => Object.fromEntries(list.map((h) => [h.name, h.value]))),
]).default({})

export const webhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: headersInput,
  /** The custom payload; default: Dynatrace's own default template. */
  payload: z.string().min(1).max(5000).optional(),
  notifyClosedProblems: z.boolean().default(true),
})

export const securityWebhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: headersInput,
  payload: z.string().min(1).max(5000).optional(),
})

/** A Gen 3 workflow: Davis problem trigger → HTTP Request task (docs/dynatrace.md, "Gen 3 workflows"). */
export const workflowSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: headersInput,
  /** The HTTP Request task's payload; default: the body docs/dynatrace.md publishes. */
  body: z.string().min(1).max(10_000).optional(),
})

export const faultSchema = z.strictObject({
  operation: z.string().min(1),
  status: z.number().int().min(400).max(599).optional(),
  retryAfter: z.union([z.number().nonnegative(), z.string().min(1)]).optional(),
  rateLimitResetMs: z.number().int().nonnegative().optional(),
  latencyMs: z.number().int().nonnegative().max(600_000).optional(),
  latencyPhase: z.enum(['before', 'after']).optional(),
  fraction: z.number().min(0).max(1).optional(),
  count: z.number().int().positive().optional(),
  message: z.string().optional(),
}).refine((f) => f.status !== undefined || f.latencyMs !== undefined, 'a fault needs a status, a latencyMs, or both')

export const stateSchema = z.strictObject({
  /** The URL used in ProblemURL/SecurityProblemUrl; default: the simulator's own base URL. */
  publicUrl: z.url().optional(),
  tokens: z.array(tokenSchema).optional(),
  entities: z.array(entitySchema).default([]),
  workloads: z.array(workloadSchema).default([]),
  relationships: z.array(relationshipSchema).default([]),
  problems: z.array(problemSchema).default([]),
  events: z.array(eventSchema).default([]),
  deployments: z.array(deploymentSchema).default([]),
  securityProblems: z.array(securityProblemSchema).default([]),
  webhook: webhookSchema.optional(),
  workflow: workflowSchema.optional(),
  securityWebhook: securityWebhookSchema.optional(),
})
export type SimState = z.output<typeof stateSchema>
export type SimStateInput = z.input<typeof stateSchema>

/** Pure: one line per zod issue, `path: message`. */
export function describeIssues (error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`)
}

/** Reads a state file: YAML when it ends in .yaml/.yml, JSON otherwise; validated with stateSchema. */
export async function loadStateFile (path: string): Promise<SimState> {
  const raw = await readFile(path, 'utf8')
  let data: unknown
  try {
    data = /\.ya?ml$/i.test(path) ? parseYaml(raw) : JSON.parse(raw)
  } catch (err) {
    throw new Error(`State file ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${err instanceof Error ? err.message : String(err)}`)
  }
  const parsed = stateSchema.safeParse(data ?? {})
  if (!parsed.success) throw new Error(`State file ${path} is invalid:\n  ${describeIssues(parsed.error).join('\n  ')}`)
  return parsed.data
}
