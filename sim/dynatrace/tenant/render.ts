/**
 * The tenant in the shapes of the Environment API v2: Entity (with the `fields` projection of
 * GET /entities), EntityStub, Problem, Event, SecurityProblem and Comment. Pure given the tenant;
 * the simulator's tests validate every shape against env-v2.json.
 */
import { SimBadRequest } from '../query.js'
import { tagString, uniqueTags } from './model.js'
import type { ManagementZone, SimComment, SimEntity, SimEvent, SimProblem, SimSecurityProblem, Tag } from './model.js'
import type { Tenant } from './tenant.js'

const renderTag = (tag: Tag): Record<string, string> => ({ ...tag, stringRepresentation: tagString(tag) })

/** Pure: the `fields` parameter as a set of lower-case names without the leading `+`. */
export function fieldSet (fields: string | undefined): Set<string> {
  return new Set((fields ?? '').split(',').map((f) => f.trim().replace(/^\+/, '').toLowerCase()).filter((f) => f !== ''))
}

/**
 * What of an entity to show. `entityId`, `type` and `displayName` always come; the rest as
 * `fields` asks: `+properties` or `+properties.<name>`, `+tags`, `+managementZones`,
 * `+fromRelationships` or `+fromRelationships.<name>`, the same for `to`, `+firstSeenTms`,
 * `+lastSeenTms`, `+icon`. Property and relationship names are matched case-insensitively, as
 * Dynatrace matches `+properties.BITNESS` to `bitness`.
 */
export interface EntityProjection {
  readonly all: boolean
  readonly fields: ReadonlySet<string>
  /** Lower-case names after `properties.`, `fromRelationships.`, `toRelationships.`. */
  readonly properties: ReadonlySet<string>
  readonly from: ReadonlySet<string>
  readonly to: ReadonlySet<string>
}

const ENTITY_FIELDS = ['properties', 'tags', 'managementzones', 'fromrelationships', 'torelationships', 'firstseentms', 'lastseentms', 'icon']

/** Pure: reads `fields`; undefined means everything (GET /entities/{id} without `fields`). */
export function entityProjection (fields: string | undefined): EntityProjection {
  const out = { all: fields === undefined, fields: new Set<string>(), properties: new Set<string>(), from: new Set<string>(), to: new Set<string>() }
  for (const f of fieldSet(fields)) {
    const [head = '', ...rest] = f.split('.')
    const sub = rest.join('.')
    if (!ENTITY_FIELDS.includes(head) || (sub !== '' && !['properties', 'fromrelationships', 'torelationships'].includes(head))) {
      throw new SimBadRequest('fields', `Unknown field "${f}" (the simulator knows +properties[.name], +tags, +managementZones, +fromRelationships[.name], +toRelationships[.name], +firstSeenTms, +lastSeenTms, +icon)`)
    }
    if (sub === '') out.fields.add(head)
    else if (head === 'properties') out.properties.add(sub)
    else if (head === 'fromrelationships') out.from.add(sub)
    else out.to.add(sub)
  }
  return out
}

/** An Entity, projected. */
export function renderEntity (tenant: Tenant, e: SimEntity, projection: EntityProjection = entityProjection(undefined)): Record<string, unknown> {
  const wants = (field: string): boolean => projection.all || projection.fields.has(field)
  const pick = <T>(record: Record<string, T>, whole: boolean, names: ReadonlySet<string>): Record<string, T> | undefined => {
    if (whole) return record
    if (names.size === 0) return undefined
    return Object.fromEntries(Object.entries(record).filter(([k]) => names.has(k.toLowerCase())))
  }
  const out: Record<string, unknown> = { entityId: e.entityId, type: e.type, displayName: e.displayName }
  if (wants('firstseentms')) out.firstSeenTms = e.firstSeenTms
  // A live simulated entity is seen all the time.
  if (wants('lastseentms')) out.lastSeenTms = Math.max(tenant.now, e.firstSeenTms)
  const properties = pick(e.properties, wants('properties'), projection.properties)
  if (properties !== undefined) out.properties = properties
  if (wants('tags')) out.tags = e.tags.map(renderTag)
  if (wants('managementzones')) out.managementZones = e.managementZones
  if (wants('icon')) out.icon = { primaryIconType: e.type.toLowerCase() }
  const from = pick(tenant.relationshipsOf(e.entityId, 'from'), wants('fromrelationships'), projection.from)
  if (from !== undefined) out.fromRelationships = from
  const to = pick(tenant.relationshipsOf(e.entityId, 'to'), wants('torelationships'), projection.to)
  if (to !== undefined) out.toRelationships = to
  return out
}

