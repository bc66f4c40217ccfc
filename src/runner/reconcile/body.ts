/**
 * What reconciliation takes in, as a notification: the body Dynatrace's recommended template
 * would have sent for the problem, built from the Problems API's problem (or the Security
 * Problems API's), under our field names (PID, ProblemID, State, ProblemTitle, ProblemImpact,
 * ProblemSeverity, ImpactedEntities as {type,name,entity}, ProblemDetailsJSONv2, …). It goes
 * through the intake schema and the same store path as a webhook's, so its keys and dedupe are a
 * webhook's: planning it gives the same run keys as the notification it stands in for.
 *
 * Pure and deterministic: the same problem in the same state gives the same body, so a second
 * reconciliation of a problem not yet planned is a duplicate. The one key of our own,
 * `dt-remediator.occurrence`, is the occurrence reconciliation saw: a re-open found by
 * reconciliation is a new notification even when the API's problem reads as it did the first
 * time, and a RESOLVED it brings closes only the occurrence it saw closed.
 */
import { randomUUID } from 'node:crypto'
import { dedupeKey, toNewNotification, uuidV7, type NewNotification } from '../../domain/notification.js'
import { kindOf } from '../../domain/kinds/index.js'
import type { NotificationKind } from '../../domain/payload.js'
import { formatTag } from '../../domain/tags.js'
import type { Problem, SecurityProblem, SecurityProblemDetails } from '../../dynatrace/schemas.js'

/** The body key carrying the occurrence reconciliation saw. */
export const OCCURRENCE_KEY = 'dt-remediator.occurrence'

/** The Problems API says SERVICES where a notification's {ProblemImpact} says SERVICE. */
const IMPACT: Readonly<Record<string, string>> = { SERVICES: 'SERVICE' }

/** Security notifications spell the Davis risk level as Dynatrace's UI does. */
const SEVERITY: Readonly<Record<string, string>> = { CRITICAL: 'Critical', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low', NONE: 'None' }

/** Pure: a problem notification's body for the Problems API's problem. */
export function problemBody (p: Problem, state: 'OPEN' | 'RESOLVED', occurrence: number, environmentHref: string): Record<string, unknown> {
  const impacted = p.impactedEntities.map((e) => ({ type: e.entityId.type ?? e.entityId.id.split('-')[0] ?? 'UNKNOWN', name: e.name ?? e.entityId.id, entity: e.entityId.id }))
  const names = impacted.map((e) => e.name).join(', ')
  return {
    PID: p.problemId,
    ProblemID: p.displayId,
    State: state,
    ProblemTitle: p.title,
    ProblemImpact: p.impactLevel === undefined ? '' : IMPACT[p.impactLevel] ?? p.impactLevel,
    ProblemSeverity: p.severityLevel ?? '',
    ProblemURL: `${environmentHref}/#problems/problemdetails;pid=${p.problemId}`,
    Tags: p.entityTags.map((t) => formatTag({ context: t.context, key: t.key, value: t.value })).join(', '),
    ImpactedEntity: names,
    ImpactedEntities: impacted,
    ProblemDetailsJSONv2: p,
    [OCCURRENCE_KEY]: occurrence,
  }
}

const flag = (v: boolean | undefined): string => (v === undefined ? '' : v ? 'true' : 'false')

/** Pure: a security notification's body for the Security Problems API's problem (its details add the entities). */
export function securityBody (sp: SecurityProblem, details: SecurityProblemDetails | undefined, occurrence: number, environmentHref: string): Record<string, unknown> {
  const risk = sp.riskAssessment ?? details?.riskAssessment
  return {
    SecurityProblemId: sp.displayId ?? sp.securityProblemId,
    Title: sp.title ?? details?.title ?? '',
    Description: details?.description ?? '',
    Severity: risk?.riskLevel === undefined ? '' : SEVERITY[risk.riskLevel] ?? risk.riskLevel,
    DavisSecurityScore: risk?.riskScore === undefined ? '' : risk.riskScore.toFixed(1),
    SecurityProblemUrl: sp.url ?? `${environmentHref}/ui/security/vulnerabilities/${sp.securityProblemId}`,
    ExploitAvailable: flag(risk?.publicExploit === undefined ? undefined : risk.publicExploit === 'AVAILABLE'),
    Exposed: flag(risk?.exposure === undefined || risk.exposure === 'NOT_AVAILABLE' ? undefined : risk.exposure === 'PUBLIC_NETWORK'),
    DataAssetsReachable: flag(risk?.dataAssets === undefined || risk.dataAssets === 'NOT_AVAILABLE' ? undefined : risk.dataAssets === 'REACHABLE'),
    ManagementZones: sp.managementZones.map((z) => z.name).filter((n): n is string => n !== undefined).join(', '),
    AffectedEntities: details?.affectedEntities ?? [],
    [OCCURRENCE_KEY]: occurrence,
  }
}

/** Pure: the occurrence a reconciled body says it saw (undefined for a webhook's). */
export function occurrenceOf (body: unknown): number | undefined {
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[OCCURRENCE_KEY] : undefined
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined
}

/**
 * The notification to record for a reconciled body, validated by the intake's own schema (a body
 * it refuses is a bug here, reported rather than stored). A security problem has no State in its
 * notifications; a RESOLVED one found by reconciliation carries it (`resolved`), for the runner
 * to close it. A problem body says its State itself.
 */
export function reconciledNotification (kind: NotificationKind, body: Record<string, unknown>, now: number, resolved = false): NewNotification {
  const parsed = kindOf(kind).parse(body)
  if (!parsed.ok) throw new Error(`reconciliation built a ${kind} body the intake refuses: ${parsed.errors.join('; ')}`)
  const n = toNewNotification(uuidV7(now, randomUUID()), kind, parsed.value, body)
  return resolved
    ? { ...n, source: 'reconcile', state: 'RESOLVED', dedupeKey: dedupeKey(n.kind, n.problemId, 'RESOLVED', n.body) }
    : { ...n, source: 'reconcile' }
}
