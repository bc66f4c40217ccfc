import { pino } from 'pino'
import t, { type Test } from 'tap'
import { builtinActions } from '../../actions/index.js'
import type { ImpactedEntity } from '../../src/domain/enrichment.js'
import { formatRunKey, parseRunKey } from '../../src/domain/run-key.js'
import { parseRules, formatDiagnostic } from '../../src/domain/rules/parse.js'
import { dynatraceReader } from '../../src/dynatrace/reader.js'
import { kubernetesReader } from '../../src/kubernetes/reader.js'
import { createActionRegistry } from '../../src/sdk/index.js'
import { enrich } from '../../src/runner/enrich.js'
import { planNotification, runInputs, type NotificationPlan, type PlanRequest } from '../../src/runner/plan.js'
import { rolloutCheckoutHistory, startKubernetesSim } from '../helpers/kubernetes.js'
import { NOW, startDynatraceWorld } from '../helpers/world.js'

const log = pino({ level: 'silent' })
const allowedHosts = [{ host: 'ci.example.com', port: undefined }]

const RULES = `
rules:
  - name: rollback-bad-deploy
    on: problem
    when: { entityTypes: [SERVICE, PROCESS_GROUP_INSTANCE, CLOUD_APPLICATION], severities: [ERROR], deployedWithin: 30m }
    actions:
      - use: kubernetes.rollback
      - use: kubernetes.scale
        with: { by: 2, max: 10 }
  - name: restart-on-availability
    on: problem
    when: { severities: [AVAILABILITY] }
    actions:
      - use: kubernetes.restart
  - name: tell-ci
    on: problem
    actions:
      - use: http.request
        with:
          url: https://ci.example.com/hooks/\${entity:name}
          headers: { authorization: "Bearer \${env:CI_TOKEN}" }
          body: { problem: "\${problem:displayId}", version: "\${event:dt.event.deployment.version}" }
`

async function world (t: Test, rulesText = RULES) {
  const dt = await startDynatraceWorld(t)
  const k8s = await startKubernetesSim(t)
  rolloutCheckoutHistory(k8s, NOW)
  k8s.clock.now = NOW + 10_000
  const registry = createActionRegistry(builtinActions({ kubernetes: k8s.kube, allowedHosts }))
  const env = { CI_TOKEN: 'ci-secret-token-value' }
  const parsed = parseRules(rulesText, { file: 'rules.yaml', env, actions: registry, allowedHosts })
  if (!parsed.ok) throw new Error(parsed.errors.map(formatDiagnostic).join('\n'))
  const rules = parsed.rules
  const enrichment = await enrich(dt.notification, { dynatrace: dt.client, longestDeployedWithinMs: rules.longestDeployedWithinMs })
  const request = (overrides: Partial<PlanRequest> = {}): PlanRequest => ({
    notification: dt.notification,
    enrichment,
    rules,
    registry,
    readers: { dynatrace: dynatraceReader(dt.client), kubernetes: kubernetesReader(k8s.kube) },
    env,
    clusterName: undefined,
    occurrence: 1,
    plannedAt: NOW + 10_000,
    log,
    ...overrides,
  })
  return { dt, k8s, registry, rules, enrichment, request }
}

function plainJson (v: unknown): boolean {
  if (v === null || v === undefined || ['string', 'number', 'boolean'].includes(typeof v)) return true
  if (Array.isArray(v)) return v.every(plainJson)
  return Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(plainJson)
}

const ruleOf = (plan: NotificationPlan, name: string) => plan.rules.find((r) => r.rule === name)

