/**
 * Problems sent the way Dynatrace's current platform sends them: a workflow whose Davis problem
 * trigger hands the problem's event record (`dt.davis.problems`) to an HTTP Request task, whose
 * body is rendered by the Workflows expression language (Jinja) and POSTed.
 *
 * - davisProblemEvent: the event record of a simulated problem, with the documented fields and
 *   Dynatrace's sample record's shape (`event.id` = the v2 problemId, `display_id`, `event.status`
 *   ACTIVE/CLOSED, `event.category` in Gen 3 names, `affected_entity_ids`, `entity_tags` as
 *   strings, `dt.davis.*`, `maintenance.is_under_maintenance`, ISO times with nanoseconds).
 * - renderWorkflowTemplate: the part of Jinja such a body uses — `event()['k']`,
 *   `event().get('k', default)`, `environment().url`, and the filters `to_json` and `join` —
 *   printing as Jinja prints (a string as is, `True`/`False`/`None`, a Python list), so a body
 *   that forgets `to_json` comes out as the invalid JSON Dynatrace would send. Anything else is
 *   refused with a message, never guessed at.
 */
import type { Tenant, SimProblem } from './tenant/index.js'
import { problemTags, tagString } from './tenant/index.js'

/** A workflow (trigger: Davis problem; task: HTTP Request) calling dt-remediator. */
export interface WorkflowConfig {
  readonly url: string
  /** The task's headers (authentication comes from the credential vault: Basic, here a header). */
  readonly headers: Readonly<Record<string, string>>
  /** The HTTP Request task's payload, with {{ … }} expressions. */
  readonly body: string
}

/** Gen 3 names the severity a category; PERFORMANCE is SLOWDOWN there. */
const CATEGORY: Readonly<Record<SimProblem['severityLevel'], string>> = {
  AVAILABILITY: 'AVAILABILITY',
  CUSTOM_ALERT: 'CUSTOM_ALERT',
  ERROR: 'ERROR',
  INFO: 'INFO',
  MONITORING_UNAVAILABLE: 'MONITORING_UNAVAILABLE',
  PERFORMANCE: 'SLOWDOWN',
  RESOURCE_CONTENTION: 'RESOURCE_CONTENTION',
}

/** Grail writes times with nanoseconds: 2024-07-19T09:54:00.000000000Z. */
const isoNs = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')

/** Pure (given the tenant): the Davis problem event a workflow's trigger hands over for `problem` now. */
export function davisProblemEvent (tenant: Tenant, problem: SimProblem): Record<string, unknown> {
  const closed = problem.status === 'CLOSED'
  const transition = closed ? 'CLOSED' : problem.reopenedAt !== undefined ? 'REOPENED' : 'CREATED'
  return {
    timestamp: isoNs(tenant.now),
    'event.id': problem.problemId,
    display_id: problem.displayId,
    'event.kind': 'DAVIS_PROBLEM',
    'event.name': problem.title,
    'event.description': problem.title,
    'event.status': closed ? 'CLOSED' : 'ACTIVE',
    'event.status_transition': transition,
    'event.category': CATEGORY[problem.severityLevel],
    'event.start': isoNs(problem.startTime),
    ...(closed ? { 'event.end': isoNs(problem.endTime) } : {}),
    affected_entity_ids: [...problem.affectedEntities],
    affected_entity_types: [...new Set(problem.affectedEntities.map((id) => tenant.entities.get(id)?.type ?? id.split('-')[0] ?? 'UNKNOWN'))],
    ...(problem.rootCauseEntity === undefined ? {} : { root_cause_entity_id: problem.rootCauseEntity, root_cause_entity_name: tenant.entities.get(problem.rootCauseEntity)?.displayName ?? problem.rootCauseEntity }),
    entity_tags: problemTags(tenant, problem).map(tagString),
    'dt.davis.event_ids': [],
    'dt.davis.is_duplicate': problem.duplicate,
    'dt.davis.is_frequent_event': false,
    'dt.davis.mute.status': 'NOT_MUTED',
    'maintenance.is_under_maintenance': problem.underMaintenance,
    ...(problem.reopenedAt === undefined ? {} : { 'dt.davis.last_reopen_timestamp': isoNs(problem.reopenedAt) }),
    'dt.analysis.ready': true,
  }
}

