/**
 * Properties of the webhook intake (SPEC 4), with fast-check: whatever a sender sends — any bytes,
 * any JSON, payloads close to valid with fields of the wrong type, any content type and encoding,
 * with or without a token — the answer is a 2xx or a 4xx in our error shape, never a 5xx but the
 * load-shedding 503 with Retry-After; and every 202 names a notification that is in the store,
 * with the body as received.
 *
 * DTR_PROPERTY_RUNS sets the number of runs per property (default 300); a failure prints the
 * seed and the shrunk counterexample, and `fc.assert`'s seed option replays it.
 */
import fc from 'fast-check'
import t from 'tap'
import { bearer, buildTestApp, TOKEN } from '../helpers/app.js'

const runs = Number(process.env.DTR_PROPERTY_RUNS ?? 300)

/** Values a placeholder can render to: strings, numbers, nothing, the wrong shape. */
const scalar = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ unit: 'grapheme' }), fc.constantFrom('', 'OPEN', 'RESOLVED', 'ACTIVE', 'CLOSED', '99999', 'TESTID', '\u0000', 'HOST-XXXXXXXXXXXXX'))
const entity = fc.oneof(
  fc.string(),
  fc.record({ type: scalar, name: scalar, entity: scalar }, { requiredKeys: [] }),
  fc.record({ entity: scalar, id: scalar }, { requiredKeys: [] }),
  scalar
)
/** Problem and security payloads near the schema: each key present or not, of the right type or not. */
const nearPayload = fc.record({
  PID: scalar,
  ProblemID: scalar,
  State: scalar,
  ProblemTitle: scalar,
  ProblemSeverity: scalar,
  ProblemImpact: scalar,
  Tags: scalar,
  ImpactedEntities: fc.oneof(fc.array(entity, { maxLength: 4 }), scalar),
  ProblemDetailsJSONv2: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.object({ maxDepth: 3 })),
  SecurityProblemId: scalar,
  AffectedEntities: fc.oneof(fc.array(entity, { maxLength: 4 }), scalar),
  Severity: scalar,
  Exposed: scalar,
}, { requiredKeys: [] })

/** Valid notifications of either kind, with anything else beside the required fields. */
const validEntity = fc.oneof(fc.string({ minLength: 1 }), fc.record({ type: fc.constantFrom('SERVICE', 'HOST', 'PROCESS_GROUP_INSTANCE'), name: fc.string(), entity: fc.string({ minLength: 1 }) }))
const extras = fc.record({
  ProblemTitle: fc.string(),
  ProblemSeverity: fc.constantFrom('ERROR', 'PERFORMANCE', 'AVAILABILITY', 'weird'),
  Tags: fc.string(),
  Custom: fc.jsonValue({ maxDepth: 3 }),
  ProblemDetailsJSONv2: fc.object({ maxDepth: 3 }),
}, { requiredKeys: [] })
const valid = fc.tuple(extras, fc.oneof(fc.string({ minLength: 1, maxLength: 256 }), fc.integer({ min: 0 })), fc.constantFrom('OPEN', 'RESOLVED', 'ACTIVE', 'CLOSED', 'MERGED'), fc.array(validEntity, { maxLength: 3 }))
  .map(([extra, id, state, entities]) => ({ ...extra, PID: id, State: state, ImpactedEntities: entities, SecurityProblemId: String(id), AffectedEntities: entities }))

