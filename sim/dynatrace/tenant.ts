/**
 * The simulated tenant: entities, problems with their comments, events and security problems,
 * and how each is rendered in the shapes of the Environment API v2 (the simulator's tests
 * validate those renderings against the OpenAPI component schemas).
 *
 * Plain data and synchronous methods, no Fastify: the routes, the control API and the state file
 * all go through the same methods. Ids are deterministic (derived from names and a counter) so a
 * seeded demo prints the same ids every time.
 */
import { createHash } from 'node:crypto'
import { SimBadRequest, parseSelector } from './query.js'
import type { Criterion } from './query.js'

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
  readonly fromRelationships: Record<string, EntityRef[]>
  readonly toRelationships: Record<string, EntityRef[]>
  readonly firstSeenTms: number
  lastSeenTms: number
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

export interface EntityInput {
  readonly entityId?: string | undefined
  readonly type: string
  readonly displayName: string
  readonly properties?: Record<string, unknown> | undefined
  /** `key`, `key:value`, `[CONTEXT]key:value`, or objects. */
  readonly tags?: ReadonlyArray<string | { key: string, value?: string | undefined, context?: string | undefined }> | undefined
  readonly managementZones?: ReadonlyArray<string | ManagementZone> | undefined
  /** Relationship name → ids of the entities in the TO position. Mirrored on those entities. */
  readonly fromRelationships?: Readonly<Record<string, readonly string[]>> | undefined
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet'

export interface WorkloadInput {
  readonly namespace: string
  readonly name: string
  readonly kind?: WorkloadKind | undefined
  /** Name of the SERVICE entity on top; default: the workload name. */
  readonly service?: string | undefined
  readonly cluster?: string | undefined
  readonly tags?: EntityInput['tags']
  readonly managementZones?: EntityInput['managementZones']
}

export interface Workload {
  readonly service: SimEntity
  readonly processGroup: SimEntity
  readonly workload: SimEntity
  readonly namespace: SimEntity
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
  readonly managementZones?: EntityInput['managementZones']
  readonly securityProblemId?: string | undefined
  readonly displayId?: string | undefined
}

const DEPLOYMENT_TYPES: Record<WorkloadKind, string> = {
  Deployment: 'KUBERNETES_DEPLOYMENT',
  StatefulSet: 'KUBERNETES_STATEFUL_SET',
  DaemonSet: 'KUBERNETES_DAEMON_SET',
}

function hex (seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length).toUpperCase()
}

/** Pure: parses `[CONTEXT]key:value` as Dynatrace writes tags. */
export function parseTag (input: string | { key: string, value?: string | undefined, context?: string | undefined }): Tag {
  if (typeof input !== 'string') return { context: input.context ?? 'CONTEXTLESS', key: input.key, ...(input.value === undefined ? {} : { value: input.value }) }
  const m = /^(?:\[([^\]]+)\])?([^:]+)(?::(.*))?$/.exec(input)
  if (m === null) return { context: 'CONTEXTLESS', key: input }
  return { context: m[1] ?? 'CONTEXTLESS', key: m[2] ?? input, ...(m[3] === undefined ? {} : { value: m[3] }) }
}

/** Pure: Dynatrace's string form of a tag. */
export function tagString (tag: Tag): string {
  const prefix = tag.context === 'CONTEXTLESS' ? '' : `[${tag.context}]`
  return `${prefix}${tag.key}${tag.value === undefined ? '' : `:${tag.value}`}`
}

const renderTag = (tag: Tag): Record<string, string> => ({ ...tag, stringRepresentation: tagString(tag) })

function zone (z: string | ManagementZone): ManagementZone {
  return typeof z === 'string' ? { id: String(BigInt(`0x${hex(`mz:${z}`, 15)}`)), name: z } : z
}

export class Tenant {
  readonly entities = new Map<string, SimEntity>()
  readonly problems = new Map<string, SimProblem>()
  readonly events: SimEvent[] = []
  readonly securityProblems = new Map<string, SimSecurityProblem>()
  #seq = 0

