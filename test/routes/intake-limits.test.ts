/**
 * SPEC 4's limits on what a sender may send: each bad input gets its 4xx naming the field, and
 * never fails another notification. Every case sends its bad request at the same moment as 100
 * good notifications, which must all get 202.
 */
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { Pool } from 'undici'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { bearer, buildTestApp } from '../helpers/app.js'

const json = { ...bearer, 'content-type': 'application/json' }
const good = (run: string, i: number) => ({ PID: `good-${run}-${i}`, State: 'OPEN', ImpactedEntities: [{ type: 'SERVICE', name: 's', entity: 'SERVICE-1' }] })

/** Sends `bad` together with 100 good notifications; resolves with the bad one's answer once all are in. */
async function alongside100 (t: Test, app: FastifyInstance, bad: InjectOptions): Promise<LightMyRequestResponse> {
  const run = Math.random().toString(36).slice(2)
  const [answer, ...goods] = await Promise.all([
    app.inject(bad),
    ...Array.from({ length: 100 }, async (_, i) => app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: good(run, i) })),
  ])
  t.same(goods.map((g) => g.statusCode), Array(100).fill(202), 'the 100 good notifications sent with it all got 202')
  return answer as LightMyRequestResponse
}

/** JSON text of `depth` objects nested in each other (as text: JSON.stringify itself would overflow at 5000). */
const nested = (depth: number): string => `${'{"a":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`
const withDetails = (run: string, details: string): string => `${JSON.stringify(good(run, 0)).slice(0, -1)},"ProblemDetailsJSONv2":${details}}`

t.test('a body nested deeper than 64 levels is a 400 naming the field', async (t) => {
  const app = await buildTestApp(t)
  for (const depth of [64, 5000]) {
    const res = await alongside100(t, app, { method: 'POST', url: '/webhooks/problem', headers: json, payload: withDetails(`deep-${depth}`, nested(depth)) })
    t.equal(res.statusCode, 400, `objects ${depth} levels deep from the field on`)
    t.same(res.json(), { code: 'DTR_ERR_INVALID_PAYLOAD', message: 'Invalid ProblemDetailsJSONv2: nested deeper than 64 levels' })
  }
  // The body is level 1; the field's object is level 2, so 63 objects from it reach level 64.
  const deepest = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: withDetails('deepest', nested(63)) })
  t.equal(deepest.statusCode, 202, '64 levels in all are accepted')
  t.equal(await app.store.notifications.count(), 201)
})

t.test('a PID or SecurityProblemId longer than 256 characters is a 400 naming it', async (t) => {
  const app = await buildTestApp(t)
  for (const length of [257, 3000]) {
    const res = await alongside100(t, app, { method: 'POST', url: '/webhooks/problem', headers: json, payload: { ...good('long', length), PID: 'P'.repeat(length) } })
    t.equal(res.statusCode, 400)
    t.same(res.json(), { code: 'DTR_ERR_INVALID_PAYLOAD', message: 'Invalid PID: must be at most 256 characters' })
  }
  const security = await alongside100(t, app, { method: 'POST', url: '/webhooks/security', headers: json, payload: { SecurityProblemId: 'S'.repeat(300), AffectedEntities: ['PROCESS_GROUP-1'] } })
  t.same(security.json(), { code: 'DTR_ERR_INVALID_PAYLOAD', message: 'Invalid SecurityProblemId: must be at most 256 characters' })
  const longest = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: { ...good('long', 0), PID: 'P'.repeat(256) } })
  t.equal(longest.statusCode, 202, '256 characters are accepted')
})

