/**
 * POST /webhooks/problem and /webhooks/security. Every subtest builds its own app on its own
 * store, so each can run alone (tap --grep) and none depends on what another stored.
 */
import t from 'tap'
import type { Test } from 'tap'
import { bearer, buildTestApp, TOKEN } from '../helpers/app.js'
import { sample, seedTestCall } from '../helpers/samples.js'

const json = { ...bearer, 'content-type': 'application/json' }

/** A fresh app and a count of what its store holds. */
async function fresh (t: Test) {
  const app = await buildTestApp(t)
  return { app, stored: async (): Promise<number> => app.store.notifications.count() }
}

t.test('POST /webhooks/problem', async (t) => {
  t.test('the seed article\'s exact test call answers 400 naming PID and the placeholder to add', async (t) => {
    const { app, stored } = await fresh(t)
    const call = seedTestCall()
    const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: call.headers, payload: call.body })
    t.equal(res.statusCode, 400)
    t.same(res.json(), { code: 'DTR_ERR_INVALID_PAYLOAD', message: 'Missing PID: add "PID":"{PID}" to the custom payload' })
    t.equal(await stored(), 0)
  })

  t.test('the seed call with "PID":"99999" added answers 200 test and stores nothing', async (t) => {
    const { app, stored } = await fresh(t)
    const call = seedTestCall()
    const body = call.body.replace('{\n', '{\n"PID":"99999",\n')
    const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: call.headers, payload: body })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'test' })
    t.equal(await stored(), 0)
    t.equal(await app.store.jobs.pending(), 0)
  })

  t.test('the documentation\'s test payload answers 200 test', async (t) => {
    const { app, stored } = await fresh(t)
    const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: sample('test-notification-docs.json') })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'test' })
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    t.equal(await stored(), 0)
  })

  t.test('a real notification is stored with its queued work and answered 202', async (t) => {
    const { app } = await fresh(t)
    const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: sample('problem-open.json') })
    t.equal(res.statusCode, 202)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    t.same(Object.keys(res.json() as object), ['status', 'notificationId'], 'the answer carries its status and id, nothing else')
    const { status, notificationId } = res.json() as { status: string, notificationId: string }
    t.equal(status, 'accepted')
    const n = await app.store.notifications.get(notificationId)
    t.match(n, { kind: 'problem', problemId: '-6386032669938507213_1634684083930V2', displayId: 'P-211020', state: 'OPEN', body: sample('problem-open.json') })
    const jobs = await app.store.jobs.claim('notification', 'test', { leaseMs: 60_000, limit: 10 })
    t.same(jobs.map((j) => [j.key, j.payload]), [[notificationId, null]])
  })

  t.test('the 2018 body with entity-id strings is accepted', async (t) => {
    const { app } = await fresh(t)
    const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: sample('problem-open-legacy-2018.json') })
    t.equal(res.statusCode, 202)
  })

  t.test('the same notification twice is stored once; the second answer is duplicate', async (t) => {
    const { app, stored } = await fresh(t)
    const before = await stored()
    const body = { PID: 'dup-1', State: 'OPEN', ImpactedEntities: ['SERVICE-1'], ProblemTitle: 'x' }
    const first = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: body })
    // Same content, other key order and whitespace: still the same notification.
    const again = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: '{ "ProblemTitle":"x", "State":"OPEN", "ImpactedEntities":["SERVICE-1"], "PID":"dup-1" }' })
    t.equal(first.statusCode, 202)
    t.equal(again.statusCode, 200)
    t.same(again.json(), { status: 'duplicate', notificationId: first.json().notificationId })
    t.equal(await stored(), before + 1)

    const resolved = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: { ...body, State: 'RESOLVED' } })
    const merged = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: { ...body, ImpactedEntities: ['SERVICE-1', 'SERVICE-2'] } })
    t.equal(resolved.statusCode, 202, 'another State is another notification')
    t.equal(merged.statusCode, 202, 'another body (an event merge) is another notification')
    t.equal(await stored(), before + 3)
  })

  t.test('an unknown State string is stored and answered 202', async (t) => {
    const { app } = await fresh(t)
    const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: { PID: 'merged-1', State: 'MERGED', ImpactedEntities: [] } })
    t.equal(res.statusCode, 202)
  })

  t.test('text/plain bodies are parsed as JSON', async (t) => {
    const { app } = await fresh(t)
    const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'text/plain; charset=utf-8' }, payload: JSON.stringify({ PID: 'text-1', State: 'OPEN', ImpactedEntities: ['HOST-1'] }) })
    t.equal(res.statusCode, 202)
  })

  t.test('invalid requests get 400 with a message naming the problem, and nothing is stored', async (t) => {
    const { app, stored } = await fresh(t)
    const before = await stored()
    const cases: Array<[string, unknown, string, number?, Record<string, string>?]> = [
      ['missing PID', { State: 'OPEN', ImpactedEntities: [] }, 'Missing PID: add "PID":"{PID}" to the custom payload'],
      ['missing State', { PID: '1', ImpactedEntities: [] }, 'Missing State: add "State":"{State}" to the custom payload'],
      ['missing ImpactedEntities', { PID: '1', State: 'OPEN' }, 'Missing ImpactedEntities: add "ImpactedEntities":{ImpactedEntities} to the custom payload'],
      ['everything missing', {}, 'Missing PID: add "PID":"{PID}" to the custom payload; Missing State: add "State":"{State}" to the custom payload; Missing ImpactedEntities: add "ImpactedEntities":{ImpactedEntities} to the custom payload'],
      ['State not a string', { PID: '1', State: true, ImpactedEntities: [] }, 'Invalid State: expected a string such as "OPEN" or "RESOLVED"'],
      ['ImpactedEntities quoted', { PID: '1', State: 'OPEN', ImpactedEntities: 'HOST-1' }, 'Invalid ImpactedEntities: expected a JSON array (use {ImpactedEntities} without quotes)'],
      ['empty PID', { PID: ' ', State: 'OPEN', ImpactedEntities: [] }, 'Invalid PID: must not be empty'],
      ['an array body', [1, 2], 'Body must be a JSON object'],
    ]
    for (const [name, payload, message] of cases) {
      const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: JSON.stringify(payload) })
      t.equal(res.statusCode, 400, name)
      t.equal(res.json().message, message, name)
      t.match(res.json().code, /^DTR_ERR_/, name)
    }
    const broken = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: '{"PID":"1","State":"OPEN","ProblemTitle":"say "hi"",}' })
    t.equal(broken.statusCode, 400)
    t.equal(broken.json().code, 'DTR_ERR_INVALID_JSON')
    t.match(broken.json().message, /^Body is not valid JSON: /)
    const brokenText = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'text/plain' }, payload: '{"PID":"1", "ImpactedEntities": [{"name":"a "quoted" name"}]}' })
    t.equal(brokenText.statusCode, 400, 'unescaped text/plain bodies are a clear 400, not a 500')
    t.match(brokenText.json().message, /^Body is not valid JSON/)
    const empty = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: '' })
    t.equal(empty.statusCode, 400)
    t.equal(empty.json().message, 'Body is empty; expected a JSON object')
    const form = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' })
    t.equal(form.statusCode, 415)
    t.match(form.json(), { code: 'DTR_ERR_UNSUPPORTED_MEDIA_TYPE', message: /application\/x-www-form-urlencoded is not supported; send application\/json or text\/plain/ })
    t.equal(await stored(), before)
  })

  t.test('authentication', async (t) => {
    const { app, stored } = await fresh(t)
    const before = await stored()
    const body = JSON.stringify({ PID: 'auth-1', State: 'OPEN', ImpactedEntities: [] })
    const post = async (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/webhooks/problem', headers: { 'content-type': 'application/json', ...headers }, payload: body })
    const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

    for (const [name, headers] of [
      ['no credentials', {}],
      ['wrong Bearer token', { authorization: 'Bearer wrong-token' }],
      ['wrong Basic password', { authorization: basic('dynatrace', 'wrong') }],
      ['Basic with the token as user name', { authorization: basic(TOKEN, 'x') }],
      ['wrong token header', { 'x-webhook-token': 'wrong-token' }],
      ['a token prefix', { authorization: 'Bearer passwor' }],
    ] as Array<[string, Record<string, string>]>) {
      const res = await post(headers)
      t.equal(res.statusCode, 401, name)
      t.same(res.json(), { code: 'DTR_ERR_UNAUTHORIZED', message: 'A valid webhook token is required (Authorization: Bearer, Basic, or the token header)' }, name)
      t.match(res.headers['www-authenticate'], /Bearer realm="dt-remediator", Basic realm="dt-remediator"/, name)
    }
    t.equal(await stored(), before, 'nothing stored for refused calls')

    const viaBearer = await post({ authorization: `Bearer ${TOKEN}` })
    const viaBasic = await post({ authorization: basic('anyone', TOKEN) })
    const viaHeader = await post({ 'x-webhook-token': TOKEN })
    t.equal(viaBearer.statusCode, 202, 'Bearer')
    t.equal(viaBasic.statusCode, 200, 'Basic (same body: duplicate)')
    t.equal(viaHeader.statusCode, 200, 'token header (same body: duplicate)')
  })

  t.test('counts notifications by kind and outcome', async (t) => {
    const { app } = await fresh(t)
    const post = async (headers: Record<string, string>, payload: unknown) => app.inject({ method: 'POST', url: '/webhooks/problem', headers, payload: JSON.stringify(payload) })
    const body = { PID: 'count-1', State: 'OPEN', ImpactedEntities: [] }
    t.equal((await post(json, body)).statusCode, 202)
    t.equal((await post(json, body)).statusCode, 200)
    t.equal((await post(json, sample('test-notification-docs.json'))).statusCode, 200)
    t.equal((await post(json, { State: 'OPEN' })).statusCode, 400)
    t.equal((await post({ 'content-type': 'application/json' }, body)).statusCode, 401)
    const text = await app.metrics.registry.getSingleMetricAsString('dtr_notifications_total')
    for (const outcome of ['accepted', 'duplicate', 'test', 'invalid', 'unauthorized']) {
      t.match(text, new RegExp(`dtr_notifications_total\\{kind="problem",outcome="${outcome}",source="webhook"\\} 1\\b`), `one ${outcome}`)
    }
    // The webhook's counts join the counter when it is read: each once, however often it is read.
    t.equal((await post(json, sample('test-notification-docs.json'))).statusCode, 200)
    await app.metrics.registry.getSingleMetricAsString('dtr_notifications_total')
    const again = await app.metrics.registry.getSingleMetricAsString('dtr_notifications_total')
    t.match(again, /dtr_notifications_total\{kind="problem",outcome="test",source="webhook"\} 2\b/, 'two tests, read twice')
    t.match(again, /dtr_notifications_total\{kind="problem",outcome="accepted",source="webhook"\} 1\b/, 'still one accepted')
  })
})

