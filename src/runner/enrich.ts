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
 * the walk run in parallel; the client bounds how many are in flight. A read that fails (404,
 * Dynatrace unreachable after the client's retries) never fails enrichment: it is noted, in words,
 * and the explanation shows it. Without a client, the notes say the notification was the only
 * source.
 */
import type { Logger } from 'pino'
import { epochMs, normalizeState, rootCauseStub, severityOfCategory, typeOfId, type EntityDeploymentEvent, type EntityDetails, type Enrichment, type Evidence, type ImpactedEntity, type ProblemFacts } from '../domain/enrichment.js'
import type { NotificationKind } from '../domain/payload.js'
import { DEPLOYMENT_LOOKBACK_MS } from '../domain/rules/match.js'
import { formatDuration } from '../domain/rules/duration.js'
import { formatTag, parseTagList, type Tag } from '../domain/tags.js'
import { eventScope, nextReads } from '../domain/topology.js'
import type { DynatraceClient } from '../dynatrace/client.js'
import { eventTypeSelector } from '../dynatrace/client.js'
import { entityIdSelectorChunks } from '../dynatrace/selectors.js'
import { isDynatraceApiError } from '../dynatrace/errors.js'
import { problemSchema, type Entity, type Problem, type SecurityProblemDetails } from '../dynatrace/schemas.js'

/** The reads enrichment makes; the full client satisfies it, tests may pass a fake. */
export type EnrichmentSource = Pick<DynatraceClient, 'getProblem' | 'getEntity' | 'getEntities' | 'getEvents' | 'getSecurityProblem' | 'findSecurityProblemByDisplayId'>

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
  readonly signal?: AbortSignal
  readonly log?: Logger
}

/** How deep the walk from an impacted entity goes: SERVICE → PG → CLOUD_APPLICATION → cluster. */
const MAX_WALK_LEVELS = 4

type Body = Record<string, unknown>

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : typeof v === 'number' ? String(v) : undefined)
const flag = (v: unknown): boolean | undefined => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined)
const firstDefined = <T>(...values: Array<T | undefined>): T | undefined => values.find((v) => v !== undefined)

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

function evidenceOf (p: Problem): Evidence[] {
  return (p.evidenceDetails?.details ?? []).map((d) => ({
    evidenceType: d.evidenceType,
    displayName: d.displayName,
    entityId: d.entity?.entityId.id,
    startTime: d.startTime,
    rootCauseRelevant: d.rootCauseRelevant,
  }))
}

const uniqueTags = (tags: readonly Tag[]): Tag[] => [...new Map(tags.map((t) => [formatTag(t), t])).values()]

/** The v2 problem's facts over what the notification said. */
function withProblem (base: ProblemFacts, p: Problem): ProblemFacts {
  const evidence = evidenceOf(p)
  return {
    ...base,
    displayId: base.displayId ?? p.displayId,
    status: p.status,
    title: base.title ?? p.title,
    severity: base.severity ?? p.severityLevel,
    impact: base.impact ?? p.impactLevel,
    startTime: p.startTime,
    tags: uniqueTags([...base.tags, ...p.entityTags.map((t) => ({ context: t.context, key: t.key, value: t.value }))]),
    managementZones: [...new Set([...base.managementZones, ...p.managementZones.map((z) => z.name).filter((n): n is string => n !== undefined)])],
    maintenanceEntities: [...new Set([...base.maintenanceEntities, ...evidence.filter((e) => e.evidenceType === 'MAINTENANCE_WINDOW' && e.entityId !== undefined).map((e) => e.entityId as string)])],
    underMaintenance: base.underMaintenance ?? (evidence.some((e) => e.evidenceType === 'MAINTENANCE_WINDOW' && e.entityId === undefined) ? true : undefined),
    clusters: p['k8s.cluster.name'] ?? base.clusters,
    rootCause: p.rootCauseEntity == null ? base.rootCause : { id: p.rootCauseEntity.entityId.id, type: p.rootCauseEntity.entityId.type, name: p.rootCauseEntity.name },
  }
}

function impactedFromBody (kind: NotificationKind, body: Body): ImpactedEntity[] {
  const list = kind === 'problem' ? body.ImpactedEntities : body.AffectedEntities
  if (!Array.isArray(list)) return []
  const seen = new Set<string>()
  const out: ImpactedEntity[] = []
  for (const item of list) {
    const o = typeof item === 'object' && item !== null ? item as Body : undefined
    const id = typeof item === 'string' ? item : str(o?.entity) ?? str(o?.id)
    if (id === undefined || seen.has(id)) continue
    seen.add(id)
    out.push({ id, type: str(o?.type) ?? typeOfId(id) ?? 'UNKNOWN', name: str(o?.name) ?? id, details: undefined, missing: undefined })
  }
  return out
}