const body = fc.oneof(
  { arbitrary: valid.map((p) => JSON.stringify(p)), weight: 6 },
  { arbitrary: nearPayload.map((p) => JSON.stringify(p)), weight: 4 },
  { arbitrary: fc.json({ maxDepth: 5 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary' }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), weight: 1 },
  { arbitrary: nearPayload.map((p) => JSON.stringify(p).slice(0, -1)), weight: 1 }
)

const request = fc.record({
  path: fc.constantFrom('/webhooks/problem', '/webhooks/security'),
  body,
  contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'text/plain', 'text/plain; charset=iso-8859-1', 'application/xml', 'application/x-www-form-urlencoded', undefined),
  encoding: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, 'identity', 'gzip', 'br'),
  auth: fc.constantFrom<Record<string, string>>(bearer, bearer, bearer, { 'x-webhook-token': TOKEN }, { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, {}, { authorization: 'Bearer wrong-token' }),
})

t.test('any request gets a 2xx or 4xx in the error shape, never a 5xx; every 202 is in the store', async (t) => {
  const app = await buildTestApp(t)
  let accepted = 0
  const statuses = new Map<number, number>()
  await fc.assert(fc.asyncProperty(request, async (r) => {
    const headers: Record<string, string> = { ...r.auth }
    if (r.contentType !== undefined) headers['content-type'] = r.contentType
    if (r.encoding !== undefined) headers['content-encoding'] = r.encoding
    const res = await app.inject({ method: 'POST', url: r.path, headers, payload: r.body })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode === 503) {
      // Load shedding is the one 5xx allowed, and it says when to come back.
      if (res.headers['retry-after'] === undefined) throw new Error('503 without Retry-After')
      return
    }
    if (res.statusCode >= 500) throw new Error(`${res.statusCode} ${res.body}`)
    const reply = res.json() as { status?: string, notificationId?: string, code?: string, message?: string }
    if (res.statusCode >= 400) {
      if (!/^DTR_ERR_[A-Z_]+$/.test(reply.code ?? '') || typeof reply.message !== 'string' || reply.message === '') throw new Error(`a ${res.statusCode} not in the error shape: ${res.body}`)
      return
    }
    if (res.statusCode === 202) {
      accepted++
      const stored = await app.store.notifications.get(reply.notificationId ?? '')
      if (stored === undefined) throw new Error(`202 ${reply.notificationId ?? ''} is not in the store`)
      if (JSON.stringify(stored.body) !== JSON.stringify(JSON.parse(typeof r.body === 'string' ? r.body : r.body.toString('utf8')))) throw new Error('the stored body differs from the one received')
      return
    }
    if (!(res.statusCode === 200 && ['test', 'duplicate'].includes(reply.status ?? ''))) throw new Error(`unexpected ${res.statusCode} ${res.body}`)
  }), { numRuns: runs })
  t.ok(accepted >= runs / 20, `some requests were accepted (${accepted} of ${runs}), so the 202 half was exercised`)
  t.ok([...statuses.keys()].some((s) => s === 400), 'and some refused')
  t.comment(`statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`)
})

t.test('under load shedding every request is a 202 that is stored or a 503 with Retry-After', async (t) => {
  // Few slots: a burst of concurrent requests meets the bound (plugins/under-pressure.ts).
  const app = await buildTestApp(t, { underPressure: { maxInFlight: 4 } })
  await fc.assert(fc.asyncProperty(fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 5, maxLength: 40 }), async (pids) => {
    const answers = await Promise.all(pids.map(async (pid, i) => app.inject({
      method: 'POST',
      url: '/webhooks/problem',
      headers: { ...bearer, 'content-type': 'application/json' },
      payload: { PID: `burst-${pid}-${i}-${Math.random()}`, State: 'OPEN', ImpactedEntities: ['SERVICE-1'] },
    })))
    for (const res of answers) {
      if (res.statusCode === 503) {
        if (res.headers['retry-after'] === undefined) throw new Error('503 without Retry-After')
        continue
      }
      if (res.statusCode !== 202) throw new Error(`${res.statusCode} ${res.body}`)
      if (await app.store.notifications.get((res.json() as { notificationId: string }).notificationId) === undefined) throw new Error('a 202 that is not stored')
    }
  }), { numRuns: Math.max(20, Math.floor(runs / 10)) })
  t.pass('every burst answered 202 (stored) or 503 with Retry-After')
})
