import t from 'tap'
import type { Enrichment } from '../../../src/domain/enrichment.js'
import { matchRule } from '../../../src/domain/rules/match.js'
import { parseTag } from '../../../src/domain/tags.js'
import { deploymentEvent, details, enrichment, impacted, PROBLEM_START, topology, type EnrichmentOverrides } from '../../helpers/enrichment.js'
import { loadRules } from '../../helpers/rules.js'

const checkout = topology()

/** One problem rule with these `when` conditions (YAML flow map). */
function ruleWith (when: string, on = 'problem', extra = '') {
  const action = on === 'problem' ? 'kubernetes.restart' : 'notify.slack\n        with: { webhookUrl: "https://hooks.slack.com/x" }'
  const rules = loadRules(`rules:\n  - name: r\n    on: ${on}\n    when: ${when}\n    actions:\n      - use: ${action}\n${extra}`)
  const rule = rules.rules[0]
  if (rule === undefined) throw new Error('no rule')
  return rule
}

const serviceProblem = (overrides: EnrichmentOverrides = {}) => enrichment({ entities: [impacted(checkout.service)], related: checkout.related, ...overrides })
const match = (when: string, e: Enrichment, on = 'problem') => matchRule(ruleWith(when, on), e, { fallbackStartTime: PROBLEM_START })

t.test('each problem condition: matched, and the first failure in words', async (t) => {
  const cases: Array<[string, string, Enrichment, string | undefined]> = [
    ['no conditions', '{}', serviceProblem(), undefined],
    ['severity in', '{ severities: [ERROR, AVAILABILITY] }', serviceProblem(), undefined],
    ['severity not in', '{ severities: [ERROR] }', serviceProblem({ problem: { severity: 'AVAILABILITY' } }), 'severity AVAILABILITY not in [ERROR]'],
    ['severity unknown', '{ severities: [ERROR] }', serviceProblem({ problem: { severity: undefined } }), 'severity unknown (no ProblemSeverity), not in [ERROR]'],
    ['impact SERVICE matches SERVICES', '{ impacts: [SERVICE] }', serviceProblem({ problem: { impact: 'SERVICES' } }), undefined],
    ['impact not in', '{ impacts: [APPLICATION] }', serviceProblem(), 'impact SERVICE not in [APPLICATION]'],
    ['title matches, any case', '{ title: "FAILURE rate|response time" }', serviceProblem(), undefined],
    ['title does not match', '{ title: "response time" }', serviceProblem(), 'title "Failure rate increase" does not match /response time/i'],
    ['a duplicate is skipped', '{}', serviceProblem({ problem: { duplicate: true } }), 'Dynatrace marks the problem a duplicate of another (duplicates: skip)'],
    ['a duplicate is included when asked', '{ duplicates: include }', serviceProblem({ problem: { duplicate: true } }), undefined],
    ['RESOLVED plans nothing', '{}', serviceProblem({ problem: { state: 'RESOLVED' } }), 'the notification is RESOLVED: a resolution starts no action'],
    ['another State plans nothing', '{}', serviceProblem({ problem: { state: 'MERGED' } }), 'State "MERGED" is neither OPEN nor RESOLVED: it plans nothing'],
    ['a problem closed in Dynatrace plans nothing', '{}', serviceProblem({ problem: { status: 'CLOSED' } }), 'the problem is closed in Dynatrace: a closed problem plans nothing'],
    ['no impacted entity', '{}', enrichment(), 'the notification names no impacted entity'],
    ['a security notification', '{}', serviceProblem({ problem: { kind: 'security' } }), 'on problem, but this is a security notification'],
  ]
  for (const [what, when, e, reason] of cases) {
    const m = match(when, e)
    t.same({ matched: m.matched, reason: m.reason }, { matched: reason === undefined, reason }, what)
  }
})