t.test('several tokens at once and a custom header name', async (t) => {
  const app = await buildTestApp(t, { env: { DTR_WEBHOOK_TOKENS: 'old-token-1,new-token-2', DTR_WEBHOOK_TOKEN_HEADER: 'X-Dynatrace-Secret' } })
  const body = { PID: 'rot', State: 'OPEN', ImpactedEntities: [] }
  const a = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { authorization: 'Bearer old-token-1' }, payload: body })
  const b = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { 'x-dynatrace-secret': 'new-token-2' }, payload: body })
  const c = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { 'x-webhook-token': 'new-token-2' }, payload: body })
  t.equal(a.statusCode, 202)
  t.equal(b.statusCode, 200)
  t.equal(c.statusCode, 401, 'the default header name no longer applies')
})

t.test('a body over DTR_BODY_LIMIT answers 413 and stores nothing', async (t) => {
  const app = await buildTestApp(t, { env: { DTR_BODY_LIMIT: '2048' } })
  const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: { PID: 'big', State: 'OPEN', ImpactedEntities: [], ProblemDetailsText: 'x'.repeat(4096) } })
  t.equal(res.statusCode, 413)
  t.same(res.json(), { code: 'DTR_ERR_BODY_TOO_LARGE', message: 'Body is larger than the limit of 2048 bytes (DTR_BODY_LIMIT)' })
  t.equal(await app.store.notifications.count(), 0)
  t.match(await app.metrics.registry.getSingleMetricAsString('dtr_notifications_total'), /dtr_notifications_total\{kind="problem",outcome="too_large",source="webhook"\} 1/)
})