t.test('planning step 0 against both simulators: match, target, run key, the action\'s own plan', async (t) => {
  const w = await world(t)
  const svc = w.dt.checkout.service.entityId
  const plan = await planNotification(w.request())
  t.match(plan, { kind: 'problem', problemId: w.dt.problem.problemId, occurrence: 1, step: 0, mode: 'dry-run', modeSource: 'default', gates: null, enrichment: { source: 'dynatrace', notes: [] } })

  const rollback = ruleOf(plan, 'rollback-bad-deploy')
  t.match(rollback, { matched: true, reason: undefined })
  t.match(rollback?.entities, [{ entityId: svc, matched: true, target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, targetSource: 'workload', targetNote: /^workload entity: CLOUD_APPLICATION-/, deploymentEvent: { title: 'Deploy checkout 1.4.2' } }])
  const run = rollback?.runs[0]
  t.match(run, { rule: 'rollback-bad-deploy', step: 0, action: 'kubernetes.rollback', entityId: svc, status: 'planned', target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, plan: { toRevision: 2, fromRevision: 3, source: { kind: 'ReplicaSet' } } })
  t.equal(run?.runKey, `problem:${encodeURIComponent(w.dt.problem.problemId)}:1:rollback-bad-deploy:0:${svc}`)
  t.same(parseRunKey(run?.runKey ?? ''), run?.key, 'the key string parses back')

  t.match(ruleOf(plan, 'restart-on-availability'), { matched: false, reason: 'severity ERROR not in [AVAILABILITY]', runs: [] })

  const ci = ruleOf(plan, 'tell-ci')?.runs
  t.equal(ci?.length, 1, 'an action without a target runs once per occurrence')
  t.match(ci?.[0], {
    entityId: '*',
    runKey: `problem:${encodeURIComponent(w.dt.problem.problemId)}:1:tell-ci:0:*`,
    status: 'planned',
    params: { url: 'https://ci.example.com/hooks/checkout', headers: { authorization: 'Bearer ${env:CI_TOKEN}' }, body: { problem: w.dt.problem.displayId, version: '1.4.2' } },
    plan: { method: 'POST', url: 'https://ci.example.com/hooks/checkout', headers: { authorization: '[redacted]' } },
  })
  t.notMatch(JSON.stringify(plan), /ci-secret-token-value/, 'no ${env:} value anywhere in the plan')
  t.same(plan.targets, [{ kind: 'Deployment', namespace: 'shop', name: 'checkout' }])
  t.equal(plan.maxTargetsPerProblem, 5)
  t.ok(plainJson(plan), 'plain JSON: strings, numbers, booleans, null, arrays and plain objects only')

  t.same(w.k8s.sim.requests.filter((r) => r.method !== 'GET'), [], 'planning only reads Kubernetes')
  t.same(w.dt.sim.sim.traffic.requests.filter((r) => r.method !== 'GET'), [], 'and Dynatrace')

  const inputs = runInputs(ci?.[0] as never, { problem: plan.problem, rules: w.rules, readers: w.request().readers, env: { CI_TOKEN: 'ci-secret-token-value' }, plannedAt: plan.plannedAt, signal: new AbortController().signal, log })
  t.match(inputs.params, { headers: { authorization: 'Bearer ci-secret-token-value' } }, 'the runner gets ${env:} substituted at the last moment')
})

t.test('a later ladder step, for one rule', async (t) => {
  const w = await world(t)
  const plan = await planNotification(w.request({ step: 1, rule: 'rollback-bad-deploy', occurrence: 2 }))
  t.equal(plan.rules.length, 1)
  t.match(plan.rules[0]?.runs, [{ step: 1, action: 'kubernetes.scale', status: 'planned', runKey: /:2:rollback-bad-deploy:1:SERVICE-/, plan: { via: 'scale', from: 2, to: 4 } }])
  const beyond = await planNotification(w.request({ step: 2, rule: 'rollback-bad-deploy' }))
  t.match(beyond.rules[0], { matched: true, reason: 'its ladder has no step 2 (it has 2)', runs: [] })
})