t.test('a string the store cannot hold (\\u0000, a lone surrogate) is a 400 naming the field, on every resend', async (t) => {
  const app = await buildTestApp(t)
  const cases: Array<[string, string, string]> = [
    ['\\u0000 in the PID', '{"PID":"P\\u0000","State":"OPEN","ImpactedEntities":[]}', 'Invalid PID: contains \\u0000, which cannot be stored'],
    ['a lone surrogate in a title', '{"PID":"P2","State":"OPEN","ImpactedEntities":[],"ProblemTitle":"x\\ud800y"}', 'Invalid ProblemTitle: contains a lone UTF-16 surrogate, which cannot be stored'],
    ['\\u0000 deep in an entity', '{"PID":"P3","State":"OPEN","ImpactedEntities":[{"entity":"S-1","name":"a\\u0000"}]}', 'Invalid ImpactedEntities[0].name: contains \\u0000, which cannot be stored'],
    ['\\u0000 in a key', '{"PID":"P4","State":"OPEN","ImpactedEntities":[],"ProblemDetailsJSON":{"k\\u0000":1}}', 'Invalid key "k\\u0000" in ProblemDetailsJSON: it contains \\u0000, which cannot be stored'],
  ]
  for (const [name, payload, message] of cases) {
    for (const attempt of ['first', 'resend']) {
      const res = await alongside100(t, app, { method: 'POST', url: '/webhooks/problem', headers: json, payload })
      t.equal(res.statusCode, 400, `${name} (${attempt})`)
      t.same(res.json(), { code: 'DTR_ERR_INVALID_PAYLOAD', message }, name)
    }
  }
})

t.test('a Content-Encoding other than identity is a 415 naming it', async (t) => {
  const app = await buildTestApp(t)
  for (const encoding of ['gzip', 'br', 'deflate']) {
    const res = await alongside100(t, app, { method: 'POST', url: '/webhooks/problem', headers: { ...json, 'content-encoding': encoding }, payload: good('enc', 0) })
    t.equal(res.statusCode, 415, encoding)
    t.same(res.json(), { code: 'DTR_ERR_UNSUPPORTED_MEDIA_TYPE', message: `Content-Encoding ${encoding} is not supported; send the body uncompressed` })
  }
  const identity = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...json, 'content-encoding': 'identity' }, payload: good('identity', 0) })
  t.equal(identity.statusCode, 202, 'identity is no encoding')
})

t.test('a body that is not UTF-8 is a 400, never silently replaced', async (t) => {
  const app = await buildTestApp(t)
  const latin1 = Buffer.concat([Buffer.from('{"PID":"P1","State":"OPEN","ImpactedEntities":[],"ProblemTitle":"caf'), Buffer.from([0xe9]), Buffer.from('"}')])
  const res = await alongside100(t, app, { method: 'POST', url: '/webhooks/problem', headers: json, payload: latin1 })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { code: 'DTR_ERR_INVALID_JSON', message: 'Body is not valid UTF-8; send the JSON encoded as UTF-8' })
  const utf8 = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: Buffer.from('{"PID":"P1","State":"OPEN","ImpactedEntities":[],"ProblemTitle":"café ✓"}') })
  t.equal(utf8.statusCode, 202)
  t.match(await app.store.notifications.get(utf8.json().notificationId), { body: { ProblemTitle: 'café ✓' } }, 'UTF-8 is kept as sent')
})

/** A raw connection to the app, and everything it answers until the server closes it. */
async function rawRequest (address: string, text: string): Promise<{ socket: Socket, answer: Promise<string> }> {
  const url = new URL(address)
  const socket = connect(Number(url.port), url.hostname)
  await once(socket, 'connect')
  socket.write(text)
  let answer = ''
  socket.on('data', (chunk: Buffer) => { answer += chunk.toString() })
  return { socket, answer: once(socket, 'close').then(() => answer) }
}

/** Sends 100 good notifications over HTTP while `stalled` is pending. */
async function hundredOverHttp (t: Test, address: string): Promise<void> {
  const pool = new Pool(address, { connections: 10 })
  t.teardown(() => pool.destroy())
  const statuses = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
    const res = await pool.request({ path: '/webhooks/problem', method: 'POST', headers: json, body: JSON.stringify(good('http', i)) })
    await res.body.dump()
    return res.statusCode
  }))
  t.same(statuses, Array(100).fill(202), 'the 100 good notifications sent meanwhile all got 202')
}