  constructor (readonly now: () => number) {}

  #next (): number { return ++this.#seq }

  addEntity (input: EntityInput): SimEntity {
    const type = input.type.toUpperCase()
    let entityId = input.entityId ?? `${type}-${hex(`${type}:${input.displayName}`, 16)}`
    if (input.entityId === undefined && this.entities.has(entityId)) entityId = `${type}-${hex(`${type}:${input.displayName}:${this.#next()}`, 16)}`
    const at = this.now()
    const entity: SimEntity = {
      entityId,
      type,
      displayName: input.displayName,
      properties: { ...(input.properties ?? {}) },
      tags: (input.tags ?? []).map(parseTag),
      managementZones: (input.managementZones ?? []).map(zone),
      fromRelationships: {},
      toRelationships: {},
      firstSeenTms: at,
      lastSeenTms: at,
    }
    this.entities.set(entityId, entity)
    for (const [relation, ids] of Object.entries(input.fromRelationships ?? {})) {
      for (const id of ids) this.relate(entityId, relation, id)
    }
    return entity
  }

  /** Records `from --relation--> to` on both entities, as Dynatrace shows it from either side. */
  relate (fromId: string, relation: string, toId: string): void {
    const from = this.#entity(fromId, 'fromRelationships')
    const to = this.#entity(toId, 'fromRelationships')
    const push = (list: Record<string, EntityRef[]>, ref: EntityRef): void => {
      const l = list[relation] ?? (list[relation] = [])
      if (!l.some((r) => r.id === ref.id)) l.push(ref)
    }
    push(from.fromRelationships, { id: to.entityId, type: to.type })
    push(to.toRelationships, { id: from.entityId, type: from.type })
  }

  /**
   * A Kubernetes workload as Dynatrace models it: SERVICE runsOn PROCESS_GROUP, which isPgOfCa
   * the CLOUD_APPLICATION (the workload: displayName = workload name, namespaceName, deployment
   * type), whose CLOUD_APPLICATION_NAMESPACE isNamespaceOfCa.
   */
  addWorkload (input: WorkloadInput): Workload {
    const kind = input.kind ?? 'Deployment'
    const nsName = `${input.cluster ?? ''}/${input.namespace}`
    const namespace = [...this.entities.values()].find((e) => e.type === 'CLOUD_APPLICATION_NAMESPACE' && e.properties.sim_key === nsName) ??
      this.addEntity({ type: 'CLOUD_APPLICATION_NAMESPACE', displayName: input.namespace, properties: { sim_key: nsName } })
    const k8sTags = [`k8s.namespace.name:${input.namespace}`, ...(input.tags ?? [])]
    const workload = this.addEntity({
      type: 'CLOUD_APPLICATION',
      displayName: input.name,
      properties: {
        namespaceName: input.namespace,
        cloudApplicationDeploymentTypes: [DEPLOYMENT_TYPES[kind]],
        kubernetesLabels: { app: input.name },
        ...(input.cluster === undefined ? {} : { kubernetesClusterName: input.cluster }),
      },
      tags: k8sTags,
      managementZones: input.managementZones,
    })
    this.relate(namespace.entityId, 'isNamespaceOfCa', workload.entityId)
    const processGroup = this.addEntity({
      type: 'PROCESS_GROUP',
      displayName: `${input.namespace}.${input.name}`,
      properties: { metadata: [{ key: 'KUBERNETES_NAMESPACE', value: input.namespace }] },
      tags: k8sTags,
      managementZones: input.managementZones,
      fromRelationships: { isPgOfCa: [workload.entityId] },
    })
    this.relate(namespace.entityId, 'isNamespaceOfPg', processGroup.entityId)
    const service = this.addEntity({
      type: 'SERVICE',
      displayName: input.service ?? input.name,
      properties: { serviceType: 'WEB_REQUEST_SERVICE' },
      tags: k8sTags,
      managementZones: input.managementZones,
      fromRelationships: { runsOn: [processGroup.entityId] },
    })
    this.relate(namespace.entityId, 'isNamespaceOfService', service.entityId)
    return { service, processGroup, workload, namespace }
  }

  #entity (id: string, field: string): SimEntity {
    const e = this.entities.get(id)
    if (e === undefined) throw new SimBadRequest(field, `Unknown entity ${id}`, 'PAYLOAD_BODY')
    return e
  }

