/**
 * Enrichment (SPEC 6): everything matching and target resolution need to know about one
 * notification, read once. From the notification itself (its fields, `ProblemDetailsJSONv2` when
 * the template sends it, a Gen 3 workflow's fields), then — with DTR_DYNATRACE_URL — from the API:
 * the problem (v2, with evidence), each impacted entity (tags, properties, management zones,
 * relationships), the entities on the way to its Kubernetes workload, and the CUSTOM_DEPLOYMENT
 * events on the entity and its process group instances within the longer of the rules'
 * `deployedWithin` and 2h before the problem started.
 *
 * Every read happens once per notification (a map of promises by id) and reads of one level of
 * the walk run in parallel; entity and event reads join those of other notifications planned at
 * the same time, by entity type (./batch.ts), and the client bounds how many are in flight. A read that fails (404,
 * Dynatrace unreachable after the client's retries) never fails enrichment: it is noted, in words,
 * and the explanation shows it. Without a client, the notes say the notification was the only
 * source.
 */
import type { Logger } from 'pino'
import { rootCauseStub, typeOfId, type EntityDeploymentEvent, type EntityDetails, type Enrichment, type ImpactedEntity } from '../domain/enrichment.js'
import type { NotificationFacts } from '../domain/kinds/index.js'
import type { NotificationKind } from '../domain/payload.js'
import { DEPLOYMENT_LOOKBACK_MS } from '../domain/rules/match.js'
import { formatDuration } from '../domain/rules/duration.js'
import type { Tag } from '../domain/tags.js'
import { eventScope, nextReads } from '../domain/topology.js'
import { eventTypeSelector } from '../dynatrace/client.js'
import { entityIdSelectorChunks } from '../dynatrace/selectors.js'
import { isDynatraceApiError } from '../dynatrace/errors.js'
import type { Entity } from '../dynatrace/schemas.js'
import { batchedReads } from './batch.js'
import { runnerKind, type BodyFacts, type EnrichmentSource, type ProblemRead } from './kinds/index.js'

export type { EnrichmentSource } from './kinds/index.js'

/** A notification as the store keeps it (the fields enrichment reads). */
export interface NotificationInput {
  readonly kind: NotificationKind
  readonly problemId: string
  readonly body: unknown
  /** ms epoch; the start time of last resort. */
  readonly receivedAt: number
}

export interface EnrichOptions {
  /** undefined without DTR_DYNATRACE_URL. */
  readonly dynatrace: EnrichmentSource | undefined
  /** LoadedRules.longestDeployedWithinMs. */
  readonly longestDeployedWithinMs: number
  /** Read the workloads' cluster entities too (DTR_CLUSTER_NAME is set). */
  readonly readClusters?: boolean
  /**
   * The problem as the status read before planning finds it: enrichment takes its facts from that
   * answer instead of reading the problem again (its entity reads start meanwhile). When it gives
   * nothing (absent, or the status read failed), enrichment reads the problem itself.
   */
  readonly problemRead?: Promise<ProblemRead | undefined> | undefined
  readonly signal?: AbortSignal
  readonly log?: Logger
}

/** How deep the walk from an impacted entity goes: SERVICE → PG → CLOUD_APPLICATION → cluster. */
const MAX_WALK_LEVELS = 4
/** Deployment events kept per entity read (a query's limit). */
const EVENTS_LIMIT = 1000

function toDetails (e: Entity): EntityDetails {
  return {
    entityId: e.entityId,
    type: e.type,
    displayName: e.displayName,
    properties: e.properties,
    tags: e.tags.map((t): Tag => ({ context: t.context, key: t.key, value: t.value })),
    managementZones: e.managementZones.map((z) => ({ id: z.id, name: z.name })),
    fromRelationships: e.fromRelationships,
    toRelationships: e.toRelationships,
  }
}

/**
 * Pure: the facts of a stored notification read from its body alone. The body is read by its
 * kind's payload schema, the one the webhook validated it with (src/domain/kinds/); a body that
 * schema refuses (stored by a release whose schema was looser) gives only what the store row
 * says, the problem's id.
 */
export function notificationFacts (n: NotificationInput): BodyFacts {
  const kind = runnerKind(n.kind)
  const parsed = kind.domain.parse(n.body)
  if (!parsed.ok) return kind.bodyFacts(bareFacts(n))
  const facts = kind.domain.facts(parsed.value)
  // The store row says whose notification it is (the key its runs are under).
  return kind.bodyFacts({ ...facts, problem: { ...facts.problem, id: n.problemId } })
}

