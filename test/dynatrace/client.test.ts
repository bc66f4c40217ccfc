/**
 * The client against the simulator: every operation, paging, and the shapes the service relies on.
 */
import t from 'tap'
import { TEST_TOKEN, requestCount, startClient, startSimulator } from '../helpers/dynatrace.js'
import { createDynatraceClient, criterion, entityIdSelector, eventTypeSelector, isDynatraceApiError } from '../../src/dynatrace/index.js'
import { createMetrics } from '../../src/metrics.js'
import type { DynatraceReader } from '../../src/dynatrace/reader.js'

t.test('every operation against the simulator', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client, metrics } = startClient(t, url)
  // The client is what actions receive as ctx.dynatrace: it must satisfy the contract's reader.
  const reader: DynatraceReader = client
  t.equal(typeof reader.getEntity, 'function')
  const w = sim.addWorkload({ namespace: 'shop', name: 'checkout', tags: ['k8s.namespace.name:shop', 'env:production'] })
  const { problem } = await sim.openProblem({ title: 'Failure rate increase', impactedEntities: [w.service.entityId] })
  sim.addEvent({ eventType: 'CUSTOM_DEPLOYMENT', title: 'Deploy 1.4.2', entityId: w.service.entityId, properties: { 'dt.event.deployment.version': '1.4.2', 'k8s.deployment.name': 'checkout' } })
  const { securityProblem } = await sim.addSecurityProblem({ title: 'log4shell', affectedEntities: [w.processGroup.entityId], riskLevel: 'CRITICAL' })

  t.test('getProblem includes evidence and impact analysis', async (t) => {
    const p = await client.getProblem(problem.problemId)
    t.equal(p.problemId, problem.problemId)
    t.equal(p.status, 'OPEN')
    t.equal(p.endTime, -1)
    t.equal(p.impactedEntities[0]?.entityId.id, w.service.entityId)
    t.equal(p.evidenceDetails?.details.length, 1)
    t.equal(p.impactAnalysis?.impacts[0]?.impactType, 'SERVICE')
    t.same(p['k8s.namespace.name'], ['shop'])
    const logged = sim.traffic.find({ operation: 'getProblem' }).at(-1)
    t.equal(logged?.headers.authorization, `Api-Token ${TEST_TOKEN}`, 'sends Authorization: Api-Token')
    t.match(logged?.url, /fields=evidenceDetails%2CimpactAnalysis/)
    t.equal(await requestCount(metrics, 'getProblem', '200'), 1, 'counted in dtr_dynatrace_requests_total')
  })

  t.test('comments: create, list, find, get, update, delete', async (t) => {
    await client.createComment(problem.problemId, { message: '✅ kubernetes.rollback succeeded\n\nrun r-1', context: 'dt-remediator' })
    const comments = await client.getComments(problem.problemId)
    t.equal(comments.length, 1)
    const c = comments[0]
    t.equal(c?.context, 'dt-remediator')
    const found = await client.findComment(problem.problemId, (x) => x.content?.includes('run r-1') === true)
    t.equal(found?.id, c?.id)
    t.equal(await client.findComment(problem.problemId, (x) => x.content?.includes('run r-2') === true), undefined)
    const id = c?.id ?? ''
    t.equal((await client.getComment(problem.problemId, id)).content, c?.content)
    await client.updateComment(problem.problemId, id, { message: 'edited', context: 'dt-remediator' })
    t.equal((await client.getComment(problem.problemId, id)).content, 'edited')
    await client.deleteComment(problem.problemId, id)
    t.same(await client.getComments(problem.problemId), [])
    t.equal(await requestCount(metrics, 'createComment', '201'), 1)
  })

  t.test('getEntity follows SERVICE → PROCESS_GROUP → CLOUD_APPLICATION', async (t) => {
    const service = await client.getEntity(w.service.entityId)
    const pgId = service.fromRelationships.runsOn?.[0]?.id ?? ''
    t.equal(pgId, w.processGroup.entityId)
    const pg = await client.getEntity(pgId)
    const caId = pg.fromRelationships.isPgOfCa?.[0]?.id ?? ''
    const ca = await client.getEntity(caId)
    t.equal(ca.type, 'CLOUD_APPLICATION')
    t.equal(ca.displayName, 'checkout')
    t.equal(ca.properties.namespaceName, 'shop')
    t.same(ca.properties.cloudApplicationDeploymentTypes, ['KUBERNETES_DEPLOYMENT'])
    t.ok(ca.toRelationships.isPgOfCa?.some((r) => r.id === pgId), 'the relationship is visible from both ends')
    t.match(service.tags, [{ key: 'k8s.namespace.name', value: 'shop' }])
  })

  t.test('getEvents returns deployment properties as [{key,value}]; ingested events appear', async (t) => {
    const events = await client.getEvents({ entitySelector: entityIdSelector([w.service.entityId]), eventSelector: eventTypeSelector('CUSTOM_DEPLOYMENT'), from: 'now-1h' })
    t.equal(events.length, 1)
    t.match(events[0]?.properties, [{ key: 'dt.event.deployment.version', value: '1.4.2' }])
    const result = await client.ingestEvent({ eventType: 'CUSTOM_INFO', title: 'dt-remediator: kubernetes.rollback succeeded', entitySelector: entityIdSelector([w.workload.entityId]), properties: { runId: 'r-1' } })
    t.equal(result.reportCount, 1)
    t.equal(result.eventIngestResults[0]?.status, 'OK')
    const info = await client.getEvents({ eventSelector: eventTypeSelector('CUSTOM_INFO') })
    t.equal(info[0]?.entityId?.entityId.id, w.workload.entityId)
    t.match(info[0]?.properties, [{ key: 'runId', value: 'r-1' }])
  })

  t.test('security problems by id and by display id', async (t) => {
    const found = await client.findSecurityProblemByDisplayId(securityProblem.displayId)
    t.equal(found?.securityProblemId, securityProblem.securityProblemId)
    t.equal(found?.riskAssessment?.riskLevel, 'CRITICAL')
    const details = await client.getSecurityProblem(securityProblem.securityProblemId)
    t.same(details.affectedEntities, [w.processGroup.entityId])
    t.equal(await client.findSecurityProblemByDisplayId('S-999999'), undefined)
    t.match(sim.traffic.find({ operation: 'getSecurityProblems' })[0]?.url, /securityProblemSelector=displayIds%28%22S-/)
  })

  t.test('closeProblem closes once, then reports already closed', async (t) => {
    const result = await client.closeProblem(problem.problemId, 'closed by dt-remediator')
    t.equal(result?.closing, true)
    const p = await client.getProblem(problem.problemId)
    t.equal(p.status, 'CLOSED')
    t.ok((p.endTime ?? 0) >= p.startTime, 'endTime set')
    t.equal(await client.closeProblem(problem.problemId, 'again'), undefined)
  })
})

