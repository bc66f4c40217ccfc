/**
 * What is known about one notification when rules are matched and targets resolved (SPEC 6):
 * the problem, each impacted entity with its details, the entities reached through their
 * relationships, the deployment events and the evidence. Built by src/runner/enrich.ts from the
 * notification and, when configured, the Dynatrace API; plain JSON, so the runner can store it
 * with the notification and `simulate` can print it. Matching and resolution are pure over it.
 */
import type { NotificationKind } from './payload.js'
import type { DeploymentEvent, EntityRef, ProblemInfo } from './problem.js'
import { formatTag, type Tag } from './tags.js'

export interface RelatedRef {
  readonly id: string
  readonly type?: string | undefined
}

/** An entity as the Entities API v2 gives it (the fields resolution reads). */
export interface EntityDetails {
  readonly entityId: string
  readonly type?: string | undefined
  readonly displayName?: string | undefined
  readonly properties: Readonly<Record<string, unknown>>
  readonly tags: readonly Tag[]
  readonly managementZones: ReadonlyArray<{ readonly id?: string | undefined, readonly name?: string | undefined }>
  readonly fromRelationships: Readonly<Record<string, readonly RelatedRef[]>>
  readonly toRelationships: Readonly<Record<string, readonly RelatedRef[]>>
}

export interface ImpactedEntity {
  readonly id: string
  /** From the notification, else the id's prefix (SERVICE-…), else the API. */
  readonly type: string
  readonly name: string
  readonly details: EntityDetails | undefined
  /** Why there are no details ("Dynatrace answered 404", "DTR_DYNATRACE_URL is not set"). */
  readonly missing: string | undefined
}

/** A CUSTOM_DEPLOYMENT event and the entity it was posted on. */
export interface EntityDeploymentEvent extends DeploymentEvent {
  readonly entityId: string
}

export interface Evidence {
  readonly evidenceType: string
  readonly displayName: string | undefined
  readonly entityId: string | undefined
  readonly startTime: number | undefined
  readonly rootCauseRelevant: boolean | undefined
}

export interface SecurityFacts {
  /** CRITICAL, HIGH, MEDIUM, LOW, NONE (upper case). */
  readonly severity: string | undefined
  readonly exposed: boolean | undefined
  readonly exploitAvailable: boolean | undefined
  readonly dataAssetsReachable: boolean | undefined
}

export interface ProblemFacts {
  readonly kind: NotificationKind
  /** PID, or the SecurityProblemId as notified. */
  readonly id: string
  readonly displayId: string | undefined
  /** The notification's State, read as OPEN or RESOLVED where it can be (ACTIVE → OPEN, CLOSED → RESOLVED). */
  readonly state: string | undefined
  /** The Problems API's status (OPEN, CLOSED), when read. */
  readonly status: string | undefined
  readonly title: string | undefined
  readonly severity: string | undefined
  readonly impact: string | undefined
  readonly url: string | undefined
  /** ms epoch, when known. */
  readonly startTime: number | undefined
  readonly tags: readonly Tag[]
  readonly managementZones: readonly string[]
  /** Dynatrace marked it a duplicate of another problem (Gen 3's dt.davis.is_duplicate). */
  readonly duplicate: boolean | undefined
  /** The whole problem happened under maintenance. */
  readonly underMaintenance: boolean | undefined
  /** Entities a MAINTENANCE_WINDOW evidence names. */
  readonly maintenanceEntities: readonly string[]
  /** `k8s.cluster.name` of the v2 problem. */
  readonly clusters: readonly string[]
  readonly security: SecurityFacts | undefined
  /** The root-cause entity Davis identified (v2 `rootCauseEntity`, Gen 3 `root_cause_entity_id`), when it did. */
  readonly rootCause?: { readonly id: string, readonly type: string | undefined, readonly name: string | undefined } | undefined
  /** Gen 3 `dt.davis.mute.status: MUTED`: a person muted (or closed) it; nothing is planned. */
  readonly muted?: boolean | undefined
}