/** An EntityStub: id, type and (when the entity exists) name. */
export function renderStub (tenant: Tenant, id: string): Record<string, unknown> {
  const e = tenant.entities.get(id)
  return e === undefined ? { entityId: { id, type: id.split('-')[0] ?? 'UNKNOWN' } } : { entityId: { id, type: e.type }, name: e.displayName }
}

/** The entities a problem touches (impacted, affected, root cause), each once. */
function touched (tenant: Tenant, p: SimProblem): SimEntity[] {
  const ids = new Set([...p.impactedEntities, ...p.affectedEntities, ...(p.rootCauseEntity === undefined ? [] : [p.rootCauseEntity])])
  return [...ids].map((id) => tenant.entities.get(id)).filter((e): e is SimEntity => e !== undefined)
}

/** Tags of every entity the problem touches and the ones it was opened with, deduplicated. */
export function problemTags (tenant: Tenant, p: SimProblem): Tag[] {
  return uniqueTags([...touched(tenant, p).flatMap((e) => e.tags), ...p.entityTags])
}

/** The entities of `type` in the FROM position of a relationship into `e` (its namespace, its cluster). */
function owners (tenant: Tenant, e: SimEntity, type: string): SimEntity[] {
  return tenant.relationships
    .filter((r) => r.to === e.entityId && tenant.entities.get(r.from)?.type === type)
    .map((r) => tenant.entities.get(r.from))
    .filter((x): x is SimEntity => x !== undefined)
}

/**
 * Dynatrace fills `k8s.namespace.name` and `k8s.cluster.name` from the Kubernetes metadata of the
 * entities involved: a workload's namespaceName, the namespace and cluster entities that own
 * them, and `k8s.*` tags.
 */
function kubernetesScope (tenant: Tenant, entities: readonly SimEntity[]): { namespaces: string[], clusters: string[] } {
  const namespaces = new Set<string>()
  const clusters = new Set<string>()
  // A process group instance belongs to its namespace through its process group.
  const expanded = entities.flatMap((e) => e.type === 'PROCESS_GROUP_INSTANCE'
    ? [e, ...tenant.related(e.entityId, 'from', 'isInstanceOf').map((id) => tenant.entities.get(id)).filter((x): x is SimEntity => x !== undefined)]
    : [e])
  for (const e of expanded) {
    if (typeof e.properties.namespaceName === 'string') namespaces.add(e.properties.namespaceName)
    for (const t of e.tags) {
      if (t.key === 'k8s.namespace.name' && t.value !== undefined) namespaces.add(t.value)
      if (t.key === 'k8s.cluster.name' && t.value !== undefined) clusters.add(t.value)
    }
    const nss = e.type === 'CLOUD_APPLICATION_NAMESPACE' ? [e] : owners(tenant, e, 'CLOUD_APPLICATION_NAMESPACE')
    for (const ns of nss) {
      namespaces.add(ns.displayName)
      for (const c of owners(tenant, ns, 'KUBERNETES_CLUSTER')) clusters.add(c.displayName)
    }
    for (const c of e.type === 'KUBERNETES_CLUSTER' ? [e] : owners(tenant, e, 'KUBERNETES_CLUSTER')) clusters.add(c.displayName)
  }
  return { namespaces: [...namespaces], clusters: [...clusters] }
}

