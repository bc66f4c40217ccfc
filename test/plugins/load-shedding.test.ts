/**
 * Load shedding (SPEC 4, 11; issue 19 item 8): webhooks are shed under overload, the admin API,
 * the console and the probes never are, and an event-loop interval without a sample (a
 * descheduled process) is not overload. The delay is injected: a test never depends on how
 * loaded the machine running it is.
 */
import t from 'tap'
import { bearer, buildTestApp } from '../helpers/app.js'

const admin = { authorization: 'Bearer alice-admin-token' }
const env = { DTR_ADMIN_TOKENS: 'alice-admin-token' }
const webhook = { method: 'POST' as const, url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' } }

t.test('an overloaded event loop sheds webhooks, never the admin API, the console or the probes', async (t) => {
  const app = await buildTestApp(t, { env, underPressure: { maxEventLoopDelayMs: 200, eventLoopDelay: () => 5000 } })
  const shed = await app.inject({ ...webhook, payload: { PID: '1', State: 'OPEN', ImpactedEntities: [] } })
  t.equal(shed.statusCode, 503, 'the webhook is shed')
  t.equal(shed.headers['retry-after'], '5')
  t.same(shed.json(), { code: 'DTR_ERR_UNAVAILABLE', message: 'Service is overloaded (eventLoopDelay 5000); retry later' })
  t.equal((await app.inject({ url: '/api/runs', headers: admin })).statusCode, 200, 'GET /api/runs answers')
  t.equal((await app.inject({ url: '/api/runs?limit=1', headers: admin })).statusCode, 200, 'with a query too')
  const pause = await app.inject({ method: 'PUT', url: '/api/pause', headers: admin, payload: { paused: true, reason: 'incident' } })
  t.equal(pause.statusCode, 200, 'the kill switch answers')
  t.not((await app.inject({ url: '/ui/' })).statusCode, 503, 'the console prefix is not shed')
  for (const url of ['/healthz', '/readyz', '/metrics']) t.equal((await app.inject({ url })).statusCode, 200, `${url} answers`)
})

t.test('a failing overload check sheds webhooks but not the admin API', async (t) => {
  const app = await buildTestApp(t, { env, underPressure: { healthCheck: async () => false } })
  t.equal((await app.inject({ ...webhook, payload: { PID: '1', State: 'OPEN', ImpactedEntities: [] } })).statusCode, 503)
  const runs = await app.inject({ url: '/api/runs', headers: admin })
  t.equal(runs.statusCode, 200, `GET /api/runs answers (${runs.body})`)
  t.equal((await app.inject({ method: 'PUT', url: '/api/pause', headers: admin, payload: { paused: false } })).statusCode, 200)
})

t.test('an interval with no event-loop sample is not overload', async (t) => {
  for (const missing of [undefined, Infinity, Number.NaN]) {
    const app = await buildTestApp(t, { env, underPressure: { maxEventLoopDelayMs: 200, eventLoopDelay: () => missing } })
    const res = await app.inject({ ...webhook, payload: { PID: `p-${String(missing)}`, State: 'OPEN', ImpactedEntities: [] } })
    t.equal(res.statusCode, 202, `a delay of ${String(missing)} sheds nothing`)
  }
})

t.test('the in-flight cap counts webhooks only: the admin API answers while it is full', async (t) => {
  const app = await buildTestApp(t, { env, underPressure: { maxInFlight: 0 } })
  t.equal((await app.inject({ ...webhook, payload: { PID: '1', State: 'OPEN', ImpactedEntities: [] } })).statusCode, 503)
  t.equal((await app.inject({ url: '/api/runs', headers: admin })).statusCode, 200)
})

t.test('an overload check that throws sheds webhooks, as one that answers false', async (t) => {
  const app = await buildTestApp(t, { env, underPressure: { healthCheck: async () => { throw new Error('the check could not run') } } })
  const res = await app.inject({ ...webhook, payload: { PID: '1', State: 'OPEN', ImpactedEntities: [] } })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '5')
  t.equal((await app.inject({ url: '/api/runs', headers: admin })).statusCode, 200)
})