t.test('a request whose body has not arrived in time is closed with 408, holding nothing', async (t) => {
  // 30 s in production; injected here so that the test waits for the event, not for the clock.
  const app = await buildTestApp(t, { limits: { requestTimeoutMs: 300, headersTimeoutMs: 300, timeoutCheckIntervalMs: 25 } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const body = JSON.stringify(good('stall', 0))
  const stalled = await rawRequest(address, `POST /webhooks/problem HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer password\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
  await hundredOverHttp(t, address)
  const answer = await stalled.answer
  t.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/)
  t.match(answer, /\{"code":"DTR_ERR_REQUEST_TIMEOUT","message":"The request did not arrive in time \(headers within 0\.3 s, all of it within 0\.3 s\); the connection is closed"\}$/)
  t.equal(await app.store.notifications.count(), 100, 'nothing of the stalled request was stored')
})

t.test('a request whose headers have not arrived in time is closed with 408', async (t) => {
  const app = await buildTestApp(t, { limits: { requestTimeoutMs: 1000, headersTimeoutMs: 200, timeoutCheckIntervalMs: 25 } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const stalled = await rawRequest(address, 'POST /webhooks/problem HTTP/1.1\r\nHost: x\r\nAuthori')
  await hundredOverHttp(t, address)
  t.match(await stalled.answer, /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*DTR_ERR_REQUEST_TIMEOUT/)
})

t.test('a request still receiving its body when the app closes is cut short, so it does not hold the shutdown', async (t) => {
  const app = await buildTestApp(t, { limits: { requestTimeoutMs: 3_600_000, closingRequestTimeoutMs: 50 } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  // Wait until the request has reached the app (an event), not for a time.
  const arrived = once(app.server, 'request')
  const stalled = await rawRequest(address, 'POST /webhooks/problem HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer password\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"PID":')
  await arrived
  await new Promise((resolve) => setImmediate(resolve))
  await app.close()
  t.match(await stalled.answer, /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*The service is shutting down and the request body had not arrived/, 'answered 408 and closed')
})

t.test('clients that give up half-way through their bodies hold up neither intake nor the shutdown', async (t) => {
  const app = await buildTestApp(t, { limits: { requestTimeoutMs: 3_600_000, closingRequestTimeoutMs: 50 } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  // More than the set's first sweep (256) in all, in rounds of 100 (under the 128 in flight that
  // load shedding allows): each sends part of its body and goes away.
  const url = new URL(address)
  for (let round = 0; round < 4; round++) {
    let arrivals = 0
    const allArrived = new Promise<void>((resolve) => {
      const count = (): void => { if (++arrivals === 100) { app.server.off('request', count); resolve() } }
      app.server.on('request', count)
    })
    const sockets = await Promise.all(Array.from({ length: 100 }, async () => {
      const socket = connect(Number(url.port), url.hostname)
      socket.on('error', () => {})
      await once(socket, 'connect')
      socket.write('POST /webhooks/problem HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer password\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"PID":')
      return socket
    }))
    await allArrived
    for (const s of sockets) s.destroy()
    // Until the server has seen every one of them go.
    for (;;) {
      const open = await new Promise<number>((resolve, reject) => { app.server.getConnections((err, n) => { if (err === null) resolve(n); else reject(err) }) })
      if (open === 0) break
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  await hundredOverHttp(t, address)
  const arrived = once(app.server, 'request')
  const stalled = await rawRequest(address, 'POST /webhooks/problem HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer password\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"PID":')
  await arrived
  await new Promise((resolve) => setImmediate(resolve))
  await app.close()
  t.match(await stalled.answer, /^HTTP\/1\.1 408 Request Timeout\r\n/, 'the one still sending is answered 408 at shutdown')
})

t.test('connections beyond the cap are closed as they arrive', async (t) => {
  const app = await buildTestApp(t, { limits: { maxConnections: 3 } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const url = new URL(address)
  const open = await Promise.all(Array.from({ length: 3 }, async () => {
    const socket = connect(Number(url.port), url.hostname)
    await once(socket, 'connect')
    return socket
  }))
  t.teardown(() => { for (const s of open) s.destroy() })
  // The server counts a connection once it accepted it; a request on each makes sure it has.
  for (const socket of open) {
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    await once(socket, 'data')
  }
  const extra = connect(Number(url.port), url.hostname)
  extra.on('error', () => {})
  await once(extra, 'close')
  t.pass('the fourth connection was closed by the server')
})