t.test('each entity condition, per entity, and the rule matches when one entity does', async (t) => {
  const svc = checkout.service.entityId
  const cases: Array<[string, string, Enrichment, string | undefined]> = [
    ['entity type in', '{ entityTypes: [SERVICE] }', serviceProblem(), undefined],
    ['entity type not in', '{ entityTypes: [CLOUD_APPLICATION] }', serviceProblem(), `no impacted entity matched: ${svc}: entity type SERVICE not in [CLOUD_APPLICATION]`],
    ['tag key on the problem', '{ tags: [env] }', serviceProblem({ problem: { tags: [parseTag('env:production')] } }), undefined],
    ['tag key:value on the entity', '{ tags: ["env:production"] }', serviceProblem({ entities: [impacted({ ...checkout.service, tags: [parseTag('env:production')] })] }), undefined],
    ['tag value differs', '{ tags: ["env:production"] }', serviceProblem({ problem: { tags: [parseTag('env:staging')] } }), `no impacted entity matched: ${svc}: tag env:production is not on the problem or the entity`],
    ['tag with context', '{ tags: ["[Kubernetes]app:checkout"] }', serviceProblem({ entities: [impacted({ ...checkout.service, tags: [{ context: 'KUBERNETES', key: 'app', value: 'checkout' }] })] }), undefined],
    ['tag in another context', '{ tags: ["[AWS]app:checkout"] }', serviceProblem({ entities: [impacted({ ...checkout.service, tags: [{ context: 'KUBERNETES', key: 'app', value: 'checkout' }] })] }), `no impacted entity matched: ${svc}: tag [AWS]app:checkout is not on the problem or the entity`],
    ['every tag must be there', '{ tags: [env, team] }', serviceProblem({ problem: { tags: [parseTag('env:production')] } }), `no impacted entity matched: ${svc}: tag team is not on the problem or the entity`],
    ['management zone of the problem', '{ managementZones: [Shop] }', serviceProblem({ problem: { managementZones: ['Shop'] } }), undefined],
    ['management zone of the entity', '{ managementZones: [Shop] }', serviceProblem({ entities: [impacted({ ...checkout.service, managementZones: [{ id: '1', name: 'Shop' }] })] }), undefined],
    ['management zone missing', '{ managementZones: [Shop] }', serviceProblem({ problem: { managementZones: ['Payments'] } }), `no impacted entity matched: ${svc}: management zones [Payments] of the problem or the entity include none of [Shop]`],
    ['under maintenance', '{}', serviceProblem({ problem: { maintenanceEntities: [svc] } }), `no impacted entity matched: ${svc}: under maintenance (maintenance: skip)`],
    ['under maintenance, included', '{ maintenance: include }', serviceProblem({ problem: { underMaintenance: true } }), undefined],
    ['deployed within, on the entity', '{ deployedWithin: 30m }', serviceProblem({ deploymentEvents: [deploymentEvent(svc, 12)] }), undefined],
    ['deployed within, on its process group instance', '{ deployedWithin: 30m }', serviceProblem({ deploymentEvents: [deploymentEvent(checkout.instance.entityId, 12)] }), undefined],
    ['deployed too long ago', '{ deployedWithin: 10m }', serviceProblem({ deploymentEvents: [deploymentEvent(svc, 12)] }), `no impacted entity matched: ${svc}: no CUSTOM_DEPLOYMENT event on it or its process group instances within 10m before the problem started`],
    ['deployed after the problem started', '{ deployedWithin: 30m }', serviceProblem({ deploymentEvents: [deploymentEvent(svc, -5)] }), `no impacted entity matched: ${svc}: no CUSTOM_DEPLOYMENT event on it or its process group instances within 30m before the problem started`],
    ['deployed on another entity', '{ deployedWithin: 30m }', serviceProblem({ deploymentEvents: [deploymentEvent('SERVICE-FFFFFFFFFFFFFFFF', 5)] }), `no impacted entity matched: ${svc}: no CUSTOM_DEPLOYMENT event on it or its process group instances within 30m before the problem started`],
    ['events not read', '{ deployedWithin: 30m }', serviceProblem({ source: 'notification', eventsWindow: undefined }), `no impacted entity matched: ${svc}: deployedWithin 30m: deployment events were not read (DTR_DYNATRACE_URL is not set)`],
  ]
  for (const [what, when, e, reason] of cases) {
    const m = match(when, e)
    t.same({ matched: m.matched, reason: m.reason }, { matched: reason === undefined, reason }, what)
  }
})

t.test('the matched deployment event is the newest in the window, and only matching entities are kept', async (t) => {
  const host = details('HOST-0000000000000001')
  const e = serviceProblem({
    entities: [impacted(host), impacted(checkout.service)],
    deploymentEvents: [deploymentEvent(checkout.service.entityId, 25), deploymentEvent(checkout.instance.entityId, 8)],
  })
  const m = match('{ entityTypes: [SERVICE], deployedWithin: 30m }', e)
  t.equal(m.matched, true)
  t.match(m.entities, [
    { entityId: host.entityId, matched: false, reason: `${host.entityId}: entity type HOST not in [SERVICE]` },
    { entityId: checkout.service.entityId, matched: true, deploymentEvent: { eventId: `EV-${checkout.instance.entityId}-8` } },
  ])
})

t.test('security conditions', async (t) => {
  const sec = (security: Partial<NonNullable<Enrichment['problem']['security']>>, extra: Partial<Enrichment['problem']> = {}) =>
    enrichment({ entities: [impacted('PROCESS_GROUP-3B63D8D4A5A5D7C1')], problem: { kind: 'security', id: 'S-1234', state: undefined, status: undefined, security: { severity: 'CRITICAL', exposed: true, exploitAvailable: true, dataAssetsReachable: false, ...security }, ...extra } })
  const cases: Array<[string, string, Enrichment, string | undefined]> = [
    ['all hold', '{ severities: [critical, HIGH], exposed: true, exploitAvailable: true }', sec({}), undefined],
    ['severity not in', '{ severities: [CRITICAL] }', sec({ severity: 'MEDIUM' }), 'severity MEDIUM not in [CRITICAL]'],
    ['not exposed', '{ exposed: true }', sec({ exposed: false }), 'exposed is false, not true'],
    ['exploit unknown', '{ exploitAvailable: true }', sec({ exploitAvailable: undefined }), 'exploitAvailable unknown (no ExploitAvailable), not true'],
    ['data assets', '{ dataAssetsReachable: false }', sec({}), undefined],
    ['management zones', '{ managementZones: [Shop] }', sec({}, { managementZones: ['Production'] }), 'management zones [Production] of the security problem include none of [Shop]'],
    ['tags', '{ tags: ["env:production"] }', sec({}, { tags: [parseTag('env:production')] }), undefined],
    ['tags missing', '{ tags: ["env:production"] }', sec({}), 'no impacted entity matched: PROCESS_GROUP-3B63D8D4A5A5D7C1: tag env:production is not on the security problem or the entity'],
  ]
  for (const [what, when, e, reason] of cases) {
    const m = match(when, e, 'security')
    t.same({ matched: m.matched, reason: m.reason }, { matched: reason === undefined, reason }, what)
  }
})

t.test('a disabled rule never matches, and says why', async (t) => {
  const rules = loadRules('rules:\n  - name: r\n    on: problem\n    actions:\n      - use: notify.slack\n        with: { webhookUrl: "${env:HOOK}" }\n')
  const m = matchRule(rules.rules[0] as never, serviceProblem(), { fallbackStartTime: PROBLEM_START })
  t.same({ matched: m.matched, reason: m.reason }, { matched: false, reason: 'disabled: ${env:HOOK} not set' })
})
