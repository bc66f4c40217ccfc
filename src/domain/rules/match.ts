/**
 * Matching (SPEC 5), pure: for every rule, whether it matched the notification and, when not, the
 * first condition that failed, in words a person reads in `simulate` and in comments ("severity
 * AVAILABILITY not in [ERROR]"). Problem-level conditions are checked first; then each impacted
 * entity on its own (entity types, management zones, tags, maintenance, deployedWithin). A rule
 * matches when the problem passes and at least one entity does; the entities that pass are the
 * ones it acts on.
 */
import type { EntityDeploymentEvent, Enrichment, ImpactedEntity } from '../enrichment.js'
import { kindOf } from '../kinds/index.js'
import { parseTag, tagMatches, type Tag } from '../tags.js'
import { eventScope } from '../topology.js'
import { formatDuration } from './duration.js'
import type { LoadedRule, ProblemConditions, SecurityConditions } from './types.js'

/** Source 4 of target resolution and `${event:…}` look this far back without `deployedWithin`. */
export const DEPLOYMENT_LOOKBACK_MS = 2 * 3_600_000

export interface EntityMatch {
  readonly entityId: string
  readonly matched: boolean
  /** The first entity condition that failed. */
  readonly reason: string | undefined
  /** The CUSTOM_DEPLOYMENT event `deployedWithin` matched. */
  readonly deploymentEvent: EntityDeploymentEvent | undefined
}

export interface RuleMatch {
  readonly rule: string
  readonly matched: boolean
  /** The first condition that failed (for the problem, or "no impacted entity matched: …"). */
  readonly reason: string | undefined
  readonly entities: readonly EntityMatch[]
}

export interface MatchOptions {
  /** When the problem started if enrichment does not know (ms epoch): the notification's arrival. */
  readonly fallbackStartTime: number
}

const list = (values: readonly string[]): string => `[${values.join(', ')}]`
const upper = (s: string | undefined): string | undefined => s?.trim().toUpperCase()

/** SERVICE (notification) and SERVICES (API v2) name the same impact. */
const sameImpact = (a: string, b: string): boolean => a.replace(/S$/, '') === b.replace(/S$/, '')

function problemFailure (w: ProblemConditions, e: Enrichment): string | undefined {
  const p = e.problem
  if (w.duplicates === 'skip' && p.duplicate === true) return 'Dynatrace marks the problem a duplicate of another (duplicates: skip)'
  if (w.severities !== undefined) {
    const s = upper(p.severity)
    if (s === undefined) return `severity unknown (no ProblemSeverity), not in ${list(w.severities)}`
    if (!w.severities.includes(s)) return `severity ${s} not in ${list(w.severities)}`
  }
  if (w.impacts !== undefined) {
    const i = upper(p.impact)
    if (i === undefined) return `impact unknown (no ProblemImpact), not in ${list(w.impacts)}`
    if (!w.impacts.some((x) => sameImpact(x, i))) return `impact ${i} not in ${list(w.impacts)}`
  }
  if (w.title !== undefined) {
    if (p.title === undefined) return `title unknown (no ProblemTitle), so /${w.title.source}/i cannot match`
    if (!w.title.regex.test(p.title)) return `title ${JSON.stringify(p.title)} does not match /${w.title.source}/i`
  }
  return undefined
}

function entityTags (e: Enrichment, entity: ImpactedEntity): Tag[] {
  return [...e.problem.tags, ...(entity.details?.tags ?? [])]
}

function zonesOf (e: Enrichment, entity: ImpactedEntity | undefined): string[] {
  return [...e.problem.managementZones, ...(entity?.details?.managementZones ?? []).map((z) => z.name).filter((n): n is string => n !== undefined)]
}

function tagFailure (wanted: readonly string[], have: readonly Tag[], where: string): string | undefined {
  for (const want of wanted) {
    if (!have.some((h) => tagMatches(parseTag(want), h))) return `tag ${want} is not on ${where}`
  }
  return undefined
}

function zoneFailure (wanted: readonly string[], have: readonly string[], where: string): string | undefined {
  if (wanted.some((z) => have.includes(z))) return undefined
  return `management zones ${have.length === 0 ? '(none)' : list([...new Set(have)])} of ${where} include none of ${list(wanted)}`
}

/** Pure: the newest CUSTOM_DEPLOYMENT event on the entity's scope within `windowMs` before `start`. */
export function deploymentEventFor (e: Enrichment, entity: ImpactedEntity, windowMs: number, start: number): EntityDeploymentEvent | undefined {
  const scope = new Set(eventScope(entity.details, entity.id, (id) => e.related[id]))
  return e.deploymentEvents
    .filter((ev) => scope.has(ev.entityId) && ev.startTime <= start && ev.startTime >= start - windowMs)
    .sort((a, b) => b.startTime - a.startTime)[0]
}

function underMaintenance (e: Enrichment, entity: ImpactedEntity): boolean {
  return e.problem.underMaintenance === true || e.problem.maintenanceEntities.includes(entity.id)
}