/** A Problem; `fields` (lower case) adds evidenceDetails, impactAnalysis, recentComments. */
export function renderProblem (tenant: Tenant, p: SimProblem, fields: ReadonlySet<string>): Record<string, unknown> {
  const entities = touched(tenant, p)
  const zones = new Map<string, ManagementZone>()
  for (const z of [...entities.flatMap((e) => e.managementZones), ...p.managementZones]) zones.set(z.id, z)
  const { namespaces, clusters } = kubernetesScope(tenant, entities)
  const root = p.rootCauseEntity ?? p.impactedEntities[0]
  const out: Record<string, unknown> = {
    problemId: p.problemId,
    displayId: p.displayId,
    title: p.title,
    impactLevel: p.impactLevel,
    severityLevel: p.severityLevel,
    status: p.status,
    affectedEntities: p.affectedEntities.map((id) => renderStub(tenant, id)),
    impactedEntities: p.impactedEntities.map((id) => renderStub(tenant, id)),
    ...(p.rootCauseEntity === undefined ? {} : { rootCauseEntity: renderStub(tenant, p.rootCauseEntity) }),
    managementZones: [...zones.values()],
    entityTags: problemTags(tenant, p).map(renderTag),
    problemFilters: [{ id: 'c21f969b-5f03-333d-83e0-4f8f136e7682', name: 'Default' }],
    startTime: p.startTime,
    endTime: p.endTime,
    ...(namespaces.length === 0 ? {} : { 'k8s.namespace.name': namespaces }),
    ...(clusters.length === 0 ? {} : { 'k8s.cluster.name': clusters }),
  }
  if (fields.has('evidencedetails')) {
    const details = root === undefined
      ? []
      : [{
          evidenceType: 'EVENT',
          displayName: p.title,
          entity: renderStub(tenant, root),
          rootCauseRelevant: true,
          startTime: p.startTime,
          endTime: p.endTime,
          eventId: `${p.startTime}_${p.problemId}`,
          eventType: p.severityLevel === 'PERFORMANCE' ? 'SERVICE_RESPONSE_TIME_DEGRADED' : 'SERVICE_ERROR_RATE_INCREASED',
        }]
    out.evidenceDetails = { totalCount: details.length, details }
  }
  if (fields.has('impactanalysis')) {
    out.impactAnalysis = {
      impacts: p.impactedEntities.filter((id) => tenant.entities.get(id)?.type === 'SERVICE').map((id) => ({
        impactType: 'SERVICE',
        impactedEntity: renderStub(tenant, id),
        estimatedAffectedUsers: 0,
        numberOfPotentiallyAffectedServiceCalls: 0,
      })),
    }
  }
  if (fields.has('recentcomments')) {
    out.recentComments = { comments: p.comments.slice(0, 10).map(renderComment), totalCount: p.comments.length, pageSize: 10 }
  }
  return out
}

export function renderEvent (tenant: Tenant, e: SimEvent): Record<string, unknown> {
  const entity = e.entityId === undefined ? undefined : tenant.entities.get(e.entityId)
  return {
    eventId: e.eventId,
    startTime: e.startTime,
    endTime: e.endTime,
    eventType: e.eventType,
    title: e.title,
    entityId: e.entityId === undefined ? { entityId: { id: 'environment', type: 'dt.entity.environment' }, name: 'environment' } : renderStub(tenant, e.entityId),
    // The real API returns the ingested map as a list of {key, value}, plus its own dt.* keys.
    properties: [
      ...Object.entries(e.properties).map(([key, value]) => ({ key, value })),
      { key: 'dt.event.is_rootcause_relevant', value: 'true' },
    ],
    status: e.endTime > tenant.now ? 'OPEN' : 'CLOSED',
    correlationId: e.correlationId,
    entityTags: (entity?.tags ?? []).map(renderTag),
    managementZones: entity?.managementZones ?? [],
    underMaintenance: false,
    suppressAlert: false,
    suppressProblem: false,
    frequentEvent: false,
  }
}

/** A SecurityProblem (list item) or, with `details`, a SecurityProblemDetails. */
export function renderSecurityProblem (s: SimSecurityProblem, fields: ReadonlySet<string>, details: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    securityProblemId: s.securityProblemId,
    displayId: s.displayId,
    status: s.status,
    muted: false,
    title: s.title,
    externalVulnerabilityId: s.cveIds[0] ?? s.displayId,
    vulnerabilityType: s.vulnerabilityType,
    technology: s.technology,
    firstSeenTimestamp: s.firstSeenTimestamp,
    lastUpdatedTimestamp: s.lastUpdatedTimestamp,
    cveIds: s.cveIds,
    url: `/ui/security/vulnerabilities/${s.securityProblemId}`,
  }
  if (fields.has('riskassessment')) {
    out.riskAssessment = {
      riskLevel: s.riskLevel,
      riskScore: s.riskScore,
      baseRiskLevel: s.riskLevel,
      baseRiskScore: s.cvssScore ?? s.riskScore,
      exposure: s.exposed ? 'PUBLIC_NETWORK' : 'NOT_DETECTED',
      dataAssets: s.dataAssetsReachable ? 'REACHABLE' : 'NOT_DETECTED',
      publicExploit: s.exploitAvailable ? 'AVAILABLE' : 'NOT_AVAILABLE',
      assessmentAccuracy: 'FULL',
    }
  }
  if (fields.has('managementzones')) out.managementZones = s.managementZones
  if (details) {
    if (fields.has('description')) out.description = s.description
    if (fields.has('affectedentities')) out.affectedEntities = s.affectedEntities
    if (fields.has('exposedentities')) out.exposedEntities = s.exposed ? s.affectedEntities : []
    if (fields.has('reachabledataassets')) out.reachableDataAssets = []
  }
  return out
}

export function renderComment (c: SimComment): Record<string, unknown> {
  return { id: c.id, createdAtTimestamp: c.createdAtTimestamp, content: c.content, authorName: c.authorName, context: c.context }
}
