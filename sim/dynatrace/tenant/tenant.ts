/**
 * The simulated tenant's state and the only code that changes it: entities and the relationships
 * between them, problems (opened, closed, re-opened) with their comments, events, and security
 * problems. Plain data and synchronous methods, no Fastify: the API routes, the control API and
 * the state file all go through these methods, and render.ts turns the state into API shapes.
 */
import { SimBadRequest } from '../query.js'
import { entityIdFor, hex, parseTag, uniqueTags, zone } from './model.js'
import type { EntityInput, EntityRef, EventInput, ProblemInput, Relationship, SecurityProblemInput, SimComment, SimEntity, SimEvent, SimProblem, SimSecurityProblem } from './model.js'
import { relationshipProblem } from './relationships.js'
import { selectEntities } from './selectors.js'
import type { EntityGraph } from './selectors.js'

/** Dynatrace re-opens a closed problem only within this window; later, a new problem opens. */
export const REOPEN_WINDOW_MS = 30 * 60_000

export type ReopenOutcome = 'reopened' | 'open' | 'too-late'

export class Tenant implements EntityGraph {
  readonly entities = new Map<string, SimEntity>()
  readonly relationships: Relationship[] = []
  readonly problems = new Map<string, SimProblem>()
  readonly events: SimEvent[] = []
  readonly securityProblems = new Map<string, SimSecurityProblem>()
  readonly #from = new Map<string, Relationship[]>()
  readonly #to = new Map<string, Relationship[]>()
  #seq = 0

  constructor (readonly clock: () => number) {}

  get now (): number { return this.clock() }

  #next (): number { return ++this.#seq }

  addEntity (input: EntityInput): SimEntity {
    const type = input.type.toUpperCase()
    if (input.entityId !== undefined && this.entities.has(input.entityId)) throw new SimBadRequest('entityId', `Entity ${input.entityId} exists already`, 'PAYLOAD_BODY')
    let entityId = input.entityId ?? entityIdFor(type, input.displayName)
    if (input.entityId === undefined && this.entities.has(entityId)) entityId = entityIdFor(type, `${input.displayName}:${this.#next()}`)
    // Resolve every relationship before storing anything, so a refused input leaves no trace.
    const edges: Relationship[] = [
      ...Object.entries(input.fromRelationships ?? {}).flatMap(([relation, ids]) => ids.map((to) => ({ from: entityId, relation, to }))),
      ...Object.entries(input.toRelationships ?? {}).flatMap(([relation, ids]) => ids.map((from) => ({ from, relation, to: entityId }))),
    ]
    const typeOf = (id: string): string => id === entityId ? type : this.#entity(id, 'relationships').type
    for (const r of edges) this.#check(typeOf(r.from), r.relation, typeOf(r.to))
    const entity: SimEntity = {
      entityId,
      type,
      displayName: input.displayName,
      properties: { ...(input.properties ?? {}) },
      tags: uniqueTags((input.tags ?? []).map(parseTag)),
      managementZones: (input.managementZones ?? []).map(zone),
      firstSeenTms: this.now,
    }
    this.entities.set(entityId, entity)
    for (const r of edges) this.relate(r.from, r.relation, r.to)
    return entity
  }

