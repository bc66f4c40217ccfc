/**
 * Plain Enrichment values for the pure tests of matching, resolution and planning: entities in
 * the shape the Entities API v2 gives them (env-v2.json's Entity), linked the way Dynatrace links
 * a Kubernetes workload (SERVICE runsOn PROCESS_GROUP isPgOfCa CLOUD_APPLICATION).
 */
import type { EntityDeploymentEvent, EntityDetails, Enrichment, ImpactedEntity, ProblemFacts } from '../../src/domain/enrichment.js'
import { parseTag } from '../../src/domain/tags.js'

export const PROBLEM_START = Date.parse('2024-05-01T10:15:00Z')

export function details (entityId: string, extra: Partial<Omit<EntityDetails, 'tags'>> & { tags?: string[] } = {}): EntityDetails {
  return {
    entityId,
    type: entityId.split('-')[0],
    displayName: extra.displayName ?? entityId.toLowerCase(),
    properties: extra.properties ?? {},
    tags: (extra.tags ?? []).map(parseTag),
    managementZones: extra.managementZones ?? [],
    fromRelationships: extra.fromRelationships ?? {},
    toRelationships: extra.toRelationships ?? {},
  }
}

export interface Topology {
  readonly service: EntityDetails
  readonly processGroup: EntityDetails
  readonly instance: EntityDetails
  readonly workload: EntityDetails
  readonly related: Record<string, EntityDetails>
}

/** shop/checkout as Dynatrace models it; `kind` is the deployment type. */
export function topology (name = 'checkout', namespace = 'shop', options: { kind?: string, cluster?: string, suffix?: string } = {}): Topology {
  const s = options.suffix ?? '1'
  const ids = { svc: `SERVICE-00000000000000A${s}`, pg: `PROCESS_GROUP-0000000000000B${s}`, pgi: `PROCESS_GROUP_INSTANCE-00000000000C${s}`, ca: `CLOUD_APPLICATION-0000000000000D${s}`, cl: `KUBERNETES_CLUSTER-00000000000E${s}` }
  const workload = details(ids.ca, {
    displayName: name,
    properties: { namespaceName: namespace, cloudApplicationDeploymentTypes: [options.kind ?? 'KUBERNETES_DEPLOYMENT'] },
    toRelationships: { isPgOfCa: [{ id: ids.pg, type: 'PROCESS_GROUP' }], ...(options.cluster === undefined ? {} : { isClusterOfCa: [{ id: ids.cl, type: 'KUBERNETES_CLUSTER' }] }) },
  })
  const processGroup = details(ids.pg, {
    displayName: `${namespace}.${name}`,
    fromRelationships: { isPgOfCa: [{ id: ids.ca, type: 'CLOUD_APPLICATION' }] },
    toRelationships: { runsOn: [{ id: ids.svc, type: 'SERVICE' }], isInstanceOf: [{ id: ids.pgi, type: 'PROCESS_GROUP_INSTANCE' }] },
  })
  const instance = details(ids.pgi, { displayName: `${name}-pod`, fromRelationships: { isInstanceOf: [{ id: ids.pg, type: 'PROCESS_GROUP' }] } })
  const service = details(ids.svc, {
    displayName: `${name}-service`,
    fromRelationships: { runsOn: [{ id: ids.pg, type: 'PROCESS_GROUP' }], runsOnProcessGroupInstance: [{ id: ids.pgi, type: 'PROCESS_GROUP_INSTANCE' }] },
  })
  const related: Record<string, EntityDetails> = { [ids.pg]: processGroup, [ids.pgi]: instance, [ids.ca]: workload }
  if (options.cluster !== undefined) related[ids.cl] = details(ids.cl, { displayName: options.cluster })
  return { service, processGroup, instance, workload, related }
}

export function impacted (d: EntityDetails | string, name?: string): ImpactedEntity {
  const id = typeof d === 'string' ? d : d.entityId
  return { id, type: id.split('-')[0] ?? 'UNKNOWN', name: name ?? (typeof d === 'string' ? id : d.displayName ?? id), details: typeof d === 'string' ? undefined : d, missing: typeof d === 'string' ? 'not read in this test' : undefined }
}

export function problemFacts (overrides: Partial<ProblemFacts> = {}): ProblemFacts {
  return {
    kind: 'problem',
    id: '-6386032669938507213_1634684083930V2',
    displayId: 'P-211020',
    state: 'OPEN',
    status: 'OPEN',
    title: 'Failure rate increase',
    severity: 'ERROR',
    impact: 'SERVICE',
    url: undefined,
    startTime: PROBLEM_START,
    tags: [],
    managementZones: [],
    duplicate: undefined,
    underMaintenance: undefined,
    maintenanceEntities: [],
    clusters: [],
    security: undefined,
    ...overrides,
  }
}

export function deploymentEvent (entityId: string, minutesBefore: number, properties: Record<string, string> = {}): EntityDeploymentEvent {
  return { eventId: `EV-${entityId}-${minutesBefore}`, entityId, startTime: PROBLEM_START - minutesBefore * 60_000, title: 'Deploy checkout 1.4.2', properties: { 'dt.event.deployment.version': '1.4.2', ...properties } }
}

export type EnrichmentOverrides = Omit<Partial<Enrichment>, 'problem'> & { problem?: Partial<ProblemFacts> }

export function enrichment (overrides: EnrichmentOverrides = {}): Enrichment {
  const { problem, ...rest } = overrides
  return {
    source: 'dynatrace',
    notes: [],
    entities: [],
    related: {},
    deploymentEvents: [],
    eventsWindow: { from: PROBLEM_START - 7_200_000, to: PROBLEM_START },
    evidence: [],
    ...rest,
    problem: problemFacts(problem),
  }
}
