import t from 'tap'
import { enrich, notificationFacts } from '../../src/runner/enrich.js'
import { startClient } from '../helpers/dynatrace.js'
import { deployment } from '../helpers/kubernetes.js'
import { startLoop } from '../helpers/runner.js'
import { sample } from '../helpers/samples.js'
import { NOW, notificationOf, securityNotificationOf, startDynatraceWorld } from '../helpers/world.js'

t.test('from the Dynatrace API: the problem, the entity, its walk to the workload and the deployment events, each read once', async (t) => {
  const world = await startDynatraceWorld(t, { client: { maxConcurrency: 2 } })
  const { checkout } = world
  const e = await enrich(world.notification, { dynatrace: world.client, longestDeployedWithinMs: 30 * 60_000, readClusters: true })
  t.equal(e.source, 'dynatrace')
  t.same(e.notes, [])
  t.match(e.problem, { kind: 'problem', id: world.problem.problemId, displayId: world.problem.displayId, state: 'OPEN', status: 'OPEN', title: 'Failure rate increase', severity: 'ERROR', startTime: NOW })
  t.ok(e.problem.tags.some((tag) => tag.key === 'env' && tag.value === 'production'), 'the problem\'s tags')
  t.match(e.entities, [{ id: checkout.service.entityId, type: 'SERVICE', name: 'checkout', details: { entityId: checkout.service.entityId }, missing: undefined }])
  t.same(Object.keys(e.related).sort(), [checkout.cluster.entityId, checkout.processGroup.entityId, checkout.workload.entityId].sort(), 'the process group, the workload and its cluster')
  t.match(e.deploymentEvents, [{ entityId: checkout.processGroupInstances[0]?.entityId, startTime: NOW - 12 * 60_000, properties: { 'dt.event.deployment.version': '1.4.2' } }])
  t.same(e.eventsWindow, { from: NOW - 2 * 3_600_000, to: NOW }, 'the longer of deployedWithin (30m) and 2h')

  const requests = world.sim.sim.traffic.requests
  const byOperation = (op: string) => requests.filter((r) => r.operation === op)
  t.equal(byOperation('getProblem').length, 1)
  const eventReads = byOperation('getEvents').map((r) => new URL(r.url, 'http://x').searchParams)
  t.equal(eventReads.length, 4, 'one events query per entity type (Dynatrace refuses entityId() of mixed types)')
  t.equal(byOperation('getEntity').length, 0, 'entities are read through GET /entities, where reads of one type can share a request')
  const entityReads = byOperation('getEntities').map((r) => new URL(r.url, 'http://x').searchParams.get('entitySelector') ?? '')
  const ids = entityReads.flatMap((selector) => [...selector.matchAll(/"([A-Z_]+-[0-9A-F]+)"/g)].map((m) => m[1]))
  t.same([...ids].sort(), [...new Set(ids)].sort(), 'no entity is read twice')
  t.equal(entityReads.length, 4, 'service, process group, workload, cluster: one type each')
  t.ok(world.sim.sim.maxInFlight <= 2, `within the client's bound (max in flight ${world.sim.sim.maxInFlight})`)
  t.ok(requests.every((r) => r.method === 'GET'), 'reads only')
  t.ok(eventReads.every((q) => q.get('eventSelector') === 'eventType("CUSTOM_DEPLOYMENT")'))
  t.ok(eventReads.some((q) => q.get('entitySelector') === `entityId("${checkout.processGroupInstances[0]?.entityId ?? ''}")`), 'events are read on the process group instances too')
})

t.test('notifications enriched at the same time share their entity and event reads, and each finds what it would alone', async (t) => {
  const world = await startDynatraceWorld(t)
  const { sim } = world
  const problems = [world.problem]
  for (let i = 0; i < 9; i++) {
    const w = sim.sim.addWorkload({ namespace: 'shop', name: `svc-${i}`, cluster: 'eu-1' })
    // Deployments at different times, some outside others' windows: each keeps its own.
    sim.sim.addDeployment({ entityId: w.processGroupInstances[0]?.entityId ?? '', name: `svc-${i}`, version: `1.0.${i}`, startTime: NOW - (i + 1) * 20 * 60_000 })
    problems.push((await sim.sim.openProblem({ title: `Failure on svc-${i}`, impactedEntities: [w.service.entityId, w.processGroup.entityId], severityLevel: 'ERROR', startTime: NOW - i * 60_000, notify: false })).problem)
  }
  const notifications = problems.map((p) => notificationOf(sim, p))
  const alone = []
  for (const n of notifications) alone.push(await enrich(n, { dynatrace: startClient(t, sim.url).client, longestDeployedWithinMs: 0, readClusters: true }))
  sim.sim.traffic.reset()

  const together = await Promise.all(notifications.map(async (n) => enrich(n, { dynatrace: world.client, longestDeployedWithinMs: 0, readClusters: true })))
  for (const [i, e] of together.entries()) {
    t.same(e.notes, [], `notification ${i}: nothing missing`)
    t.same(e.deploymentEvents, alone[i]?.deploymentEvents, `notification ${i}: its own deployment events, as alone`)
    t.same(e.entities.map((x) => x.details), alone[i]?.entities.map((x) => x.details), `notification ${i}: its entities, as alone`)
    t.same(e.related, alone[i]?.related, `notification ${i}: its walk, as alone`)
  }
  t.ok(together.some((e) => e.deploymentEvents.length === 0) && together.some((e) => e.deploymentEvents.length > 0), 'windows differ: some find a deployment, some do not')
  const entityReads = sim.sim.traffic.find({ operation: 'getEntities' }).length
  const eventReads = sim.sim.traffic.find({ operation: 'getEvents' }).length
  // Alone: 10 × (service, process group, workload, cluster) entity reads and 10 × 4 event reads.
  t.ok(entityReads <= 16, `${entityReads} entity requests for 10 notifications (40 alone)`)
  t.ok(eventReads <= 16, `${eventReads} event requests for 10 notifications (40 alone)`)
  t.equal(sim.sim.traffic.find({ operation: 'getEntity' }).length, 0)
})