t.test('paging follows nextPageKey across several pages, sending the key alone', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client } = startClient(t, url)
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'pager' })
  const { problem } = await sim.openProblem({ title: 'many comments', impactedEntities: [svc.entityId] })
  for (let i = 0; i < 25; i++) sim.tenant.addComment(problem, `comment ${i}`, 'test')
  const comments = await client.getComments(problem.problemId, { pageSize: 10 })
  t.equal(comments.length, 25)
  t.equal(new Set(comments.map((c) => c.id)).size, 25, 'no comment twice')
  const pages = sim.traffic.find({ operation: 'getComments' })
  t.equal(pages.length, 3)
  for (const p of pages.slice(1)) t.match(p.url, /\?nextPageKey=[^&]+$/, 'later pages send only nextPageKey')

  const now = Date.now()
  for (let i = 0; i < 250; i++) sim.tenant.ingestEvent({ eventType: 'CUSTOM_DEPLOYMENT', title: `deploy ${i}`, entitySelector: `entityId("${svc.entityId}")`, startTime: now - i * 1000 })
  const events = await client.getEvents({ eventSelector: eventTypeSelector('CUSTOM_DEPLOYMENT'), pageSize: 100, from: 'now-1h' })
  t.equal(events.length, 250)
  t.equal(sim.traffic.find({ operation: 'getEvents' }).length, 3)
  const limited = await client.getEvents({ eventSelector: eventTypeSelector('CUSTOM_DEPLOYMENT'), pageSize: 100, limit: 150 })
  t.equal(limited.length, 150, 'limit stops paging early')
})