export class WorkflowTemplateError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'WorkflowTemplateError'
  }
}

const UNDEFINED = Symbol('undefined')
type Value = unknown

/** What to_json gives: text printed as is. */
class JsonText {
  constructor (readonly text: string) {}
}

/** Splits `expr | f1 | f2('|')` at the pipes outside quotes. */
function pipeline (inner: string): string[] {
  const parts: string[] = []
  let quote: string | undefined
  let current = ''
  for (const ch of inner) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined
    } else if (ch === '\'' || ch === '"') {
      quote = ch
    } else if (ch === '|') {
      parts.push(current)
      current = ''
      continue
    }
    current += ch
  }
  parts.push(current)
  return parts
}

/** Jinja's print of a value: Python's str(). */
function printed (v: Value): string {
  if (v instanceof JsonText) return v.text
  if (v === UNDEFINED || v === undefined) return ''
  if (v === null) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  if (typeof v === 'string') return v
  if (typeof v === 'number') return String(v)
  return repr(v)
}

function repr (v: Value): string {
  if (v === null || v === undefined || v === UNDEFINED) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  if (Array.isArray(v)) return `[${v.map(repr).join(', ')}]`
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${repr(k)}: ${repr(x)}`).join(', ')}}`
  return String(v)
}

/** A literal in an expression: '…', "…", [], true/false/none, a number. */
function literal (text: string): Value {
  const t = text.trim()
  if (/^'(?:[^'\\]|\\.)*'$/.test(t) || /^"(?:[^"\\]|\\.)*"$/.test(t)) return t.slice(1, -1).replace(/\\(.)/g, '$1')
  if (t === '[]') return []
  if (/^(true|True)$/.test(t)) return true
  if (/^(false|False)$/.test(t)) return false
  if (/^(none|None)$/.test(t)) return null
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t)
  throw new WorkflowTemplateError(`unsupported literal ${t}`)
}

function evaluate (expr: string, ctx: { event: Record<string, unknown>, environment: { url: string } }): Value {
  const e = expr.trim()
  let m = /^event\(\)\s*\[\s*('[^']*'|"[^"]*")\s*\]$/.exec(e)
  if (m !== null) {
    const key = literal(m[1] as string) as string
    return Object.hasOwn(ctx.event, key) ? ctx.event[key] : UNDEFINED
  }
  m = /^event\(\)\.get\(\s*('[^']*'|"[^"]*")\s*(?:,\s*(.+?))?\s*\)$/.exec(e)
  if (m !== null) {
    const key = literal(m[1] as string) as string
    return Object.hasOwn(ctx.event, key) ? ctx.event[key] : m[2] === undefined ? null : literal(m[2])
  }
  if (/^environment\(\)\.url$/.test(e)) return ctx.environment.url
  throw new WorkflowTemplateError(`unsupported expression ${e} (the simulator knows event()['key'], event().get('key', default), environment().url)`)
}

function applyFilter (value: Value, filter: string): Value {
  const f = filter.trim()
  if (f === 'to_json') {
    if (value === UNDEFINED) throw new WorkflowTemplateError('to_json of an undefined value (a field the event does not have: use event().get(…, default))')
    return new JsonText(JSON.stringify(value))
  }
  if (value instanceof JsonText) throw new WorkflowTemplateError(`${f} after to_json: to_json comes last`)
  const join = /^join\(\s*('[^']*'|"[^"]*")?\s*\)$/.exec(f)
  if (join !== null) {
    if (!Array.isArray(value)) throw new WorkflowTemplateError(`join of a value that is not a list (${repr(value)})`)
    return value.map(printed).join(join[1] === undefined ? '' : literal(join[1]) as string)
  }
  throw new WorkflowTemplateError(`unsupported filter ${f} (the simulator knows to_json and join)`)
}

/** Pure: the body a workflow's HTTP Request task sends, rendered from the event as Jinja would. */
export function renderWorkflowTemplate (template: string, ctx: { event: Record<string, unknown>, environment: { url: string } }): string {
  return template.replace(/\{\{([\s\S]*?)\}\}/g, (_whole, inner: string) => {
    const [expr = '', ...filters] = pipeline(inner)
    let value = evaluate(expr, ctx)
    for (const f of filters) value = applyFilter(value, f)
    return printed(value)
  })
}