t.test('a shared events read cut short by its limit answers nobody: each reads on its own', async (t) => {
  const world = await startDynatraceWorld(t)
  const n = world.notification
  const pgi = world.checkout.processGroupInstances[0]?.entityId ?? ''
  for (let i = 0; i < 10_000; i++) world.sim.sim.addDeployment({ entityId: world.checkout.processGroup.entityId, name: 'noise', version: `0.${i}`, startTime: NOW - 3_600_000 })
  const e = await enrich(n, { dynatrace: world.client, longestDeployedWithinMs: 0 })
  t.same(e.notes, [])
  t.ok(e.deploymentEvents.some((ev) => ev.entityId === pgi), 'the deployment on the instance is found')
  const reads = world.sim.sim.traffic.find({ operation: 'getEvents' }).map((r) => new URL(r.url, 'http://x').searchParams.get('entitySelector'))
  t.ok(reads.filter((s) => s === `entityId("${world.checkout.processGroup.entityId}")`).length >= 2, 'the process group\'s events read again, on their own')
})

t.test('an impacted entity on the way to the workload (the service\'s process group) is on the way: read once, and resolution finds it', async (t) => {
  const loop = await startLoop(t, { rules: 'mode: live\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n' })
  const checkout = loop.dt.sim.addWorkload({ namespace: 'shop', name: 'cart', cluster: 'eu-1' })
  loop.k8s.sim.apply(deployment('cart', 'cart:1.0.0'))
  const impacted = [checkout.service.entityId, checkout.processGroup.entityId, checkout.host.entityId]
  const { problem } = await loop.dt.sim.openProblem({ title: 'Failure rate increase', impactedEntities: impacted, severityLevel: 'ERROR', startTime: loop.clock.now(), notify: false })
  const e = await enrich(notificationOf(loop.dt, problem), { dynatrace: startClient(t, loop.dt.url).client, longestDeployedWithinMs: 0 })
  t.same(e.notes, [])
  t.ok(e.related[checkout.processGroup.entityId] !== undefined && e.related[checkout.workload.entityId] !== undefined, 'the process group and the workload are on the way')
  loop.dt.sim.traffic.reset()
  t.equal(await loop.notify(problem), 202)
  await loop.settle()
  const [run] = await loop.store.runs.ofOccurrence('problem', problem.problemId, 1)
  t.match(run, { state: 'succeeded', target: { kind: 'Deployment', namespace: 'shop', name: 'cart' } }, 'a target, not "could not be read"')
  const selectors = loop.dt.sim.traffic.find({ operation: 'getEntities' }).map((r) => new URL(r.url, 'http://x').searchParams.get('entitySelector') ?? '')
  t.equal(selectors.filter((s) => s.includes(checkout.processGroup.entityId)).length, 1, 'the process group read once')
})

t.test('an entity Dynatrace does not know is noted, not fatal; the rest is enriched', async (t) => {
  const world = await startDynatraceWorld(t)
  const body = world.notification.body as { ImpactedEntities: unknown[] }
  const n = { ...world.notification, body: { ...body, ImpactedEntities: [...body.ImpactedEntities, { type: 'SERVICE', name: 'ghost', entity: 'SERVICE-FFFFFFFFFFFFFFFF' }] } }
  const e = await enrich(n, { dynatrace: world.client, longestDeployedWithinMs: 0 })
  t.match(e.entities, [{ id: world.checkout.service.entityId, missing: undefined }, { id: 'SERVICE-FFFFFFFFFFFFFFFF', details: undefined, missing: /no such entity in this environment/ }])
  t.match(e.notes, [/^SERVICE-FFFFFFFFFFFFFFFF could not be read: .*no such entity in this environment/])
  t.equal(e.deploymentEvents.length, 1)
})

