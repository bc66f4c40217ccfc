/**
 * The pure parts of the client: retry arithmetic, URL forms, selector quoting, the limiter and
 * the tolerance of the response schemas.
 */
import t from 'tap'
import { backoffDelayMs, defaultRetryOptions, nextDelayMs, parseRateLimitReset, parseRetryAfter, serverRequestedDelayMs } from '../../src/dynatrace/retry.js'
import { parseEnvironmentUrl } from '../../src/dynatrace/url.js'
import { criterion, quoteSelectorValue } from '../../src/dynatrace/selectors.js'
import { Limiter } from '../../src/dynatrace/limiter.js'
import { problemSchema, eventSchema } from '../../src/dynatrace/schemas.js'
import { errorBodyOf } from '../../src/dynatrace/errors.js'

const NOW = Date.parse('2026-01-01T12:00:00Z')

t.test('Retry-After', async (t) => {
  t.equal(parseRetryAfter('3', NOW), 3000, 'delta-seconds')
  t.equal(parseRetryAfter('0.5', NOW), 500)
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 12:00:05 GMT', NOW), 5000, 'HTTP date')
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', NOW), 0, 'a date in the past means now')
  t.equal(parseRetryAfter('soon', NOW), undefined)
  t.equal(parseRetryAfter(undefined, NOW), undefined)
})

t.test('X-RateLimit-Reset is epoch microseconds', async (t) => {
  t.equal(parseRateLimitReset(String((NOW + 1500) * 1000), NOW), 1500)
  t.equal(parseRateLimitReset(String((NOW - 10) * 1000), NOW), 0)
  t.equal(parseRateLimitReset('abc', NOW), undefined)
  t.equal(serverRequestedDelayMs({ 'retry-after': '1', 'x-ratelimit-reset': String((NOW + 2000) * 1000) }, NOW), 2000, 'the longer of both wins')
  t.equal(serverRequestedDelayMs({}, NOW), undefined)
})

t.test('backoff is exponential, jittered and capped', async (t) => {
  const o = { ...defaultRetryOptions, baseDelayMs: 100, maxDelayMs: 1000 }
  t.equal(backoffDelayMs(1, o, () => 0.999), 99)
  t.equal(backoffDelayMs(3, o, () => 0.999), 399)
  t.equal(backoffDelayMs(10, o, () => 0.999), 999, 'capped at maxDelayMs')
  t.equal(backoffDelayMs(3, o, () => 0), 0, 'full jitter reaches zero')
  t.ok(nextDelayMs(1, 1000, o, () => 0.5) >= 1000, 'a server-requested wait is a floor')
  t.ok(nextDelayMs(1, 1000, o, () => 0.999) < 1100, 'plus at most one base step of jitter')
})

t.test('environment URLs', async (t) => {
  t.same(parseEnvironmentUrl('https://abc12345.live.dynatrace.com'), { origin: 'https://abc12345.live.dynatrace.com', basePath: '', href: 'https://abc12345.live.dynatrace.com', plaintextRemote: false })
  t.same(parseEnvironmentUrl('https://abc12345.live.dynatrace.com/api/v2/'), { origin: 'https://abc12345.live.dynatrace.com', basePath: '', href: 'https://abc12345.live.dynatrace.com', plaintextRemote: false })
  t.equal(parseEnvironmentUrl('https://managed.example.com/e/1a2b-3c/').basePath, '/e/1a2b-3c')
  t.equal(parseEnvironmentUrl('http://127.0.0.1:9000').origin, 'http://127.0.0.1:9000')
  t.throws(() => parseEnvironmentUrl('ftp://x'), { code: 'DTR_ERR_CONFIG' })
  t.throws(() => parseEnvironmentUrl('not a url'), { code: 'DTR_ERR_CONFIG' })
  t.throws(() => parseEnvironmentUrl('https://x.live.dynatrace.com?Api-Token=secret'), { code: 'DTR_ERR_CONFIG' })
})

t.test('selector values are quoted with tilde escapes', async (t) => {
  t.equal(quoteSelectorValue('a"b~c'), '"a~"b~~c"')
  t.equal(criterion('entityId', ['SERVICE-1', 'SERVICE-2']), 'entityId("SERVICE-1","SERVICE-2")')
})

t.test('the limiter hands slots over in order and honours aborts', async (t) => {
  const l = new Limiter(1)
  await l.acquire()
  const order: string[] = []
  const second = l.acquire().then(() => { order.push('second') })
  const controller = new AbortController()
  const third = l.acquire(controller.signal)
  controller.abort(new Error('gone'))
  await t.rejects(third, { message: 'gone' })
  t.equal(l.queued, 1)
  l.release()
  await second
  t.same(order, ['second'])
  t.equal(l.active, 1)
  l.release()
  t.equal(l.active, 0)
  t.throws(() => new Limiter(0), RangeError)
})

t.test('response schemas keep unknown fields and accept unknown enum values', async (t) => {
  const p = problemSchema.parse({
    problemId: 'p',
    displayId: 'P-1',
    title: 't',
    status: 'SOMETHING_NEW',
    severityLevel: 'BRAND_NEW',
    impactLevel: 'SERVICES',
    startTime: 1,
    endTime: -1,
    impactedEntities: [],
    affectedEntities: [],
    futureField: { x: 1 },
  })
  t.equal(p.status, 'SOMETHING_NEW')
  t.same((p as Record<string, unknown>).futureField, { x: 1 })
  const e = eventSchema.parse({ eventId: 'e', eventType: 'CUSTOM_DEPLOYMENT', startTime: 1, endTime: null })
  t.equal(e.endTime, undefined, 'a null endTime (active event) is accepted')
  t.same(e.properties, [])
  t.throws(() => problemSchema.parse({ displayId: 'P-1' }), 'required fields are still required')
})

t.test('the error envelope is read defensively', async (t) => {
  t.same(errorBodyOf({ error: { code: 400, message: 'm', constraintViolations: [{ path: 'x', message: 'y', parameterLocation: 'QUERY' }] } }),
    { code: 400, message: 'm', constraintViolations: [{ path: 'x', message: 'y', parameterLocation: 'QUERY' }] })
  t.equal(errorBodyOf('<html>'), undefined)
  t.equal(errorBodyOf({ error: 'x' }), undefined)
})