function matchProblemEntity (w: ProblemConditions, e: Enrichment, entity: ImpactedEntity, options: MatchOptions): EntityMatch {
  const fail = (reason: string): EntityMatch => ({ entityId: entity.id, matched: false, reason: `${entity.id}: ${reason}`, deploymentEvent: undefined })
  if (w.entityTypes !== undefined && !w.entityTypes.includes(entity.type)) return fail(`entity type ${entity.type} not in ${list(w.entityTypes)}`)
  if (w.managementZones !== undefined) {
    const failure = zoneFailure(w.managementZones, zonesOf(e, entity), 'the problem or the entity')
    if (failure !== undefined) return fail(failure)
  }
  if (w.tags !== undefined) {
    const failure = tagFailure(w.tags, entityTags(e, entity), 'the problem or the entity')
    if (failure !== undefined) return fail(failure)
  }
  if (w.maintenance === 'skip' && underMaintenance(e, entity)) return fail('under maintenance (maintenance: skip)')
  let deploymentEvent: EntityDeploymentEvent | undefined
  if (w.deployedWithinMs !== undefined) {
    if (e.eventsWindow === undefined) return fail(`deployedWithin ${formatDuration(w.deployedWithinMs)}: deployment events were not read (${e.source === 'notification' ? 'DTR_DYNATRACE_URL is not set' : 'see the enrichment notes'})`)
    const start = e.problem.startTime ?? options.fallbackStartTime
    deploymentEvent = deploymentEventFor(e, entity, w.deployedWithinMs, start)
    if (deploymentEvent === undefined) return fail(`no CUSTOM_DEPLOYMENT event on it or its process group instances within ${formatDuration(w.deployedWithinMs)} before the problem started`)
  }
  return { entityId: entity.id, matched: true, reason: undefined, deploymentEvent }
}

function securityFailure (w: SecurityConditions, e: Enrichment): string | undefined {
  const s = e.problem.security
  if (w.severities !== undefined) {
    const sev = upper(s?.severity)
    if (sev === undefined) return `severity unknown (no Severity), not in ${list(w.severities)}`
    if (!w.severities.includes(sev)) return `severity ${sev} not in ${list(w.severities)}`
  }
  const flags = [['exposed', 'Exposed'], ['exploitAvailable', 'ExploitAvailable'], ['dataAssetsReachable', 'DataAssetsReachable']] as const
  for (const [key, field] of flags) {
    const want = w[key]
    if (want === undefined) continue
    const have = s?.[key]
    if (have === undefined) return `${key} unknown (no ${field}), not ${String(want)}`
    if (have !== want) return `${key} is ${String(have)}, not ${String(want)}`
  }
  if (w.managementZones !== undefined) return zoneFailure(w.managementZones, zonesOf(e, undefined), 'the security problem')
  return undefined
}

/** Pure: given a rule and what is known of the notification, whether it matched and why not. */
export function matchRule (rule: LoadedRule, e: Enrichment, options: MatchOptions): RuleMatch {
  const none = (reason: string): RuleMatch => ({ rule: rule.name, matched: false, reason, entities: [] })
  if (!rule.enabled) return none(`disabled: ${rule.disabledReason ?? 'see the load warnings'}`)
  if (rule.on !== e.problem.kind) return none(`on ${rule.on}, but this is a ${e.problem.kind} notification`)
  const closed = kindOf(e.problem.kind).plansNothing(e.problem)
  if (closed !== undefined) return none(closed)
  const rootCause = rule.on === 'problem' && rule.when.rootCause === true
  if (rootCause && e.rootCause === undefined) return none('rootCause: true, but Dynatrace identified no root-cause entity for this problem (no rootCauseEntity / root_cause_entity_id): it matches nothing')
  const candidates = rootCause && e.rootCause !== undefined ? [e.rootCause] : e.entities
  if (candidates.length === 0) return none('the notification names no impacted entity')

  let entities: EntityMatch[]
  if (rule.on === 'problem') {
    const failure = problemFailure(rule.when, e)
    if (failure !== undefined) return none(failure)
    entities = candidates.map((entity) => matchProblemEntity(rule.when, e, entity, options))
  } else {
    const failure = securityFailure(rule.when, e)
    if (failure !== undefined) return none(failure)
    const tags = rule.when.tags
    entities = e.entities.map((entity) => {
      const failed = tags === undefined ? undefined : tagFailure(tags, entityTags(e, entity), 'the security problem or the entity')
      return { entityId: entity.id, matched: failed === undefined, reason: failed === undefined ? undefined : `${entity.id}: ${failed}`, deploymentEvent: undefined }
    })
  }
  const matched = entities.some((m) => m.matched)
  return {
    rule: rule.name,
    matched,
    reason: matched ? undefined : `${rootCause ? 'the root-cause entity did not match' : 'no impacted entity matched'}: ${entities.map((m) => m.reason).join('; ')}`,
    entities,
  }
}