t.test('entities resolving to one target make one run; the others say so', async (t) => {
  const w = await world(t)
  const pgi = w.dt.checkout.processGroupInstances[0]?.entityId ?? ''
  const svc = w.dt.checkout.service.entityId
  const enrichment = { ...w.enrichment, entities: [...w.enrichment.entities, { ...(w.enrichment.entities[0] as ImpactedEntity), id: pgi, type: 'PROCESS_GROUP_INSTANCE', name: 'checkout pod', details: (await w.dt.client.getEntity(pgi)) as never }] }
  const plan = await planNotification(w.request({ enrichment, rule: 'rollback-bad-deploy' }))
  const runs = plan.rules[0]?.runs ?? []
  t.equal(runs.length, 2)
  t.match(runs[0], { entityId: svc, status: 'planned' })
  t.match(runs[1], { entityId: pgi, status: 'skipped', reason: `same target as run ${runs[0]?.runKey ?? ''} (Deployment shop/checkout)`, sameTargetAs: runs[0]?.runKey })
  t.equal(plan.targets.length, 1, 'one distinct target')
})

t.test('no target: the run is skipped with every source tried', async (t) => {
  const rules = 'rules:\n  - name: restart-anything\n    on: problem\n    actions:\n      - use: kubernetes.restart\n'
  const w = await world(t, rules)
  const host = { id: 'HOST-0000000000000001', type: 'HOST', name: 'node-1', details: { entityId: 'HOST-0000000000000001', type: 'HOST', properties: {}, tags: [], managementZones: [], fromRelationships: {}, toRelationships: {} }, missing: undefined }
  const plan = await planNotification(w.request({ enrichment: { ...w.enrichment, entities: [host] } }))
  t.match(plan.rules[0]?.runs, [{ entityId: 'HOST-0000000000000001', status: 'skipped', reason: /^kubernetes\.restart does not handle HOST entities/ }])
  const svc = w.enrichment.entities[0]
  const lonely = { ...svc, details: { ...svc?.details, fromRelationships: {} } }
  const plan2 = await planNotification(w.request({ enrichment: { ...w.enrichment, entities: [lonely as never] } }))
  t.match(plan2.rules[0]?.runs, [{ status: 'skipped', target: null, reason: /^no target: rule target: none given; tags: no k8s\.namespace\.name; workload entity: SERVICE-\S+ runs on no process group of a Kubernetes workload; deployment event: / }])
})

t.test('a host from a placeholder that is not allowed fails the run at plan time', async (t) => {
  const rules = 'rules:\n  - name: follow-link\n    on: problem\n    actions:\n      - use: http.request\n        with: { url: "${event:dt.event.deployment.remediation_action_link}" }\n'
  const w = await world(t, rules)
  const event = { ...(w.enrichment.deploymentEvents[0] as never as Record<string, unknown>), properties: { 'dt.event.deployment.remediation_action_link': 'https://evil.example.org/undo' } }
  const plan = await planNotification(w.request({ enrichment: { ...w.enrichment, deploymentEvents: [event as never] } }))
  t.match(plan.rules[0]?.runs, [{ status: 'failed', reason: /^host not allowed: evil\.example\.org is not in DTR_HTTP_ALLOWED_HOSTS \(ci\.example\.com\)/, error: { code: 'DTR_ERR_TERMINAL', retryable: false } }])
  const missing = await planNotification(w.request({ enrichment: { ...w.enrichment, deploymentEvents: [] } }))
  t.match(missing.rules[0]?.runs, [{ status: 'failed', reason: '${event:dt.event.deployment.remediation_action_link} has no value for this entity', error: { code: 'DTR_ERR_ACTION_PARAMS' } }])
})

t.test('run keys', async (t) => {
  const key = { kind: 'problem' as const, problemId: 'a:b', occurrence: 3, rule: 'r', step: 1, entity: '*' }
  t.equal(formatRunKey(key), 'problem:a%3Ab:3:r:1:*')
  t.same(parseRunKey('problem:a%3Ab:3:r:1:*'), key)
  t.equal(parseRunKey('nonsense'), undefined)
})
