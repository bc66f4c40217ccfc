/**
 * Dynatrace payload templates: the ones docs/dynatrace.md tells users to paste into a custom
 * integration (RECOMMENDED_*), Dynatrace's own default, the values of its "Send test
 * notification" call, and rendering the way Dynatrace renders: placeholders replaced, string
 * values JSON-escaped (unless a non-JSON Content-Type header is configured, in which case
 * Dynatrace skips escaping), and the JSON placeholders ({ImpactedEntities}, {ProblemDetailsJSON},
 * {ProblemDetailsJSONv2}, {AffectedEntities}) inserted unquoted. `{Tags[key]}` gives a tag's
 * value, "" for a tag without value, and is left as written when the tag does not exist.
 * `send-test` and the Dynatrace simulator both render with these.
 */

export interface TemplateTag {
  readonly context?: string
  readonly key: string
  readonly value?: string | undefined
}

/** The problem payload template to paste into Dynatrace's custom integration. */
export const RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE = `{
  "PID": "{PID}",
  "ProblemID": "{ProblemID}",
  "State": "{State}",
  "ProblemTitle": "{ProblemTitle}",
  "ProblemImpact": "{ProblemImpact}",
  "ProblemSeverity": "{ProblemSeverity}",
  "ProblemURL": "{ProblemURL}",
  "Tags": "{Tags}",
  "ImpactedEntity": "{ImpactedEntity}",
  "ImpactedEntities": {ImpactedEntities},
  "ProblemDetailsJSONv2": {ProblemDetailsJSONv2}
}`

/** The security-problem payload template to paste into Dynatrace's security notification webhook. */
export const RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE = `{
  "SecurityProblemId": "{SecurityProblemId}",
  "Title": "{Title}",
  "Description": "{Description}",
  "Severity": "{Severity}",
  "DavisSecurityScore": "{DavisSecurityScore}",
  "CvssScore": "{CvssScore}",
  "SecurityProblemUrl": "{SecurityProblemUrl}",
  "ExploitAvailable": "{ExploitAvailable}",
  "Exposed": "{Exposed}",
  "DataAssetsReachable": "{DataAssetsReachable}",
  "ManagementZones": "{ManagementZones}",
  "Tags": "{Tags}",
  "AffectedEntities": {AffectedEntities}
}`

/**
 * The HTTP Request task body of a Gen 3 workflow (Davis problem trigger → HTTP Request to
 * /webhooks/problem): our field names from the Davis problem event (`event()`), in the Workflows
 * expression language (Jinja). Strings that may hold quotes, the arrays and the booleans go
 * through `to_json`; Jinja would print a Python list or `True` otherwise. `event.category`, the
 * duplicate and maintenance flags, the start and the last re-open are kept under their Davis
 * names: the runner reads them (severity, `duplicates`/`maintenance` conditions, occurrences).
 */
export const WORKFLOW_PROBLEM_BODY_TEMPLATE = `{
  "PID": "{{ event()['event.id'] }}",
  "ProblemID": "{{ event()['display_id'] }}",
  "State": "{{ event()['event.status'] }}",
  "ProblemTitle": {{ event()['event.name'] | to_json }},
  "ProblemURL": "{{ environment().url }}/ui/apps/dynatrace.davis.problems/problem/{{ event()['event.id'] }}",
  "ImpactedEntities": {{ event()['affected_entity_ids'] | to_json }},
  "Tags": {{ event().get('entity_tags', []) | join(', ') | to_json }},
  "event.category": "{{ event()['event.category'] }}",
  "event.start": "{{ event()['event.start'] }}",
  "dt.davis.is_duplicate": {{ event().get('dt.davis.is_duplicate', false) | to_json }},
  "maintenance.is_under_maintenance": {{ event().get('maintenance.is_under_maintenance', false) | to_json }},
  "dt.davis.last_reopen_timestamp": "{{ event().get('dt.davis.last_reopen_timestamp', '') }}",
  "root_cause_entity_id": "{{ event().get('root_cause_entity_id', '') }}",
  "root_cause_entity_name": {{ event().get('root_cause_entity_name', '') | to_json }},
  "dt.davis.mute.status": "{{ event().get('dt.davis.mute.status', '') }}"
}`