t.test('Dynatrace unreachable after retries: the notification alone, with every read\'s failure noted', async (t) => {
  const { client } = startClient(t, 'http://127.0.0.1:9', { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } })
  const n = { kind: 'problem' as const, problemId: 'P1', body: sample('problem-open.json'), receivedAt: NOW }
  const e = await enrich(n, { dynatrace: client, longestDeployedWithinMs: 0 })
  t.equal(e.source, 'dynatrace')
  t.match(e.problem, { title: 'Failure rate increase', severity: 'ERROR', startTime: undefined })
  t.match(e.notes, [/^the problem could not be read: Dynatrace could not be reached/, /^SERVICE-1125C375A187D27A could not be read: Dynatrace could not be reached/, /start time is unknown/, /^deployment events within 2h could not be read/])
  t.equal(e.eventsWindow, undefined)
})

t.test('without DTR_DYNATRACE_URL: from the notification alone, and the notes say so', async (t) => {
  const e = await enrich({ kind: 'problem', problemId: 'P1', body: sample('problem-open.json'), receivedAt: NOW }, { dynatrace: undefined, longestDeployedWithinMs: 0 })
  t.equal(e.source, 'notification')
  t.same(e.notes, ['DTR_DYNATRACE_URL is not set: known from the notification (no ProblemDetailsJSONv2 in the payload template) alone; no entity tags, relationships or deployment events were read'])
  t.match(e.problem, { id: 'P1', displayId: 'P-211020', state: 'OPEN', severity: 'ERROR', impact: 'SERVICE', tags: [{ key: 'env', value: 'production' }, { key: 'team', value: 'checkout' }] })
  t.match(e.entities, [{ id: 'SERVICE-1125C375A187D27A', type: 'SERVICE', name: 'checkout-service', missing: 'DTR_DYNATRACE_URL is not set' }])
})

t.test('ProblemDetailsJSONv2 gives the start time, zones and evidence without the API', async (t) => {
  const world = await startDynatraceWorld(t)
  const e = await enrich(world.notification, { dynatrace: undefined, longestDeployedWithinMs: 0 })
  t.match(e.notes, [/known from the notification and its ProblemDetailsJSONv2 alone/])
  t.equal(e.problem.startTime, NOW)
  t.ok(e.evidence.length > 0, 'the evidence')
})

t.test('legacy bodies and Gen 3 fields', async (t) => {
  const legacy = notificationFacts({ kind: 'problem', problemId: '9114682195990673984', body: sample('problem-open-legacy-2018.json'), receivedAt: NOW })
  t.match(legacy.entities, [{ id: 'SERVICE-52AC624D70C377BC', type: 'SERVICE', name: 'SERVICE-52AC624D70C377BC' }], 'entity-id strings, type from the prefix')
  const gen3 = notificationFacts({ kind: 'problem', problemId: 'P', body: { PID: 'P', State: 'ACTIVE', ImpactedEntities: ['SERVICE-1'], isDuplicate: true, underMaintenance: false, start: '2024-07-19T09:54:00.000000000Z' }, receivedAt: NOW })
  t.match(gen3.problem, { state: 'OPEN', duplicate: true, underMaintenance: false, startTime: Date.parse('2024-07-19T09:54:00Z') })
})

t.test('a security notification: the payload\'s flags, the security problem read by its display id', async (t) => {
  const world = await startDynatraceWorld(t)
  const { securityProblem } = await world.sim.sim.addSecurityProblem({ title: 'log4shell', affectedEntities: [world.checkout.processGroup.entityId], riskLevel: 'CRITICAL', exposed: true, exploitAvailable: true, notify: false } as never)
  const n = securityNotificationOf(world.sim, securityProblem)
  world.sim.sim.traffic.reset()
  const e = await enrich(n, { dynatrace: world.client, longestDeployedWithinMs: 0 })
  t.same(e.notes, [])
  t.match(e.problem, { kind: 'security', displayId: securityProblem.displayId, status: 'OPEN', security: { severity: 'CRITICAL', exposed: true, exploitAvailable: true } })
  t.match(e.entities, [{ id: world.checkout.processGroup.entityId, type: 'PROCESS_GROUP', details: { entityId: world.checkout.processGroup.entityId } }])
  t.ok(e.related[world.checkout.workload.entityId] !== undefined, 'the process group\'s workload')
  const sample2 = notificationFacts({ kind: 'security', problemId: 'S-1234', body: sample('security-notification.json'), receivedAt: NOW })
  t.match(sample2.problem, { managementZones: ['Shop', 'Production'], security: { severity: 'CRITICAL', exposed: true, exploitAvailable: true, dataAssetsReachable: false } })
})
