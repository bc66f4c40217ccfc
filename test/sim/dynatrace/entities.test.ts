/**
 * GET /api/v2/entities and the control calls that seed a tenant for target resolution, over HTTP
 * as the product and the demo use them: selectors with relationship criteria, the fields
 * projection, paging, relationships and deployments seeded through /_sim, problems re-opened.
 */
import Fastify from 'fastify'
import t from 'tap'
import { responseSchemaName, schemaErrors } from '../../helpers/dynatrace-openapi.js'
import { TEST_TOKEN, startSimulator } from '../../helpers/dynatrace.js'

const auth = { authorization: `Api-Token ${TEST_TOKEN}` }

async function api (url: string, path: string): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/v2${path}`, { headers: auth })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

async function control (url: string, method: string, path: string, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
  const text = await res.text()
  return { status: res.status, json: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

t.test('GET /api/v2/entities', async (t) => {
  const { sim, url } = await startSimulator(t)
  const checkout = sim.addWorkload({ namespace: 'shop', name: 'checkout', tags: ['k8s.deployment.name:checkout'] })
  const cart = sim.addWorkload({ namespace: 'shop', name: 'cart' })

  t.test('answers the base fields unless asked for more', async (t) => {
    const { status, json } = await api(url, '/entities?entitySelector=type("SERVICE")')
    t.equal(status, 200)
    t.same(json, {
      totalCount: 2,
      pageSize: 50,
      entities: [
        { entityId: checkout.service.entityId, type: 'SERVICE', displayName: 'checkout' },
        { entityId: cart.service.entityId, type: 'SERVICE', displayName: 'cart' },
      ],
    })
  })

  t.test('walks from a service to its workload with the fields target resolution reads', async (t) => {
    const selector = `type(CLOUD_APPLICATION),toRelationships.isPgOfCa(type(PROCESS_GROUP),toRelationships.runsOn(type(SERVICE),entityId("${cart.service.entityId}")))`
    const { json } = await api(url, `/entities?entitySelector=${encodeURIComponent(selector)}&fields=+properties,+toRelationships.isClusterOfCa`)
    t.same(schemaErrors(responseSchemaName('getEntities', 200) ?? 'missing', json), [])
    t.same(json.entities, [{
      entityId: cart.workload.entityId,
      type: 'CLOUD_APPLICATION',
      displayName: 'cart',
      properties: { namespaceName: 'shop', cloudApplicationDeploymentTypes: ['KUBERNETES_DEPLOYMENT'], kubernetesLabels: { app: 'cart' } },
      toRelationships: { isClusterOfCa: [{ id: cart.cluster.entityId, type: 'KUBERNETES_CLUSTER' }] },
    }])
  })

  t.test('pages with nextPageKey, which replays the query and its fields', async (t) => {
    const first = await api(url, '/entities?entitySelector=type(SERVICE),tag("k8s.deployment.name"),not(tag("nope"))&pageSize=1&fields=+tags')
    t.match(first.json, { totalCount: 1, pageSize: 1, entities: [{ displayName: 'checkout', tags: [{ key: 'k8s.deployment.name' }] }] })
    t.notOk('nextPageKey' in first.json, 'a single page has no next key')
    const sorted = await api(url, '/entities?entitySelector=type(CLOUD_APPLICATION)&pageSize=1&sort=name&fields=+properties.namespaceName')
    t.match(sorted.json, { totalCount: 2, entities: [{ displayName: 'cart', properties: { namespaceName: 'shop' } }] })
    const key = String(sorted.json.nextPageKey)
    const second = await api(url, `/entities?nextPageKey=${encodeURIComponent(key)}`)
    t.same(schemaErrors(responseSchemaName('getEntities', 200) ?? 'missing', second.json), [])
    t.match(second.json, { totalCount: 2, entities: [{ displayName: 'checkout', properties: { namespaceName: 'shop' } }] })
    t.notOk('nextPageKey' in second.json)
    t.equal((await api(url, `/entities?nextPageKey=${encodeURIComponent(key)}&entitySelector=type(HOST)`)).status, 400, 'the key must come alone')
  })

  t.test('GET /entities/{id} answers the whole entity, or the projection asked for', async (t) => {
    const whole = await api(url, `/entities/${checkout.processGroup.entityId}`)
    t.match(whole.json, { fromRelationships: { isPgOfCa: [{ id: checkout.workload.entityId }], runsOn: [{ id: checkout.host.entityId, type: 'HOST' }] }, toRelationships: { runsOn: [{ id: checkout.service.entityId }] } })
    const narrow = await api(url, `/entities/${checkout.processGroup.entityId}?fields=+fromRelationships.isPgOfCa`)
    t.same(narrow.json, { entityId: checkout.processGroup.entityId, type: 'PROCESS_GROUP', displayName: 'shop.checkout', fromRelationships: { isPgOfCa: [{ id: checkout.workload.entityId, type: 'CLOUD_APPLICATION' }] } })
  })
})

t.test('the control API seeds relationships and deployments, and re-opens problems', async (t) => {
  const receiver = Fastify()
  const states: unknown[] = []
  receiver.post('/hook', async (req) => { states.push((req.body as { State?: unknown }).State); return {} })
  t.teardown(() => receiver.close())
  const hook = await receiver.listen({ port: 0, host: '127.0.0.1' })
  let now = 1_750_000_000_000
  const { url } = await startSimulator(t, { now: () => now })
  await control(url, 'PUT', '/_sim/webhook', { url: `${hook}/hook`, payload: '{"State":"{State}","PID":"{PID}"}' })

  const w = await control(url, 'POST', '/_sim/workloads', { namespace: 'shop', name: 'checkout', instances: 2, cluster: 'eu-1' })
  t.equal(w.status, 201)
  t.match(w.json, { cluster: { displayName: 'eu-1' }, namespace: { displayName: 'shop' }, workload: { type: 'CLOUD_APPLICATION' }, host: { displayName: 'eu-1-node-1' }, service: { type: 'SERVICE' } })
  const pgis = w.json.processGroupInstances as Array<{ entityId: string }>
  t.equal(pgis.length, 2)
  const serviceId = (w.json.service as { entityId: string }).entityId

  const db = await control(url, 'POST', '/_sim/entities', { type: 'SERVICE', displayName: 'orders-db', toRelationships: { calls: [serviceId] } })
  t.equal(db.status, 201)
  t.match(db.json, { toRelationships: { calls: [{ id: serviceId, type: 'SERVICE' }] } })
  const dbId = (db.json as { entityId: string }).entityId
  const host = await control(url, 'POST', '/_sim/entities', { type: 'HOST', displayName: 'db-host' })
  const hostId = (host.json as { entityId: string }).entityId
  const rel = await control(url, 'POST', '/_sim/relationships', { from: dbId, relation: 'runsOnHost', to: hostId })
  t.equal(rel.status, 201)
  t.match(rel.json, { from: { fromRelationships: { runsOnHost: [{ id: hostId }] } }, to: { toRelationships: { runsOnHost: [{ id: dbId }] } } })
  const reversed = await control(url, 'POST', '/_sim/relationships', { from: hostId, relation: 'runsOnHost', to: dbId })
  t.equal(reversed.status, 400)
  t.match(reversed.json, { error: { constraintViolations: [{ message: /direction is reversed/ }] } })

  const deploy = await control(url, 'POST', '/_sim/deployments', { entityId: pgis[0]?.entityId, name: 'checkout', version: '1.4.2' })
  t.match(deploy, { status: 201, json: { reportCount: 1 } })
  const events = await api(url, `/events?eventSelector=eventType("CUSTOM_DEPLOYMENT")&entitySelector=${encodeURIComponent(`type(PROCESS_GROUP_INSTANCE),toRelationships.runsOnProcessGroupInstance(type(SERVICE),entityId("${serviceId}"))`)}`)
  t.same(schemaErrors(responseSchemaName('getEvents', 200) ?? 'missing', events.json), [])
  t.match(events.json, { totalCount: 1, events: [{ title: 'Deploy checkout 1.4.2', properties: [{ key: 'dt.event.deployment.name', value: 'checkout' }, { key: 'dt.event.deployment.version', value: '1.4.2' }] }] })

  const opened = await control(url, 'POST', '/_sim/problems', { title: 'Failure rate increase', impactedEntities: [serviceId] })
  const pid = (opened.json.problem as { problemId: string }).problemId
  t.equal((await control(url, 'POST', `/_sim/problems/${encodeURIComponent(pid)}/reopen`)).json.outcome, 'open', 'an open problem stays as it is')
  now += 60_000
  await control(url, 'POST', `/_sim/problems/${encodeURIComponent(pid)}/resolve`)
  now += 60_000
  const reopened = await control(url, 'POST', `/_sim/problems/${encodeURIComponent(pid)}/reopen`)
  t.match(reopened, { status: 200, json: { outcome: 'reopened', problem: { problemId: pid, status: 'OPEN', endTime: -1 }, notification: { state: 'OPEN' } } })
  t.same(states, ['OPEN', 'RESOLVED', 'OPEN'], 'the re-open notifies OPEN again under the same PID')
  await control(url, 'POST', `/_sim/problems/${encodeURIComponent(pid)}/resolve`)
  now += 31 * 60_000
  const late = await control(url, 'POST', `/_sim/problems/${encodeURIComponent(pid)}/reopen`)
  t.equal(late.status, 409)
  t.match(late.json, { error: { message: /more than 30 minutes/ } })
  t.equal((await control(url, 'POST', '/_sim/problems/nope/reopen')).status, 404)
})