t.test('POST /webhooks/security', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/webhooks/security', headers: json, payload: sample('security-notification.json') })
  t.equal(res.statusCode, 202)
  const n = await app.store.notifications.get(res.json().notificationId)
  t.match(n, { kind: 'security', problemId: 'S-1234', displayId: 'S-1234', state: null })
  const again = await app.inject({ method: 'POST', url: '/webhooks/security', headers: json, payload: sample('security-notification.json') })
  t.equal(again.json().status, 'duplicate')
  const bad = await app.inject({ method: 'POST', url: '/webhooks/security', headers: json, payload: { AffectedEntities: 'x', Exposed: 'yes' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().message, 'Missing SecurityProblemId: add "SecurityProblemId":"{SecurityProblemId}" to the custom payload; Invalid AffectedEntities: expected a JSON array (use {AffectedEntities} without quotes); Invalid Exposed: expected "true", "false" or ""')
  const test = await app.inject({ method: 'POST', url: '/webhooks/security', headers: json, payload: { SecurityProblemId: 'S-1', AffectedEntities: ['PROCESS_GROUP-XXXXXXXXXXXXX'] } })
  t.same(test.json(), { status: 'test' })
  const unauth = await app.inject({ method: 'POST', url: '/webhooks/security', headers: { 'content-type': 'application/json' }, payload: sample('security-notification.json') })
  t.equal(unauth.statusCode, 401)
})
