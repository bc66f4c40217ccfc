/**
 * Problem and security notifications, sent the way Dynatrace sends them: a custom integration
 * renders its payload template by replacing placeholders, JSON-escaping string values (unless a
 * non-JSON Content-Type header is configured, in which case Dynatrace skips escaping), and inserting
 * the JSON placeholders ({ImpactedEntities}, {ProblemDetailsJSON}, {ProblemDetailsJSONv2},
 * {AffectedEntities}) unquoted. `{Tags[key]}` gives a tag's value, "" for a tag without value, and
 * is left as written when the tag does not exist.
 *
 * Rendering and the templates users paste are the product's (src/dynatrace/templates.ts); this
 * file fills the placeholders from the simulated tenant and delivers the result.
 */
import type { Dispatcher } from 'undici'
import { request } from 'undici'
import { json, text, type PlaceholderValue, type Placeholders } from '../../src/dynatrace/templates.js'
import type { SimProblem, SimSecurityProblem, Tag, Tenant } from './tenant/index.js'
import { problemTags, renderProblem, tagString } from './tenant/index.js'

const PROBLEM_IMPACT: Record<string, string> = { SERVICES: 'SERVICE', APPLICATION: 'APPLICATION', INFRASTRUCTURE: 'INFRASTRUCTURE', ENVIRONMENT: 'INFRASTRUCTURE' }

/** Pure (given the tenant): the placeholders of a problem notification. */
export function problemPlaceholders (tenant: Tenant, problem: SimProblem, publicUrl: string): Placeholders {
  const state = problem.status === 'OPEN' ? 'OPEN' : 'RESOLVED'
  const impacted = problem.impactedEntities.map((id) => {
    const e = tenant.entities.get(id)
    return { type: e?.type ?? id.split('-')[0] ?? 'UNKNOWN', name: e?.displayName ?? id, entity: id }
  })
  const names = impacted.map((e) => e.name).join(', ')
  const tags = problemTags(tenant, problem)
  const v2 = renderProblem(tenant, problem, new Set(['evidencedetails', 'impactanalysis']))
  const url = `${publicUrl}/#problems/problemdetails;pid=${problem.problemId}`
  const details = `Problem ${problem.displayId}: ${problem.title} (${state}) on ${names}`
  return {
    tags,
    values: {
      PID: text(problem.problemId),
      ProblemID: text(problem.displayId),
      State: text(state),
      ProblemTitle: text(problem.title),
      ProblemImpact: text(PROBLEM_IMPACT[problem.impactLevel] ?? problem.impactLevel),
      ProblemSeverity: text(problem.severityLevel),
      ProblemURL: text(url),
      Tags: text(tags.map(tagString).join(', ')),
      ImpactedEntity: text(names),
      ImpactedEntityNames: text(names),
      NamesOfImpactedEntities: text(names),
      ImpactedEntities: json(impacted),
      ProblemDetailsText: text(details),
      ProblemDetailsMarkdown: text(`**${details}**`),
      ProblemDetailsHTML: text(`<h1>${escapeHtml(details)}</h1>`),
      ProblemDetailsJSON: json({ ID: problem.problemId, displayName: problem.displayId, status: problem.status, startTime: problem.startTime, endTime: problem.endTime, impactLevel: PROBLEM_IMPACT[problem.impactLevel], severityLevel: problem.severityLevel }),
      ProblemDetailsJSONv2: json(v2),
    },
  }
}

const SEVERITY: Record<SimSecurityProblem['riskLevel'], string> = { CRITICAL: 'Critical', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low', NONE: 'None' }

/** Pure (given the tenant): the placeholders of a security (vulnerability) notification. */
export function securityPlaceholders (tenant: Tenant, sp: SimSecurityProblem, publicUrl: string): Placeholders {
  const tags = new Map<string, Tag>()
  for (const id of sp.affectedEntities) for (const t of tenant.entities.get(id)?.tags ?? []) tags.set(tagString(t), t)
  const flag = (b: boolean): PlaceholderValue => text(b ? 'true' : 'false')
  return {
    tags: [...tags.values()],
    values: {
      SecurityProblemId: text(sp.displayId),
      Title: text(sp.title),
      Description: text(sp.description),
      Severity: text(SEVERITY[sp.riskLevel]),
      DavisSecurityScore: text(sp.riskScore.toFixed(1)),
      CvssScore: text(sp.cvssScore === undefined ? '' : sp.cvssScore.toFixed(1)),
      SecurityProblemUrl: text(`${publicUrl}/ui/security/vulnerabilities/${sp.securityProblemId}`),
      ExploitAvailable: flag(sp.exploitAvailable),
      Exposed: flag(sp.exposed),
      DataAssetsReachable: flag(sp.dataAssetsReachable),
      SensitiveDataReachable: flag(sp.dataAssetsReachable),
      ManagementZones: text(sp.managementZones.map((z) => z.name).join(', ')),
      Tags: text([...tags.values()].map(tagString).join(', ')),
      AffectedEntities: json(sp.affectedEntities),
    },
  }
}

export interface WebhookConfig {
  readonly url: string
  /** Custom headers, as configured in the integration. */
  readonly headers: Readonly<Record<string, string>>
  readonly payload: string
  /** Dynatrace's "Call webhook if problem is closed" (default true). */
  readonly notifyClosedProblems: boolean
}

export interface SentNotification {
  readonly at: number
  /** `workflow`: a Gen 3 workflow's HTTP Request task, rather than a custom integration. */
  readonly kind: 'problem' | 'test' | 'security' | 'workflow'
  readonly state: string | undefined
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
  readonly response: { readonly status: number, readonly body: string } | { readonly error: string }
}

function escapeHtml (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** POSTs one rendered notification; never throws (a failed delivery is part of the record). */
export async function deliver (dispatcher: Dispatcher, webhook: Pick<WebhookConfig, 'url' | 'headers'>, body: string, meta: { kind: SentNotification['kind'], state: string | undefined, at: number, timeoutMs: number }): Promise<SentNotification> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'ruxit server', accept: '*/*' }
  for (const [k, v] of Object.entries(webhook.headers)) headers[k.toLowerCase()] = v
  let response: SentNotification['response']
  try {
    const res = await request(webhook.url, { method: 'POST', headers, body, dispatcher, signal: AbortSignal.timeout(meta.timeoutMs) })
    response = { status: res.statusCode, body: await res.body.text() }
  } catch (err) {
    response = { error: err instanceof Error ? err.message : String(err) }
  }
  return { at: meta.at, kind: meta.kind, state: meta.state, url: webhook.url, headers, body, response }
}
