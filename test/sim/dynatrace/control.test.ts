/**
 * The `/_sim` control API, driven over HTTP the way the demo and users drive it.
 */
import Fastify from 'fastify'
import t from 'tap'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE } from '../../../src/dynatrace/templates.js'
import { schemaErrors } from '../../helpers/dynatrace-openapi.js'
import { TEST_TOKEN, startSimulator } from '../../helpers/dynatrace.js'

async function call (url: string, method: string, path: string, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
  const text = await res.text()
  return { status: res.status, json: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

t.test('seed a workload, configure a webhook, open and resolve a problem, read the log', async (t) => {
  const receiver = Fastify()
  const bodies: unknown[] = []
  receiver.post('/hook', async (req) => { bodies.push(req.body); return { status: 'accepted' } })
  t.teardown(() => receiver.close())
  const hook = await receiver.listen({ port: 0, host: '127.0.0.1' })
  const { url } = await startSimulator(t)

  const workload = await call(url, 'POST', '/_sim/workloads', { namespace: 'shop', name: 'checkout' })
  t.equal(workload.status, 201)
  const serviceId = (workload.json.service as { entityId: string }).entityId
  t.equal((await call(url, 'PUT', '/_sim/webhook', { url: `${hook}/hook`, headers: [{ name: 'x-webhook-token', value: 't' }], payload: RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE })).status, 200, 'headers accepted in Dynatrace\'s [{name,value}] shape')

  const deploy = await call(url, 'POST', '/_sim/events', { title: 'Deploy checkout 1.4.2', entityId: serviceId, properties: { 'dt.event.deployment.version': '1.4.2' } })
  t.equal(deploy.status, 201)
  t.equal(deploy.json.reportCount, 1)

  const opened = await call(url, 'POST', '/_sim/problems', { title: 'Failure rate increase', impactedEntities: [serviceId] })
  t.equal(opened.status, 201)
  t.same(schemaErrors('Problem', opened.json.problem), [])
  t.match(opened.json.notification, { kind: 'problem', state: 'OPEN', response: { status: 200 } })
  const problem = opened.json.problem as { problemId: string, displayId: string }

  const resolved = await call(url, 'POST', `/_sim/problems/${problem.displayId}/resolve`)
  t.equal(resolved.status, 200, 'resolve accepts the display id')
  t.match(resolved.json, { problem: { status: 'CLOSED' }, notification: { state: 'RESOLVED' } })
  t.match(bodies, [{ State: 'OPEN' }, { State: 'RESOLVED' }])
  t.equal((await call(url, 'POST', '/_sim/problems/nope/resolve')).status, 404)

  const test = await call(url, 'POST', '/_sim/webhook/test')
  t.match(test.json, { kind: 'test', response: { status: 200 } })
  t.match((await call(url, 'GET', '/_sim/notifications')).json.notifications, [{ state: 'OPEN' }, { state: 'RESOLVED' }, { kind: 'test' }])

  await fetch(`${url}/api/v2/problems/${encodeURIComponent(problem.problemId)}`, { headers: { authorization: `Api-Token ${TEST_TOKEN}` } })
  const log = await call(url, 'GET', '/_sim/requests?operation=getProblem')
  t.match(log.json.requests, [{ operation: 'getProblem', method: 'GET', status: 200 }])
  const stats = await call(url, 'GET', '/_sim/stats')
  t.match(stats.json, { inFlight: 0, maxInFlight: 1 })

  t.equal((await call(url, 'POST', '/_sim/reset')).status, 204)
  const after = await call(url, 'GET', '/_sim/state')
  t.same(after.json.problems, [], 'reset restores the (empty) seed')
  t.equal(after.json.webhook, null)
})

t.test('faults over HTTP: validated, applied, listed and removed', async (t) => {
  const { url } = await startSimulator(t)
  const bad = await call(url, 'POST', '/_sim/faults', { operation: 'getProblem' })
  t.equal(bad.status, 400, 'a fault needs a status or a latency')
  t.same(schemaErrors('ErrorEnvelope', bad.json), [])
  const fault = await call(url, 'POST', '/_sim/faults', { operation: 'getProblem', status: 503, count: 1 })
  t.equal(fault.status, 201)
  const first = await fetch(`${url}/api/v2/problems/x`, { headers: { authorization: `Api-Token ${TEST_TOKEN}` } })
  t.equal(first.status, 503)
  const second = await fetch(`${url}/api/v2/problems/x`, { headers: { authorization: `Api-Token ${TEST_TOKEN}` } })
  t.equal(second.status, 404, 'the fault expired after its count')
  const listed = await call(url, 'GET', '/_sim/faults')
  t.match(listed.json.faults, [{ id: fault.json.id, hits: 1, remaining: 0 }])
  t.equal((await call(url, 'DELETE', `/_sim/faults/${String(fault.json.id)}`)).status, 204)
  t.same((await call(url, 'GET', '/_sim/faults')).json.faults, [])
})

t.test('a fraction of requests can be faulted', async (t) => {
  let n = 0
  // Deterministic "random": alternates 0.1 and 0.9, so a fraction of 0.5 hits every other request.
  const { sim, url } = await startSimulator(t, { random: () => (n++ % 2 === 0 ? 0.1 : 0.9) })
  sim.addFault({ operation: 'getProblem', status: 500, fraction: 0.5 })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await fetch(`${url}/api/v2/problems/x`, { headers: { authorization: `Api-Token ${TEST_TOKEN}` } })).status)
  t.same(statuses, [500, 404, 500, 404])
})

t.test('the control API validates bodies with Dynatrace-shaped errors', async (t) => {
  const { url } = await startSimulator(t)
  const r = await call(url, 'POST', '/_sim/problems', { title: 'x', impactedEntities: ['SERVICE-NOPE'] })
  t.equal(r.status, 400)
  t.match(r.json, { error: { code: 400, constraintViolations: [{ message: /Unknown entity SERVICE-NOPE/ }] } })
  const missing = await call(url, 'POST', '/_sim/entities', { type: 'SERVICE' })
  t.equal(missing.status, 400)
  t.match(JSON.stringify(missing.json), /displayName/)
  t.equal((await call(url, 'POST', '/_sim/webhook/test')).status, 409, 'no webhook configured')
  t.equal((await call(url, 'GET', '/_sim/nope')).status, 404)
})