  #check (fromType: string, relation: string, toType: string): void {
    const why = relationshipProblem(fromType, relation, toType)
    if (why !== undefined) throw new SimBadRequest('relationships', why, 'PAYLOAD_BODY')
  }

  /** Records `from --relation--> to` once; both entities show it, from their own side. */
  relate (fromId: string, relation: string, toId: string): void {
    const from = this.#entity(fromId, 'relationships')
    const to = this.#entity(toId, 'relationships')
    this.#check(from.type, relation, to.type)
    if (this.#from.get(fromId)?.some((r) => r.relation === relation && r.to === toId) === true) return
    const r: Relationship = { from: fromId, relation, to: toId }
    this.relationships.push(r)
    push(this.#from, fromId, r)
    push(this.#to, toId, r)
  }

  related (id: string, position: 'from' | 'to', relation: string): string[] {
    return position === 'from'
      ? (this.#from.get(id) ?? []).filter((r) => r.relation === relation).map((r) => r.to)
      : (this.#to.get(id) ?? []).filter((r) => r.relation === relation).map((r) => r.from)
  }

  /** The relationships where `id` is in `position`, grouped by name, as the API lists them. */
  relationshipsOf (id: string, position: 'from' | 'to'): Record<string, EntityRef[]> {
    const out: Record<string, EntityRef[]> = {}
    for (const r of (position === 'from' ? this.#from : this.#to).get(id) ?? []) {
      const other = this.entities.get(position === 'from' ? r.to : r.from)
      if (other !== undefined) (out[r.relation] ??= []).push({ id: other.entityId, type: other.type })
    }
    return out
  }

  /** The first entity of `type` named `name` that satisfies `where`, if any. */
  findEntity (type: string, name: string, where: (e: SimEntity) => boolean = () => true): SimEntity | undefined {
    return [...this.entities.values()].find((e) => e.type === type && e.displayName === name && where(e))
  }

  #entity (id: string, field: string): SimEntity {
    const e = this.entities.get(id)
    if (e === undefined) throw new SimBadRequest(field, `Unknown entity ${id}`, 'PAYLOAD_BODY')
    return e
  }

  /** Entities matched by an entitySelector (see selectors.ts). */
  selectEntities (selector: string, parameter = 'entitySelector'): SimEntity[] {
    return selectEntities(this, parameter, selector)
  }

  openProblem (input: ProblemInput): SimProblem {
    if (input.impactedEntities.length === 0) throw new SimBadRequest('impactedEntities', 'A problem needs at least one impacted entity', 'PAYLOAD_BODY')
    for (const id of [...input.impactedEntities, ...(input.affectedEntities ?? []), ...(input.rootCauseEntity === undefined ? [] : [input.rootCauseEntity])]) this.#entity(id, 'impactedEntities')
    const n = this.#next()
    const startTime = input.startTime ?? this.now
    // Dynatrace's v2 problem ids look like -6386032669938507213_1634684083930V2.
    const problemId = input.problemId ?? `-${BigInt(`0x${hex(`problem:${n}:${input.title}`, 15)}`).toString()}_${startTime}V2`
    if (this.problems.has(problemId)) throw new SimBadRequest('problemId', `Problem ${problemId} exists already`, 'PAYLOAD_BODY')
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
      managementZones: (input.managementZones ?? []).map(zone),
      entityTags: uniqueTags((input.entityTags ?? []).map(parseTag)),
      occurrence: 1,
      closedAt: undefined,
      reopenedAt: undefined,
      duplicate: input.duplicate ?? false,
      underMaintenance: input.underMaintenance ?? false,
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
    p.endTime = Math.max(this.now, p.startTime)
    p.closedAt = this.now
    return true
  }

  /**
   * CLOSED → OPEN again under the same problem id, as Dynatrace does when the issue comes back
   * within 30 minutes of the close: endTime is -1 again and the occurrence counts up. Later than
   * that, Dynatrace opens a new problem instead ('too-late', nothing changes).
   */
  reopenProblem (problemId: string): ReopenOutcome | undefined {
    const p = this.problem(problemId)
    if (p === undefined) return undefined
    if (p.status === 'OPEN') return 'open'
    if (p.closedAt !== undefined && this.now - p.closedAt > REOPEN_WINDOW_MS) return 'too-late'
    p.status = 'OPEN'
    p.endTime = -1
    p.occurrence++
    p.reopenedAt = this.now
    return 'reopened'
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
    const comment: SimComment = { id: String(BigInt(`0x${hex(`comment:${this.#next()}`, 15)}`)), authorName, content, context, createdAtTimestamp: this.now }
    problem.comments.unshift(comment)
    return comment
  }

  ingestEvent (input: EventInput): Array<{ correlationId: string, status: 'OK' }> {
    const startTime = input.startTime ?? this.now
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
    const at = this.now
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
}

function push<K, V> (map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}
