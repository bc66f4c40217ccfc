/**
 * The tenant's vocabulary: entities, relationships, problems and their comments, events and
 * security problems as the simulator stores them, and the inputs that seed them (the state file
 * and the `/_sim` control API take the same shapes). Pure data and pure helpers: ids derived from
 * names (so a seeded demo prints the same ids every time), Dynatrace's tag syntax, and management
 * zones.
 */
import { createHash } from 'node:crypto'

export interface Tag { readonly context: string, readonly key: string, readonly value?: string }
export interface ManagementZone { readonly id: string, readonly name: string }
export interface EntityRef { readonly id: string, readonly type: string }

export interface SimEntity {
  readonly entityId: string
  readonly type: string
  readonly displayName: string
  readonly properties: Record<string, unknown>
  readonly tags: Tag[]
  readonly managementZones: ManagementZone[]
  readonly firstSeenTms: number
}

/**
 * One relationship, stored once: `from` occupies the FROM position and `to` the TO position, as
 * Dynatrace names them (`SERVICE runsOn PROCESS_GROUP`). The service shows it under
 * fromRelationships.runsOn, the process group under toRelationships.runsOn.
 */
export interface Relationship {
  readonly from: string
  readonly relation: string
  readonly to: string
}

export interface SimComment {
  readonly id: string
  readonly authorName: string
  content: string
  context: string
  readonly createdAtTimestamp: number
}

export type Severity = 'AVAILABILITY' | 'CUSTOM_ALERT' | 'ERROR' | 'INFO' | 'MONITORING_UNAVAILABLE' | 'PERFORMANCE' | 'RESOURCE_CONTENTION'
export type ImpactLevel = 'APPLICATION' | 'ENVIRONMENT' | 'INFRASTRUCTURE' | 'SERVICES'

export interface SimProblem {
  readonly problemId: string
  readonly displayId: string
  readonly title: string
  status: 'OPEN' | 'CLOSED'
  readonly severityLevel: Severity
  readonly impactLevel: ImpactLevel
  readonly startTime: number
  endTime: number
  readonly impactedEntities: string[]
  readonly affectedEntities: string[]
  readonly rootCauseEntity: string | undefined
  /** Given when the problem was opened, beside those of the entities it touches. */
  readonly managementZones: ManagementZone[]
  /** Given when the problem was opened, beside the tags of the entities it touches. */
  readonly entityTags: Tag[]
  /** 1 for the first open period; each re-open adds one. */
  occurrence: number
  /** When the problem last closed (undefined while it never closed). */
  closedAt: number | undefined
  /** When it was last re-opened (a Gen 3 event's `dt.davis.last_reopen_timestamp`). */
  reopenedAt: number | undefined
  /** Davis marked it a duplicate of another problem (`dt.davis.is_duplicate`; Gen 3 only). */
  duplicate: boolean
  /** Its entities are in a maintenance window (`maintenance.is_under_maintenance`; Gen 3 only). */
  underMaintenance: boolean
  readonly comments: SimComment[]
}

export interface SimEvent {
  readonly eventId: string
  readonly eventType: string
  readonly title: string
  readonly startTime: number
  readonly endTime: number
  readonly entityId: string | undefined
  readonly properties: Record<string, string>
  readonly correlationId: string
}

export interface SimSecurityProblem {
  readonly securityProblemId: string
  readonly displayId: string
  status: 'OPEN' | 'RESOLVED'
  readonly title: string
  readonly description: string
  readonly riskLevel: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'NONE'
  readonly riskScore: number
  readonly cvssScore: number | undefined
  readonly technology: string
  readonly vulnerabilityType: 'CODE_LEVEL' | 'RUNTIME' | 'THIRD_PARTY'
  readonly cveIds: string[]
  readonly affectedEntities: string[]
  readonly exposed: boolean
  readonly dataAssetsReachable: boolean
  readonly exploitAvailable: boolean
  readonly managementZones: ManagementZone[]
  readonly firstSeenTimestamp: number
  lastUpdatedTimestamp: number
}

export type TagInput = string | { key: string, value?: string | undefined, context?: string | undefined }
export type ZoneInput = string | ManagementZone