t.test('a Managed environment URL (/e/ENV-ID) is used as the API base', async (t) => {
  const { sim, url } = await startSimulator(t, { pathPrefix: '/e/abc-123' })
  const { client } = startClient(t, `${url}/e/abc-123/`)
  const e = sim.addEntity({ type: 'HOST', displayName: 'host-1' })
  t.equal((await client.getEntity(e.entityId)).displayName, 'host-1')
  t.match(sim.traffic.find({ operation: 'getEntity' })[0]?.url, /^\/e\/abc-123\/api\/v2\/entities\//)
})

t.test('connections are made at the first request; a closed client sends nothing', async (t) => {
  const { sim, url } = await startSimulator(t)
  const unused = createDynatraceClient({ url, token: TEST_TOKEN, metrics: createMetrics(), timeoutMs: 2000, retry: { maxAttempts: 1 } })
  await unused.close()
  const { client } = startClient(t, url, { retry: { maxAttempts: 1 } })
  const e = sim.addEntity({ type: 'HOST', displayName: 'host-1' })
  t.equal((await client.getEntity(e.entityId)).displayName, 'host-1')
  await client.close()
  await t.rejects(client.getEntity(e.entityId), /closed/)
  t.equal(sim.traffic.find({ operation: 'getEntity' }).length, 1, 'only the request before close() reached Dynatrace')
})

t.test('a 404 is a typed, final error carrying Dynatrace\'s envelope', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client, metrics } = startClient(t, url)
  const err = await client.getProblem('no-such-problem').then(() => undefined, (e: unknown) => e)
  t.ok(isDynatraceApiError(err))
  if (!isDynatraceApiError(err)) return
  t.equal(err.code, 'DTR_ERR_DYNATRACE')
  t.equal(err.responseStatus, 404)
  t.equal(err.retryable, false)
  t.equal(err.error?.code, 404)
  t.match(err.error?.message, /does not exist/)
  t.equal(sim.traffic.find({ operation: 'getProblem' }).length, 1, 'not retried')
  t.equal(await requestCount(metrics, 'getProblem', '404'), 1)
})

t.test('a 400 carries the constraint violations', async (t) => {
  const { url } = await startSimulator(t)
  const { client } = startClient(t, url)
  const err = await client.getEvents({ eventSelector: 'eventType("A","B")' }).then(() => undefined, (e: unknown) => e)
  t.ok(isDynatraceApiError(err))
  if (!isDynatraceApiError(err)) return
  t.equal(err.responseStatus, 400)
  t.match(err.error?.constraintViolations, [{ path: 'eventSelector', parameterLocation: 'QUERY' }])
})

t.test('a missing scope is a final 403 naming the scope', async (t) => {
  const { sim, url } = await startSimulator(t)
  sim.addToken('dt0c01.READ-ONLY', ['problems.read'])
  const { client } = startClient(t, url, { token: 'dt0c01.READ-ONLY' })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 's' })
  const { problem } = await sim.openProblem({ title: 'p', impactedEntities: [svc.entityId] })
  const err = await client.createComment(problem.problemId, { message: 'm' }).then(() => undefined, (e: unknown) => e)
  t.ok(isDynatraceApiError(err) && err.responseStatus === 403 && /problems\.write/.test(err.error?.message ?? ''))
})

t.test('plain http to a non-loopback host is flagged, loopback is not', async (t) => {
  const remote = createDynatraceClient({ url: 'http://dynatrace.internal:8080/e/abc', token: 't', metrics: createMetrics() })
  const local = createDynatraceClient({ url: 'http://127.0.0.1:9', token: 't', metrics: createMetrics() })
  t.teardown(async () => { await remote.close(); await local.close() })
  t.equal(remote.environment.plaintextRemote, true)
  t.equal(local.environment.plaintextRemote, false)
})