/** Dynatrace's default custom-integration payload, used when a webhook is configured without one. */
export const DYNATRACE_DEFAULT_PAYLOAD_TEMPLATE = '{"State":"{State}","ProblemID":"{ProblemID}","ProblemTitle":"{ProblemTitle}"}'

export type PlaceholderValue =
  | { readonly kind: 'text', readonly value: string }
  | { readonly kind: 'json', readonly value: unknown }

export interface Placeholders {
  readonly values: Readonly<Record<string, PlaceholderValue>>
  readonly tags: readonly TemplateTag[]
}

export const text = (value: string): PlaceholderValue => ({ kind: 'text', value })
export const json = (value: unknown): PlaceholderValue => ({ kind: 'json', value })

/** Pure: renders a payload template. `escape` false mimics a non-JSON Content-Type header. */
export function renderTemplate (template: string, placeholders: Placeholders, escape = true): string {
  const asText = (s: string): string => (escape ? JSON.stringify(s).slice(1, -1) : s)
  return template.replace(/\{([A-Za-z0-9]+)(?:\[([^\]]*)\])?\}/g, (whole, name: string, key: string | undefined) => {
    if (key !== undefined) {
      if (name !== 'Tags') return whole
      const tag = placeholders.tags.find((t) => t.key === key)
      return tag === undefined ? whole : asText(tag.value ?? '')
    }
    const v = placeholders.values[name]
    if (v === undefined) return whole
    return v.kind === 'json' ? JSON.stringify(v.value) : asText(v.value)
  })
}

/** The values Dynatrace documents for "Send test notification" (13 X's in the entity ids). */
export function testPlaceholders (): Placeholders {
  const impacted = [
    { type: 'HOST', name: 'MyHost1', entity: 'HOST-XXXXXXXXXXXXX' },
    { type: 'SERVICE', name: 'MyService1', entity: 'SERVICE-XXXXXXXXXXXXX' },
  ]
  const title = 'Dynatrace problem notification test run'
  return {
    tags: [{ context: 'CONTEXTLESS', key: 'testtag1' }, { context: 'CONTEXTLESS', key: 'testtag2' }],
    values: {
      PID: text('99999'),
      ProblemID: text('999'),
      State: text('OPEN'),
      ProblemTitle: text(title),
      ProblemImpact: text('INFRASTRUCTURE'),
      // Not in the documented test body; an assumption so that templates using it stay valid JSON.
      ProblemSeverity: text('AVAILABILITY'),
      ProblemURL: text('https://example.com'),
      Tags: text('testtag1, testtag2'),
      ImpactedEntity: text('MyHost1, MyService1'),
      ImpactedEntityNames: text('MyHost1, MyService1'),
      NamesOfImpactedEntities: text('MyHost1, MyService1'),
      ImpactedEntities: json(impacted),
      ProblemDetailsText: text('Dynatrace problem notification test run details'),
      ProblemDetailsMarkdown: text('**Dynatrace problem notification test run details**'),
      ProblemDetailsHTML: text('<h1>Dynatrace problem notification test run details</h1>'),
      ProblemDetailsJSON: json({ ID: '99999' }),
      ProblemDetailsJSONv2: json({ problemId: '99999', displayId: '999', title, status: 'OPEN' }),
    },
  }
}

/** Whether Dynatrace would JSON-escape: only when the configured Content-Type (if any) is JSON. */
export function escapesJson (headers: Readonly<Record<string, string>>): boolean {
  const ct = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1]
  return ct === undefined || /json/i.test(ct)
}