function bareFacts (n: NotificationInput): NotificationFacts {
  return {
    problem: { kind: n.kind, id: n.problemId, displayId: undefined, state: undefined, status: undefined, title: undefined, severity: undefined, impact: undefined, url: undefined, startTime: undefined, tags: [], managementZones: [], duplicate: undefined, underMaintenance: undefined, maintenanceEntities: [], clusters: [], security: undefined },
    entities: [],
    apiDetails: undefined,
  }
}

function describeError (err: unknown): string {
  if (isDynatraceApiError(err)) {
    if (err.responseStatus === 404) return 'Dynatrace answered 404 (no such entity in this environment)'
    return err.responseStatus === undefined ? `Dynatrace could not be reached (${err.message})` : `Dynatrace answered ${err.responseStatus} (${err.message})`
  }
  return (err as Error).message ?? String(err)
}

/** Reads the notification's facts from the API; each entity once, a level of the walk at a time. */
export async function enrich (n: NotificationInput, options: EnrichOptions): Promise<Enrichment> {
  const kind = runnerKind(n.kind)
  const base = notificationFacts(n)
  const dt = options.dynatrace
  const signal = options.signal
  const lookbackMs = Math.max(options.longestDeployedWithinMs, DEPLOYMENT_LOOKBACK_MS)
  if (dt === undefined) {
    const what = kind.knownFrom(base)
    return {
      source: 'notification',
      notes: [`DTR_DYNATRACE_URL is not set: known from ${what} alone; no entity tags, relationships or deployment events were read`],
      problem: base.problem,
      entities: base.entities.map((e) => ({ ...e, missing: 'DTR_DYNATRACE_URL is not set' })),
      related: {},
      deploymentEvents: [],
      eventsWindow: undefined,
      evidence: base.evidence,
      rootCause: rootCauseStub(base.problem, base.entities.map((e) => ({ ...e, missing: 'DTR_DYNATRACE_URL is not set' })), 'DTR_DYNATRACE_URL is not set'),
    }
  }

  const notes: string[] = []
  const reads = new Map<string, Promise<EntityDetails | string>>()
  const batched = batchedReads(dt)
  /**
   * Reads the ids not read yet, each once: joined with the reads of its type, this
   * notification's and other notifications' (./batch.ts), in GET /entities requests whose
   * `type(…),entityId(…)` selectors stay within 2,000 characters (a 2,000-entity problem is tens
   * of requests, not 2,000); an id whose type its prefix does not tell, or too long for a
   * selector, on its own.
   */
  const readAll = async (ids: readonly string[]): Promise<Array<EntityDetails | string>> => {
    for (const id of new Set(ids)) {
      if (reads.has(id)) continue
      const type = typeOfId(id)
      if (type === undefined || !batched.fits(type, id)) {
        reads.set(id, dt.getEntity(id, signal).then(toDetails, describeError))
        continue
      }
      reads.set(id, batched.entity(type, id, signal).then(
        (e) => (e === undefined ? 'Dynatrace did not list it (no such entity in this environment, or not seen in the last 3 days)' : toDetails(e)),
        describeError))
    }
    return Promise.all(ids.map(async (id) => reads.get(id) as Promise<EntityDetails | string>))
  }

  const problemRead = Promise.resolve(options.problemRead).then(async (read) => (read !== undefined ? read(base.problem) : kind.readProblem(dt, base.problem, n.problemId, signal))).catch((err: unknown) => {
    notes.push(`${kind.readSubject} could not be read: ${describeError(err).replace('no such entity', 'no such problem')}; its facts come from the notification`)
    return { problem: base.problem, evidence: base.evidence }
  })

  const [{ problem, evidence }, first] = await Promise.all([problemRead, readAll(base.entities.map((e) => e.id))])
  const entities = base.entities.map((e, i): ImpactedEntity => {
    const got = first[i] as EntityDetails | string
    if (typeof got === 'string') {
      notes.push(`${e.id} could not be read: ${got}`)
      return { ...e, missing: got }
    }
    return { ...e, type: e.type === 'UNKNOWN' ? got.type ?? e.type : e.type, name: e.name === e.id ? got.displayName ?? e.name : e.name, details: got }
  })

  // The root cause (when:rootCause), read like an impacted entity when it is not one.
  let rootCause = rootCauseStub(problem, entities, undefined)
  if (rootCause !== undefined && rootCause.details === undefined && rootCause.missing === undefined) {
    const got = (await readAll([rootCause.id]))[0] as EntityDetails | string
    if (typeof got === 'string') notes.push(`the root-cause entity ${rootCause.id} could not be read: ${got}`)
    rootCause = typeof got === 'string' ? { ...rootCause, missing: got } : { ...rootCause, type: rootCause.type === 'UNKNOWN' ? got.type ?? rootCause.type : rootCause.type, name: rootCause.name === rootCause.id ? got.displayName ?? rootCause.name : rootCause.name, details: got }
  }
  const candidates = rootCause === undefined || entities.includes(rootCause) ? entities : [...entities, rootCause]

  // The walk to the workloads: a level at a time, each level's reads in parallel. An entity on
  // the way that was read already — an impacted entity, as a service's process group often is —
  // is not read again, but it is on the way: resolution looks it up in `related`.
  const related: Record<string, EntityDetails> = {}
  let frontier = candidates.flatMap((e) => (e.details === undefined ? [] : [e.details]))
  const visited = new Set([...candidates.map((e) => e.id)])
  for (let level = 0; level < MAX_WALK_LEVELS && frontier.length > 0; level++) {
    const ids = [...new Set(frontier.flatMap(nextReads))]
      .filter((id) => related[id] === undefined && (options.readClusters === true || typeOfId(id) !== 'KUBERNETES_CLUSTER'))
    const details = await readAll(ids)
    const got = ids.map((id, i) => [id, details[i] as EntityDetails | string] as const)
    frontier = []
    for (const [id, d] of got) {
      const first = !visited.has(id)
      visited.add(id)
      if (typeof d === 'string') {
        // Said once: an impacted entity's failed read was noted already.
        if (first) notes.push(`${id} (on the way to the workload) could not be read: ${d}`)
        continue
      }
      related[id] = d
      if (first) frontier.push(d)
    }
  }

  // The entities' scopes, read in one events query per entity type: Dynatrace refuses an
  // entityId(…) selector that mixes types.
  let deploymentEvents: EntityDeploymentEvent[] = []
  let eventsWindow: Enrichment['eventsWindow']
  const start = problem.startTime ?? n.receivedAt
  if (problem.startTime === undefined && kind.readsDeploymentEvents) notes.push('the problem\'s start time is unknown: deployment events are looked for before the notification arrived')
  const scope = [...new Set(candidates.flatMap((e) => eventScope(e.details, e.id, (id) => related[id])))]
  if (kind.readsDeploymentEvents && scope.length > 0) {
    const from = start - lookbackMs
    const eventSelector = eventTypeSelector('CUSTOM_DEPLOYMENT')
    try {
      // Each id's events through the shared reads of its type (./batch.ts); an id whose type its
      // prefix does not tell, or whose shared read was cut short, in a query of its own.
      const alone: string[] = []
      const shared = await Promise.all(scope.map(async (id) => {
        const type = typeOfId(id)
        const got = type === undefined ? undefined : await batched.events(eventSelector, type, id, { from, to: start }, signal)
        if (got === undefined) alone.push(id)
        return got ?? []
      }))
      const own = await Promise.all(alone.map(async (id) => dt.getEvents({ eventSelector, entitySelector: entityIdSelectorChunks(undefined, [id], Infinity).selectors[0] as string, from, to: start, limit: EVENTS_LIMIT }, signal)))
      const seen = new Set<string>()
      deploymentEvents = [...shared.map((l) => l.slice(0, EVENTS_LIMIT)), ...own].flat().flatMap((ev): EntityDeploymentEvent[] => {
        const entityId = ev.entityId?.entityId.id
        if (entityId === undefined || seen.has(`${ev.eventId}/${entityId}`)) return []
        seen.add(`${ev.eventId}/${entityId}`)
        const properties = Object.fromEntries(ev.properties.filter((p) => p.value !== undefined).map((p) => [p.key, p.value as string]))
        return [{ eventId: ev.eventId, entityId, startTime: ev.startTime, title: ev.title ?? 'CUSTOM_DEPLOYMENT', properties }]
      }).sort((a, b) => b.startTime - a.startTime)
      eventsWindow = { from, to: start }
    } catch (err) {
      notes.push(`deployment events within ${formatDuration(lookbackMs)} could not be read: ${describeError(err)}`)
    }
  }
  options.log?.debug({ problemId: n.problemId, entities: entities.length, related: Object.keys(related).length, deploymentEvents: deploymentEvents.length }, 'enriched')
  return { source: 'dynatrace', notes, problem, entities, related, deploymentEvents, eventsWindow, evidence, rootCause }
}