  openProblem (input: ProblemInput): SimProblem {
    if (input.impactedEntities.length === 0) throw new SimBadRequest('impactedEntities', 'A problem needs at least one impacted entity', 'PAYLOAD_BODY')
    for (const id of [...input.impactedEntities, ...(input.affectedEntities ?? []), ...(input.rootCauseEntity === undefined ? [] : [input.rootCauseEntity])]) this.#entity(id, 'impactedEntities')
    const n = this.#next()
    const startTime = input.startTime ?? this.now()
    // Dynatrace's v2 problem ids look like -6386032669938507213_1634684083930V2.
    const problemId = input.problemId ?? `-${BigInt(`0x${hex(`problem:${n}:${input.title}`, 15)}`).toString()}_${startTime}V2`
    const problem: SimProblem = {
      problemId,
      displayId: input.displayId ?? `P-${String(240000 + n)}`,
      title: input.title,
      status: 'OPEN',
      severityLevel: input.severityLevel ?? 'ERROR',
      impactLevel: input.impactLevel ?? 'SERVICES',
      startTime,
      endTime: -1,
      impactedEntities: [...input.impactedEntities],
      affectedEntities: [...(input.affectedEntities ?? input.impactedEntities)],
      rootCauseEntity: input.rootCauseEntity,
      comments: [],
    }
    this.problems.set(problemId, problem)
    return problem
  }

  /** OPEN → CLOSED with endTime; false when it was already closed. */
  closeProblem (problemId: string): boolean {
    const p = this.problem(problemId)
    if (p === undefined || p.status === 'CLOSED') return false
    p.status = 'CLOSED'
    p.endTime = Math.max(this.now(), p.startTime)
    return true
  }

  /** By problemId only, as the API does (it does not resolve display ids in the path). */
  problem (problemId: string): SimProblem | undefined {
    return this.problems.get(problemId)
  }

  /** By problemId or display id (P-…), for the control API's convenience. */
  findProblem (id: string): SimProblem | undefined {
    return this.problems.get(id) ?? [...this.problems.values()].find((p) => p.displayId === id)
  }