t.test('listing problems and security problems: every page, the key sent alone (fields beside it for problems)', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client } = startClient(t, url)
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'lister' })
  const now = Date.now()
  for (let i = 0; i < 5; i++) await sim.openProblem({ title: `open ${i}`, impactedEntities: [svc.entityId], startTime: now - i * 60_000, notify: false })
  const { problem: closed } = await sim.openProblem({ title: 'closed', impactedEntities: [svc.entityId], notify: false })
  await sim.resolveProblem(closed.problemId, { notify: false })

  const listed = await client.listProblems({ problemSelector: criterion('status', ['open']), from: now - 3_600_000, pageSize: 2, fields: 'evidenceDetails' })
  t.equal(listed.items.length, 5, 'every open problem, none closed')
  t.equal(listed.pages, 3)
  t.equal(listed.truncated, false)
  t.ok(listed.items.every((p) => p.status === 'OPEN' && p.endTime === -1))
  t.ok(listed.items.every((p) => p.evidenceDetails !== undefined), 'fields applied on every page')
  const pages = sim.traffic.find({ operation: 'getProblems' })
  t.equal(pages.length, 3)
  t.match(pages[0]?.url, /problemSelector=status%28%22open%22%29/)
  t.match(pages[0]?.url, /pageSize=2/)
  t.match(pages[0]?.url, new RegExp(`from=${now - 3_600_000}`))
  const params = (u: string | undefined): string[] => [...new URL(u ?? '', 'http://x').searchParams.keys()].sort()
  for (const p of pages.slice(1)) t.same(params(p.url), ['fields', 'nextPageKey'], 'later pages: the key and fields only')

  t.equal((await client.listProblems({ problemSelector: criterion('status', ['open']), from: now - 3_600_000 })).pages, 1, 'pageSize 500 by default: one call')
  t.match(sim.traffic.find({ operation: 'getProblems' }).at(-1)?.url, /pageSize=500/)
  const limited = await client.listProblems({ problemSelector: criterion('status', ['open']), pageSize: 2, limit: 3, from: now - 3_600_000 })
  t.same([limited.items.length, limited.truncated], [3, true], 'limit stops paging and says so')

  for (let i = 0; i < 3; i++) await sim.addSecurityProblem({ title: `vuln ${i}`, affectedEntities: [svc.entityId], notify: false })
  sim.traffic.reset()
  const vulns = await client.listSecurityProblems({ securityProblemSelector: criterion('status', ['OPEN']), pageSize: 2, fields: '+riskAssessment' })
  t.equal(vulns.items.length, 3)
  t.equal(vulns.pages, 2)
  const spPages = sim.traffic.find({ operation: 'getSecurityProblems' })
  t.match(spPages[0]?.url, /securityProblemSelector=status%28%22OPEN%22%29/)
  t.same(params(spPages[1]?.url), ['nextPageKey'], 'the key alone, as this API wants')
  t.ok(vulns.items.every((s) => s.riskAssessment !== undefined), 'the first page\'s fields carry on with the key')
})

t.test('a listing honours 429 with Retry-After', async (t) => {
  const at = Date.parse('2024-05-01T10:00:00Z')
  const waits: number[] = []
  const { sim, url } = await startSimulator(t, { now: () => at })
  // The client's sleep records the wait asked for and returns: no test waits real seconds.
  const { client } = startClient(t, url, { now: () => at, sleep: async (ms: number) => { waits.push(ms) } })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'busy' })
  await sim.openProblem({ title: 'open', impactedEntities: [svc.entityId], notify: false })
  sim.addFault({ operation: 'getProblems', status: 429, retryAfter: 2, count: 1 })
  const listed = await client.listProblems({ problemSelector: criterion('status', ['open']) })
  t.equal(listed.items.length, 1)
  t.same(sim.traffic.find({ operation: 'getProblems' }).map((r) => r.status), [429, 200])
  t.ok((waits[0] ?? 0) >= 2000, `waited ${waits[0]} ms for Retry-After: 2 before asking again`)
})
