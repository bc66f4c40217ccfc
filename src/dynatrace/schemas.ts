/**
 * zod schemas of the Dynatrace responses the client reads, written against the component schemas
 * of the Environment API v2 OpenAPI document (../shared/dynatrace/openapi/env-v2.json).
 *
 * Two deliberate departures from the spec: objects keep unknown fields (`looseObject`), and enums
 * accept any string. The API documentation says new constants appear without a version change, and
 * a remediation must not fail because Dynatrace learned a new severity. Only the fields the service
 * relies on are required; nullable timestamps accept `null` (the docs say `nextPageKey` and an
 * active event's `endTime` are null although the spec types them as plain strings and integers).
 */
import { z } from 'zod'

/** A string that is usually one of `known`, typed so editors suggest them, but never rejected. */
function tolerantEnum<const T extends readonly string[]> (_known: T): z.ZodType<T[number] | (string & {})> {
  return z.string()
}

const optionalNullable = <S extends z.ZodType>(schema: S) => schema.nullish().transform((v) => v ?? undefined)

export const entityIdSchema = z.looseObject({ id: z.string(), type: z.string().optional() })

export const entityStubSchema = z.looseObject({
  entityId: entityIdSchema,
  name: z.string().optional(),
})
export type EntityStub = z.output<typeof entityStubSchema>

export const tagSchema = z.looseObject({
  context: z.string().optional(),
  key: z.string(),
  value: z.string().optional(),
  stringRepresentation: z.string().optional(),
})
export type EntityTag = z.output<typeof tagSchema>

export const managementZoneSchema = z.looseObject({ id: z.string().optional(), name: z.string().optional() })

export const commentSchema = z.looseObject({
  id: z.string().optional(),
  authorName: z.string().optional(),
  content: z.string().optional(),
  context: z.string().optional(),
  createdAtTimestamp: z.number(),
})
export type Comment = z.output<typeof commentSchema>

export const commentsListSchema = z.looseObject({
  comments: z.array(commentSchema),
  totalCount: z.number(),
  pageSize: z.number().optional(),
  nextPageKey: optionalNullable(z.string()),
})

export const evidenceSchema = z.looseObject({
  evidenceType: tolerantEnum(['AVAILABILITY_EVIDENCE', 'EVENT', 'MAINTENANCE_WINDOW', 'METRIC', 'TRANSACTIONAL']),
  displayName: z.string().optional(),
  entity: entityStubSchema.optional(),
  groupingEntity: entityStubSchema.optional(),
  rootCauseRelevant: z.boolean().optional(),
  startTime: z.number().optional(),
  endTime: optionalNullable(z.number()),
  eventId: z.string().optional(),
  eventType: z.string().optional(),
})

export const impactSchema = z.looseObject({
  impactType: tolerantEnum(['APPLICATION', 'CUSTOM_APPLICATION', 'MOBILE', 'SERVICE']),
  impactedEntity: entityStubSchema.optional(),
  estimatedAffectedUsers: z.number().optional(),
})

export const problemSchema = z.looseObject({
  problemId: z.string(),
  displayId: z.string(),
  title: z.string(),
  status: tolerantEnum(['OPEN', 'CLOSED']),
  severityLevel: tolerantEnum(['AVAILABILITY', 'CUSTOM_ALERT', 'ERROR', 'INFO', 'MONITORING_UNAVAILABLE', 'PERFORMANCE', 'RESOURCE_CONTENTION']).optional(),
  impactLevel: tolerantEnum(['APPLICATION', 'ENVIRONMENT', 'INFRASTRUCTURE', 'SERVICES']).optional(),
  startTime: z.number(),
  /** -1 while the problem is open. */
  endTime: z.number().optional(),
  impactedEntities: z.array(entityStubSchema).default([]),
  affectedEntities: z.array(entityStubSchema).default([]),
  rootCauseEntity: entityStubSchema.nullish(),
  managementZones: z.array(managementZoneSchema).default([]),
  entityTags: z.array(tagSchema).default([]),
  evidenceDetails: z.looseObject({ totalCount: z.number().optional(), details: z.array(evidenceSchema) }).optional(),
  impactAnalysis: z.looseObject({ impacts: z.array(impactSchema) }).optional(),
  'k8s.cluster.name': z.array(z.string()).optional(),
  'k8s.namespace.name': z.array(z.string()).optional(),
})
export type Problem = z.output<typeof problemSchema>

export const problemListSchema = z.looseObject({
  totalCount: z.number().optional(),
  pageSize: z.number().optional(),
  nextPageKey: optionalNullable(z.string()),
  problems: z.array(problemSchema).default([]),
  warnings: z.array(z.string()).optional(),
})

export const problemCloseResultSchema = z.looseObject({
  problemId: z.string(),
  closing: z.boolean(),
  closeTimestamp: z.number(),
  comment: commentSchema.optional(),
})
export type ProblemCloseResult = z.output<typeof problemCloseResultSchema>

export const eventPropertySchema = z.looseObject({ key: z.string(), value: z.string().optional() })