  addComment (problem: SimProblem, content: string, context: string, authorName = 'api-token'): SimComment {
    const comment: SimComment = { id: String(BigInt(`0x${hex(`comment:${this.#next()}`, 15)}`)), authorName, content, context, createdAtTimestamp: this.now() }
    problem.comments.unshift(comment)
    return comment
  }

  ingestEvent (input: EventInput): Array<{ correlationId: string, status: 'OK' }> {
    const startTime = input.startTime ?? this.now()
    const timeoutMin = Math.min(input.timeout ?? 15, 360)
    const endTime = input.endTime ?? startTime + timeoutMin * 60_000
    const targets = input.entitySelector === undefined ? [undefined] : this.selectEntities(input.entitySelector).map((e) => e.entityId)
    return targets.map((entityId) => {
      const n = this.#next()
      const correlationId = hex(`corr:${n}`, 16).toLowerCase()
      this.events.push({
        eventId: `${BigInt(`0x${hex(`event:${n}`, 15)}`).toString()}_${startTime}`,
        eventType: input.eventType,
        title: input.title,
        startTime,
        endTime,
        entityId,
        properties: { ...(input.properties ?? {}) },
        correlationId,
      })
      return { correlationId, status: 'OK' as const }
    })
  }

  addSecurityProblem (input: SecurityProblemInput): SimSecurityProblem {
    for (const id of input.affectedEntities) this.#entity(id, 'affectedEntities')
    const n = this.#next()
    const at = this.now()
    const sp: SimSecurityProblem = {
      securityProblemId: input.securityProblemId ?? BigInt(`0x${hex(`security:${n}:${input.title}`, 15)}`).toString(),
      displayId: input.displayId ?? `S-${1000 + n}`,
      status: 'OPEN',
      title: input.title,
      description: input.description ?? '',
      riskLevel: input.riskLevel ?? 'HIGH',
      riskScore: input.riskScore ?? 8.0,
      cvssScore: input.cvssScore,
      technology: input.technology ?? 'JAVA',
      vulnerabilityType: input.vulnerabilityType ?? 'THIRD_PARTY',
      cveIds: [...(input.cveIds ?? [])],
      affectedEntities: [...input.affectedEntities],
      exposed: input.exposed ?? false,
      dataAssetsReachable: input.dataAssetsReachable ?? false,
      exploitAvailable: input.exploitAvailable ?? false,
      managementZones: (input.managementZones ?? []).map(zone),
      firstSeenTimestamp: at,
      lastUpdatedTimestamp: at,
    }
    this.securityProblems.set(sp.securityProblemId, sp)
    return sp
  }

  /** Entities matched by an entitySelector: entityId, type, tag, entityName (all must hold). */
  selectEntities (selector: string): SimEntity[] {
    const criteria = parseSelector('entitySelector', selector)
    return [...this.entities.values()].filter((e) => criteria.every((c) => entityMatches(e, c)))
  }

  // ----- renderings in the API v2 shapes -----

  stub (id: string): Record<string, unknown> {
    const e = this.entities.get(id)
    return e === undefined ? { entityId: { id, type: id.split('-')[0] ?? 'UNKNOWN' } } : { entityId: { id, type: e.type }, name: e.displayName }
  }

  entityJson (e: SimEntity): Record<string, unknown> {
    return {
      entityId: e.entityId,
      type: e.type,
      displayName: e.displayName,
      firstSeenTms: e.firstSeenTms,
      lastSeenTms: e.lastSeenTms,
      properties: Object.fromEntries(Object.entries(e.properties).filter(([k]) => k !== 'sim_key')),
      tags: e.tags.map(renderTag),
      managementZones: e.managementZones,
      icon: { primaryIconType: e.type.toLowerCase() },
      fromRelationships: e.fromRelationships,
      toRelationships: e.toRelationships,
    }
  }

  /** Tags of every entity the problem touches, deduplicated, as the v2 problem lists them. */
  problemTags (p: SimProblem): Tag[] {
    const seen = new Map<string, Tag>()
    for (const id of new Set([...p.impactedEntities, ...p.affectedEntities])) {
      for (const t of this.entities.get(id)?.tags ?? []) seen.set(tagString(t), t)
    }
    return [...seen.values()]
  }

  problemJson (p: SimProblem, fields: ReadonlySet<string>): Record<string, unknown> {
    const touched = [...new Set([...p.impactedEntities, ...p.affectedEntities])].map((id) => this.entities.get(id)).filter((e): e is SimEntity => e !== undefined)
    const zones = new Map<string, ManagementZone>()
    for (const e of touched) for (const z of e.managementZones) zones.set(z.id, z)
    // Dynatrace fills k8s.namespace.name from the Kubernetes metadata of the entities involved.
    const namespaces = [...new Set(touched.flatMap((e) => [e.properties.namespaceName, ...e.tags.filter((tag) => tag.key === 'k8s.namespace.name').map((tag) => tag.value)]).filter((n): n is string => typeof n === 'string'))]
    const root = p.rootCauseEntity ?? p.impactedEntities[0]
    const out: Record<string, unknown> = {
      problemId: p.problemId,
      displayId: p.displayId,
      title: p.title,
      impactLevel: p.impactLevel,
      severityLevel: p.severityLevel,
      status: p.status,
      affectedEntities: p.affectedEntities.map((id) => this.stub(id)),
      impactedEntities: p.impactedEntities.map((id) => this.stub(id)),
      ...(p.rootCauseEntity === undefined ? {} : { rootCauseEntity: this.stub(p.rootCauseEntity) }),
      managementZones: [...zones.values()],
      entityTags: this.problemTags(p).map(renderTag),
      problemFilters: [{ id: 'c21f969b-5f03-333d-83e0-4f8f136e7682', name: 'Default' }],
      startTime: p.startTime,
      endTime: p.endTime,
      ...(namespaces.length === 0 ? {} : { 'k8s.namespace.name': namespaces }),
    }
    if (fields.has('evidencedetails')) {
      const details = root === undefined
        ? []
        : [{
            evidenceType: 'EVENT',
            displayName: p.title,
            entity: this.stub(root),
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
        impacts: p.impactedEntities.filter((id) => this.entities.get(id)?.type === 'SERVICE').map((id) => ({
          impactType: 'SERVICE',
          impactedEntity: this.stub(id),
          estimatedAffectedUsers: 0,
          numberOfPotentiallyAffectedServiceCalls: 0,
        })),
      }
    }
    if (fields.has('recentcomments')) {
      out.recentComments = { comments: p.comments.slice(0, 10).map(commentJson), totalCount: p.comments.length, pageSize: 10 }
    }
    return out
  }

  eventJson (e: SimEvent): Record<string, unknown> {
    const entity = e.entityId === undefined ? undefined : this.entities.get(e.entityId)
    const now = this.now()
    return {
      eventId: e.eventId,
      startTime: e.startTime,
      endTime: e.endTime,
      eventType: e.eventType,
      title: e.title,
      entityId: e.entityId === undefined ? { entityId: { id: 'environment', type: 'dt.entity.environment' }, name: 'environment' } : this.stub(e.entityId),
      // The real API returns the ingested map as a list of {key, value}, plus its own dt.* keys.
      properties: [
        ...Object.entries(e.properties).map(([key, value]) => ({ key, value })),
        { key: 'dt.event.is_rootcause_relevant', value: 'true' },
      ],
      status: e.endTime > now ? 'OPEN' : 'CLOSED',
      correlationId: e.correlationId,
      entityTags: (entity?.tags ?? []).map(renderTag),
      managementZones: entity?.managementZones ?? [],
      underMaintenance: false,
      suppressAlert: false,
      suppressProblem: false,
      frequentEvent: false,
    }
  }

  securityProblemJson (s: SimSecurityProblem, fields: ReadonlySet<string>, details: boolean): Record<string, unknown> {
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
}

export function commentJson (c: SimComment): Record<string, unknown> {
  return { id: c.id, createdAtTimestamp: c.createdAtTimestamp, content: c.content, authorName: c.authorName, context: c.context }
}

/** Pure: the `fields` parameter as a set of lower-case names without the leading `+`. */
export function fieldSet (fields: string | undefined): Set<string> {
  return new Set((fields ?? '').split(',').map((f) => f.trim().replace(/^\+/, '').toLowerCase()).filter((f) => f !== ''))
}

function entityMatches (e: SimEntity, c: Criterion): boolean {
  switch (c.name) {
    case 'entityId': return c.values.includes(e.entityId)
    case 'type': return c.values.some((v) => v.toUpperCase() === e.type)
    case 'tag': return c.values.some((v) => { const t = parseTag(v); return e.tags.some((x) => x.key === t.key && (t.value === undefined || x.value === t.value)) })
    case 'entityName':
    case 'entityName.equals': return c.values.includes(e.displayName)
    case 'entityName.startsWith': return c.values.some((v) => e.displayName.startsWith(v))
    default: throw new SimBadRequest('entitySelector', `The simulator does not support the entitySelector criterion "${c.name}" (supported: entityId, type, tag, entityName, entityName.startsWith)`)
  }
}