export interface Enrichment {
  /** `dynatrace`: the API was read (parts may still be missing, see notes); `notification`: the body alone. */
  readonly source: 'dynatrace' | 'notification'
  /** What was missing and why, in words: the explanation says so. */
  readonly notes: readonly string[]
  readonly problem: ProblemFacts
  readonly entities: readonly ImpactedEntity[]
  /** Entities reached through relationships (process groups, workloads, clusters), by id. */
  readonly related: Readonly<Record<string, EntityDetails>>
  /** Newest first. */
  readonly deploymentEvents: readonly EntityDeploymentEvent[]
  /** The window events were read in (ms epoch); undefined when they were not read (notes say why). */
  readonly eventsWindow: { readonly from: number, readonly to: number } | undefined
  readonly evidence: readonly Evidence[]
  /** The root-cause entity with its details, when the problem names one: `when.rootCause` rules' one candidate. */
  readonly rootCause?: ImpactedEntity | undefined
}

/** Pure: the problem as actions see it (`ctx.problem`). */
export function problemInfo (p: ProblemFacts): ProblemInfo {
  return {
    kind: p.kind,
    id: p.id,
    displayId: p.displayId,
    title: p.title,
    severity: p.severity,
    impact: p.impact,
    url: p.url,
    tags: p.tags.map(formatTag),
    startTime: p.startTime,
  }
}

/** Pure: an entity of the enrichment by id: an impacted one, else the root cause. */
export function entityOf (e: Enrichment, id: string): ImpactedEntity | undefined {
  return e.entities.find((x) => x.id === id) ?? (e.rootCause?.id === id ? e.rootCause : undefined)
}

/** Pure: the root-cause entity as a candidate, before (or without) its details. */
export function rootCauseStub (p: ProblemFacts, impacted: readonly ImpactedEntity[], missing: string | undefined): ImpactedEntity | undefined {
  const rc = p.rootCause
  if (rc === undefined) return undefined
  return impacted.find((x) => x.id === rc.id) ?? { id: rc.id, type: rc.type ?? typeOfId(rc.id) ?? 'UNKNOWN', name: rc.name ?? rc.id, details: undefined, missing }
}

export function entityRef (e: ImpactedEntity): EntityRef {
  return { id: e.id, type: e.type, name: e.name }
}

/** Pure: the notification's State as OPEN or RESOLVED where it can be read so (SPEC 4). */
export function normalizeState (state: string | undefined): string | undefined {
  if (state === undefined) return undefined
  const s = state.trim().toUpperCase()
  if (s === 'OPEN' || s === 'ACTIVE') return 'OPEN'
  if (s === 'RESOLVED' || s === 'CLOSED') return 'RESOLVED'
  return state
}

/** Pure: the type an entity id names, `SERVICE-1125C375A187D27A` → SERVICE. */
export function typeOfId (id: string): string | undefined {
  const m = /^([A-Z][A-Z0-9_]*)-[0-9A-FX]+$/.exec(id)
  return m?.[1]
}

/**
 * Pure: a time as ms epoch from what Dynatrace writes: ISO text (Gen 3 events' examples), or
 * nanoseconds, microseconds or milliseconds (Grail keeps nanoseconds). undefined when unreadable.
 */
export function epochMs (raw: unknown): number | undefined {
  if (typeof raw === 'string' && raw.trim() !== '' && Number.isNaN(Number(raw))) {
    const at = Date.parse(raw)
    return Number.isNaN(at) ? undefined : at
  }
  const n = Number(raw)
  if (raw === undefined || raw === null || raw === '' || typeof raw === 'boolean' || !Number.isFinite(n) || n <= 0) return undefined
  return n > 1e17 ? Math.floor(n / 1e6) : n > 1e14 ? Math.floor(n / 1e3) : n
}

/** Gen 3's `event.category` where it differs from the classic {ProblemSeverity}. */
const CATEGORY_SEVERITY: Readonly<Record<string, string>> = { SLOWDOWN: 'PERFORMANCE' }

/** Pure: the classic severity (ProblemSeverity) of a Gen 3 `event.category`. */
export function severityOfCategory (category: string | undefined): string | undefined {
  if (category === undefined) return undefined
  const c = category.trim().toUpperCase()
  return c === '' ? undefined : CATEGORY_SEVERITY[c] ?? c
}