export const eventSchema = z.looseObject({
  eventId: z.string(),
  eventType: z.string(),
  title: z.string().optional(),
  startTime: z.number(),
  endTime: optionalNullable(z.number()),
  status: tolerantEnum(['OPEN', 'CLOSED']).optional(),
  entityId: entityStubSchema.optional(),
  /** The real API returns properties as [{key,value}], not the map that ingest accepts. */
  properties: z.array(eventPropertySchema).default([]),
  entityTags: z.array(tagSchema).default([]),
  managementZones: z.array(managementZoneSchema).default([]),
  correlationId: z.string().optional(),
})
export type Event = z.output<typeof eventSchema>

export const eventListSchema = z.looseObject({
  totalCount: z.number(),
  pageSize: z.number().optional(),
  nextPageKey: optionalNullable(z.string()),
  events: z.array(eventSchema).default([]),
  warnings: z.array(z.string()).optional(),
})

export const eventIngestResultsSchema = z.looseObject({
  reportCount: z.number().optional(),
  eventIngestResults: z.array(z.looseObject({
    correlationId: z.string().optional(),
    status: tolerantEnum(['INVALID_ENTITY_TYPE', 'INVALID_METADATA', 'INVALID_TIMESTAMPS', 'OK']).optional(),
  })).default([]),
})
export type EventIngestResults = z.output<typeof eventIngestResultsSchema>

const relationshipsSchema = z.record(z.string(), z.array(entityIdSchema))

export const entitySchema = z.looseObject({
  entityId: z.string(),
  type: z.string().optional(),
  displayName: z.string().optional(),
  firstSeenTms: z.number().optional(),
  lastSeenTms: z.number().optional(),
  properties: z.record(z.string(), z.unknown()).default({}),
  tags: z.array(tagSchema).default([]),
  managementZones: z.array(managementZoneSchema).default([]),
  fromRelationships: relationshipsSchema.default({}),
  toRelationships: relationshipsSchema.default({}),
})
export type Entity = z.output<typeof entitySchema>

export const entityListSchema = z.looseObject({
  totalCount: z.number().optional(),
  nextPageKey: z.string().optional(),
  entities: z.array(entitySchema).default([]),
})

export const riskAssessmentSchema = z.looseObject({
  riskLevel: tolerantEnum(['CRITICAL', 'HIGH', 'LOW', 'MEDIUM', 'NONE']).optional(),
  riskScore: z.number().optional(),
  exposure: tolerantEnum(['NOT_AVAILABLE', 'NOT_DETECTED', 'PUBLIC_NETWORK']).optional(),
  dataAssets: tolerantEnum(['NOT_AVAILABLE', 'NOT_DETECTED', 'REACHABLE']).optional(),
  publicExploit: tolerantEnum(['AVAILABLE', 'NOT_AVAILABLE']).optional(),
})

export const securityProblemSchema = z.looseObject({
  securityProblemId: z.string(),
  displayId: z.string().optional(),
  status: tolerantEnum(['OPEN', 'RESOLVED']).optional(),
  muted: z.boolean().optional(),
  title: z.string().optional(),
  url: z.string().optional(),
  technology: z.string().optional(),
  vulnerabilityType: z.string().optional(),
  cveIds: z.array(z.string()).optional(),
  riskAssessment: riskAssessmentSchema.optional(),
  managementZones: z.array(managementZoneSchema).default([]),
  firstSeenTimestamp: z.number().optional(),
  lastUpdatedTimestamp: z.number().optional(),
})
export type SecurityProblem = z.output<typeof securityProblemSchema>

export const securityProblemDetailsSchema = securityProblemSchema.extend({
  description: z.string().optional(),
  remediationDescription: z.string().optional(),
  affectedEntities: z.array(z.string()).default([]),
  exposedEntities: z.array(z.string()).default([]),
  reachableDataAssets: z.array(z.string()).default([]),
})
export type SecurityProblemDetails = z.output<typeof securityProblemDetailsSchema>

export const securityProblemListSchema = z.looseObject({
  totalCount: z.number(),
  pageSize: z.number().optional(),
  nextPageKey: optionalNullable(z.string()),
  securityProblems: z.array(securityProblemSchema).default([]),
})

/** What `POST /api/v2/events/ingest` accepts (request side: typed strictly, sent as given). */
export interface EventIngest {
  readonly eventType: 'AVAILABILITY_EVENT' | 'CUSTOM_ALERT' | 'CUSTOM_ANNOTATION' | 'CUSTOM_CONFIGURATION' | 'CUSTOM_DEPLOYMENT' | 'CUSTOM_INFO' | 'ERROR_EVENT' | 'MARKED_FOR_TERMINATION' | 'PERFORMANCE_EVENT' | 'RESOURCE_CONTENTION_EVENT'
  readonly title: string
  readonly entitySelector?: string
  readonly startTime?: number
  readonly endTime?: number
  /** Minutes; Dynatrace caps it at 360. */
  readonly timeout?: number
  readonly properties?: Readonly<Record<string, string>>
}

export interface CommentRequest {
  readonly message: string
  readonly context?: string
}