/** Pure: the facts of a notification read from its body alone. */
export function notificationFacts (n: NotificationInput): { problem: ProblemFacts, entities: ImpactedEntity[], evidence: Evidence[], hasDetails: boolean } {
  const body: Body = typeof n.body === 'object' && n.body !== null ? n.body as Body : {}
  const entities = impactedFromBody(n.kind, body)
  if (n.kind === 'security') {
    return {
      problem: {
        kind: 'security',
        id: n.problemId,
        displayId: str(body.SecurityProblemId) ?? n.problemId,
        state: undefined,
        status: undefined,
        title: str(body.Title),
        severity: str(body.Severity)?.toUpperCase(),
        impact: undefined,
        url: str(body.SecurityProblemUrl),
        startTime: undefined,
        tags: parseTagList(str(body.Tags)),
        managementZones: (str(body.ManagementZones) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
        duplicate: undefined,
        underMaintenance: undefined,
        maintenanceEntities: [],
        clusters: [],
        security: {
          severity: str(body.Severity)?.toUpperCase(),
          exposed: flag(body.Exposed),
          exploitAvailable: flag(body.ExploitAvailable),
          dataAssetsReachable: firstDefined(flag(body.DataAssetsReachable), flag(body.SensitiveDataReachable)),
        },
      },
      entities,
      evidence: [],
      hasDetails: false,
    }
  }
  // A Gen 3 workflow's body carries the Davis event's start and category (docs/dynatrace.md).
  const start = epochMs(body['event.start'] ?? body.start)
  let problem: ProblemFacts = {
    kind: 'problem',
    id: n.problemId,
    displayId: str(body.ProblemID),
    state: normalizeState(str(body.State)),
    status: undefined,
    title: str(body.ProblemTitle),
    severity: str(body.ProblemSeverity)?.toUpperCase() ?? severityOfCategory(str(body['event.category'])),
    impact: str(body.ProblemImpact)?.toUpperCase(),
    url: str(body.ProblemURL),
    startTime: start,
    tags: parseTagList(str(body.Tags)),
    managementZones: [],
    duplicate: firstDefined(flag(body.isDuplicate), flag(body.IsDuplicate), flag(body['dt.davis.is_duplicate'])),
    underMaintenance: firstDefined(flag(body.underMaintenance), flag(body.UnderMaintenance), flag(body['maintenance.is_under_maintenance'])),
    maintenanceEntities: [],
    clusters: [],
    security: undefined,
    // A Gen 3 workflow body (WORKFLOW_PROBLEM_BODY_TEMPLATE): the root cause and the mute status under their Davis names.
    rootCause: str(body.root_cause_entity_id) === undefined ? undefined : { id: str(body.root_cause_entity_id) as string, type: typeOfId(str(body.root_cause_entity_id) as string), name: str(body.root_cause_entity_name) },
    muted: str(body['dt.davis.mute.status'])?.trim().toUpperCase() === 'MUTED' ? true : undefined,
  }
  const v2 = problemSchema.safeParse(body.ProblemDetailsJSONv2)
  let evidence: Evidence[] = []
  if (v2.success) {
    problem = withProblem(problem, v2.data)
    evidence = evidenceOf(v2.data)
    for (const stub of v2.data.impactedEntities) {
      const e = entities.find((x) => x.id === stub.entityId.id)
      if (e !== undefined && e.type === 'UNKNOWN' && stub.entityId.type !== undefined) entities[entities.indexOf(e)] = { ...e, type: stub.entityId.type }
    }
  }
  return { problem, entities, evidence, hasDetails: v2.success }
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
  const base = notificationFacts(n)
  const dt = options.dynatrace
  const signal = options.signal
  const lookbackMs = Math.max(options.longestDeployedWithinMs, DEPLOYMENT_LOOKBACK_MS)
  if (dt === undefined) {
    const what = n.kind === 'security' ? 'the notification' : base.hasDetails ? 'the notification and its ProblemDetailsJSONv2' : 'the notification (no ProblemDetailsJSONv2 in the payload template)'
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
  /**
   * Reads the ids not read yet: one GET /entities per `type(…),entityId(…)` selector of at most
   * 2,000 characters (a 2,000-entity problem is tens of requests, not 2,000); an id whose type
   * its prefix does not tell, or that fits no selector, on its own. Each id is read once.
   */
  const readAll = async (ids: readonly string[]): Promise<Array<EntityDetails | string>> => {
    const byType = new Map<string | undefined, string[]>()
    for (const id of new Set(ids)) {
      if (reads.has(id)) continue
      const type = typeOfId(id)
      byType.set(type, [...(byType.get(type) ?? []), id])
    }
    for (const [type, group] of byType) {
      const { selectors, members, unfit } = type === undefined || group.length === 1 ? { selectors: [], members: [], unfit: group } : entityIdSelectorChunks(type, group)
      for (const id of unfit) reads.set(id, dt.getEntity(id, signal).then(toDetails, describeError))
      for (const [i, selector] of selectors.entries()) {
        const listed = dt.getEntities(selector, signal).then(
          (list) => new Map(list.map((e) => [e.entityId, toDetails(e)])),
          (err: unknown) => describeError(err))
        for (const id of members[i] ?? []) {
          reads.set(id, listed.then((got) => typeof got === 'string'
            ? got
            : got.get(id) ?? 'Dynatrace did not list it (no such entity in this environment, or not seen in the last 3 days)'))
        }
      }
    }
    return Promise.all(ids.map(async (id) => reads.get(id) as Promise<EntityDetails | string>))
  }

  const problemRead = n.kind === 'problem'
    ? dt.getProblem(n.problemId, signal).then((p) => ({ problem: withProblem(base.problem, p), evidence: evidenceOf(p) }), (err: unknown) => {
      notes.push(`the problem could not be read: ${describeError(err).replace('no such entity', 'no such problem')}; its facts come from the notification`)
      return { problem: base.problem, evidence: base.evidence }
    })
    : readSecurity(dt, base.problem, n.problemId, signal).then((problem) => ({ problem, evidence: [] as Evidence[] }), (err: unknown) => {
      notes.push(`the security problem could not be read: ${describeError(err)}; its facts come from the notification`)
      return { problem: base.problem, evidence: [] as Evidence[] }
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

  // The walk to the workloads: a level at a time, each level's reads in parallel.
  const related: Record<string, EntityDetails> = {}
  let frontier = candidates.flatMap((e) => (e.details === undefined ? [] : [e.details]))
  for (let level = 0; level < MAX_WALK_LEVELS && frontier.length > 0; level++) {
    const ids = [...new Set(frontier.flatMap(nextReads))]
      .filter((id) => !reads.has(id) && (options.readClusters === true || typeOfId(id) !== 'KUBERNETES_CLUSTER'))
    const details = await readAll(ids)
    const got = ids.map((id, i) => [id, details[i] as EntityDetails | string] as const)
    frontier = []
    for (const [id, d] of got) {
      if (typeof d === 'string') notes.push(`${id} (on the way to the workload) could not be read: ${d}`)
      else {
        related[id] = d
        frontier.push(d)
      }
    }
  }

  // The entities' scopes, read in one events query per entity type: Dynatrace refuses an
  // entityId(…) selector that mixes types.
  let deploymentEvents: EntityDeploymentEvent[] = []
  let eventsWindow: Enrichment['eventsWindow']
  const start = problem.startTime ?? n.receivedAt
  if (problem.startTime === undefined && n.kind === 'problem') notes.push('the problem\'s start time is unknown: deployment events are looked for before the notification arrived')
  const scope = [...new Set(candidates.flatMap((e) => eventScope(e.details, e.id, (id) => related[id])))]
  if (n.kind === 'problem' && scope.length > 0) {
    const from = start - lookbackMs
    const byType = new Map<string, string[]>()
    for (const id of scope) byType.set(typeOfId(id) ?? id, [...(byType.get(typeOfId(id) ?? id) ?? []), id])
    try {
      // Each selector within the API's 2,000 characters (a type's ids in as many as it takes).
      const selectors = [...byType.values()].flatMap((ids) => {
        const chunks = entityIdSelectorChunks(undefined, ids)
        return [...chunks.selectors, ...chunks.unfit.map((id) => entityIdSelectorChunks(undefined, [id], Infinity).selectors[0] as string)]
      })
      const lists = await Promise.all(selectors.map(async (entitySelector) => dt.getEvents({ eventSelector: eventTypeSelector('CUSTOM_DEPLOYMENT'), entitySelector, from, to: start, limit: 1000 }, signal)))
      const seen = new Set<string>()
      deploymentEvents = lists.flat().flatMap((ev): EntityDeploymentEvent[] => {
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

/** S-1234 is a display id: map it to the security problem first. */
async function readSecurity (dt: EnrichmentSource, base: ProblemFacts, id: string, signal: AbortSignal | undefined): Promise<ProblemFacts> {
  let details: SecurityProblemDetails
  if (/^S-\d+$/i.test(id)) {
    const found = await dt.findSecurityProblemByDisplayId(id, signal)
    if (found === undefined) throw new Error(`Dynatrace lists no security problem ${id}`)
    details = await dt.getSecurityProblem(found.securityProblemId, signal)
  } else {
    details = await dt.getSecurityProblem(id, signal)
  }
  const risk = details.riskAssessment
  const s = base.security
  return {
    ...base,
    displayId: details.displayId ?? base.displayId,
    status: details.status,
    title: base.title ?? details.title,
    url: base.url ?? details.url,
    managementZones: [...new Set([...base.managementZones, ...details.managementZones.map((z) => z.name).filter((n): n is string => n !== undefined)])],
    security: {
      severity: s?.severity ?? risk?.riskLevel,
      exposed: s?.exposed ?? (risk?.exposure === undefined || risk.exposure === 'NOT_AVAILABLE' ? undefined : risk.exposure === 'PUBLIC_NETWORK'),
      exploitAvailable: s?.exploitAvailable ?? (risk?.publicExploit === undefined ? undefined : risk.publicExploit === 'AVAILABLE'),
      dataAssetsReachable: s?.dataAssetsReachable ?? (risk?.dataAssets === undefined || risk.dataAssets === 'NOT_AVAILABLE' ? undefined : risk.dataAssets === 'REACHABLE'),
    },
  }
}