export interface EntityInput {
  readonly entityId?: string | undefined
  readonly type: string
  readonly displayName: string
  readonly properties?: Record<string, unknown> | undefined
  /** `key`, `key:value`, `[CONTEXT]key:value`, or objects. */
  readonly tags?: readonly TagInput[] | undefined
  readonly managementZones?: readonly ZoneInput[] | undefined
  /** Relationship name → ids of the entities in the TO position (this entity is FROM). */
  readonly fromRelationships?: Readonly<Record<string, readonly string[]>> | undefined
  /** Relationship name → ids of the entities in the FROM position (this entity is TO). */
  readonly toRelationships?: Readonly<Record<string, readonly string[]>> | undefined
}

export interface ProblemInput {
  readonly title: string
  readonly impactedEntities: readonly string[]
  readonly affectedEntities?: readonly string[] | undefined
  readonly rootCauseEntity?: string | undefined
  readonly severityLevel?: Severity | undefined
  readonly impactLevel?: ImpactLevel | undefined
  readonly startTime?: number | undefined
  readonly problemId?: string | undefined
  readonly displayId?: string | undefined
  readonly managementZones?: readonly ZoneInput[] | undefined
  readonly entityTags?: readonly TagInput[] | undefined
  readonly duplicate?: boolean | undefined
  readonly underMaintenance?: boolean | undefined
}

export interface EventInput {
  readonly eventType: string
  readonly title: string
  readonly entitySelector?: string | undefined
  readonly startTime?: number | undefined
  readonly endTime?: number | undefined
  readonly timeout?: number | undefined
  readonly properties?: Readonly<Record<string, string>> | undefined
}

export interface SecurityProblemInput {
  readonly title: string
  readonly affectedEntities: readonly string[]
  readonly description?: string | undefined
  readonly riskLevel?: SimSecurityProblem['riskLevel'] | undefined
  readonly riskScore?: number | undefined
  readonly cvssScore?: number | undefined
  readonly technology?: string | undefined
  readonly vulnerabilityType?: SimSecurityProblem['vulnerabilityType'] | undefined
  readonly cveIds?: readonly string[] | undefined
  readonly exposed?: boolean | undefined
  readonly dataAssetsReachable?: boolean | undefined
  readonly exploitAvailable?: boolean | undefined
  readonly managementZones?: readonly ZoneInput[] | undefined
  readonly securityProblemId?: string | undefined
  readonly displayId?: string | undefined
}

/** Pure: `length` upper-case hex digits derived from `seed`. */
export function hex (seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length).toUpperCase()
}

/** Pure: the id Dynatrace-style (`TYPE-` and 16 hex digits) the simulator gives an entity seeded by `seed`. */
export function entityIdFor (type: string, seed: string): string {
  return `${type}-${hex(`${type}:${seed}`, 16)}`
}

/**
 * Pure: parses a tag as Dynatrace writes it, `[CONTEXT]key:value`, `key:value` or `key`. A colon
 * escaped with a backslash (`\:`) belongs to the key or value, as in the entity selector.
 */
export function parseTag (input: TagInput): Tag {
  if (typeof input !== 'string') return { context: input.context ?? 'CONTEXTLESS', key: input.key, ...(input.value === undefined ? {} : { value: input.value }) }
  let rest = input
  let context = 'CONTEXTLESS'
  const ctx = /^\[([^\]]+)\]/.exec(rest)
  if (ctx?.[1] !== undefined) {
    context = ctx[1]
    rest = rest.slice(ctx[0].length)
  }
  const colon = firstUnescaped(rest, ':')
  const unescape = (s: string): string => s.replace(/\\(.)/g, '$1')
  if (colon < 0) return { context, key: unescape(rest) }
  return { context, key: unescape(rest.slice(0, colon)), value: unescape(rest.slice(colon + 1)) }
}

function firstUnescaped (s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') { i++; continue }
    if (s[i] === ch) return i
  }
  return -1
}

/** Pure: Dynatrace's string form of a tag. */
export function tagString (tag: Tag): string {
  const prefix = tag.context === 'CONTEXTLESS' ? '' : `[${tag.context}]`
  return `${prefix}${tag.key}${tag.value === undefined ? '' : `:${tag.value}`}`
}

/** Pure: a management zone from its name (the id derived from it) or as given. */
export function zone (z: ZoneInput): ManagementZone {
  return typeof z === 'string' ? { id: String(BigInt(`0x${hex(`mz:${z}`, 15)}`)), name: z } : z
}

/** Pure: the tags, deduplicated by their string form, in order of first appearance. */
export function uniqueTags (tags: Iterable<Tag>): Tag[] {
  const seen = new Map<string, Tag>()
  for (const t of tags) if (!seen.has(tagString(t))) seen.set(tagString(t), t)
  return [...seen.values()]
}
