/**
 * The request log: one line per request, without the query string, so that a token a client
 * puts in the URL never reaches the log, at any level.
 */
import { Writable } from 'node:stream'
import t from 'tap'
import { pino } from 'pino'
import { redactPaths, requestLineSink } from '../../src/server.js'
import { pathOf, requestLineMembers } from '../../plugins/request-log.js'
import { bearer, buildTestApp, TOKEN } from '../helpers/app.js'
import { sample } from '../helpers/samples.js'

function capture (level: string) {
  const lines: Array<Record<string, unknown>> = []
  const text: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter((l) => l !== '')) {
        text.push(line)
        lines.push(JSON.parse(line) as Record<string, unknown>)
      }
      done()
    },
  })
  return { logger: pino({ level, redact: { paths: redactPaths('x-webhook-token'), censor: '[redacted]' } }, stream), lines, text }
}

t.test('pathOf drops the query string', async (t) => {
  t.equal(pathOf('/webhooks/problem?token=abc&x=1'), '/webhooks/problem')
  t.equal(pathOf('/healthz'), '/healthz')
  t.equal(pathOf('/a?'), '/a')
})

t.test('a token sent in the query string never reaches the log, at debug level either', async (t) => {
  const secret = 'query-string-secret-4711'
  const log = capture('debug')
  const app = await buildTestApp(t, { logger: log.logger })
  const json = { 'content-type': 'application/json' }
  const answers = [
    await app.inject({ method: 'POST', url: `/webhooks/problem?token=${secret}`, headers: json, payload: sample('problem-open.json') }),
    await app.inject({ method: 'POST', url: `/webhooks/problem?x-webhook-token=${secret}&token=${TOKEN}`, headers: { ...json, ...bearer }, payload: sample('problem-open.json') }),
    await app.inject({ method: 'POST', url: `/webhooks/problem?api_key=${secret}`, headers: { ...json, ...bearer }, payload: '{"PID":' }),
    await app.inject({ method: 'GET', url: `/nope?token=${secret}` }),
    await app.inject({ method: 'GET', url: `/healthz?token=${secret}` }),
  ]
  t.same(answers.map((a) => a.statusCode), [401, 202, 400, 404, 200])
  t.ok(log.text.length >= 5, `${log.text.length} lines were logged`)
  t.same(log.text.filter((line) => line.includes(secret)), [], 'no line holds the secret')
  t.ok(log.lines.some((l) => (l.req as { url?: string } | undefined)?.url === '/webhooks/problem'), 'the path is logged, without its query')
})

t.test('a webhook costs one log line at info level, carrying what was done', async (t) => {
  const log = capture('info')
  const app = await buildTestApp(t, { logger: log.logger })
  const headers = { ...bearer, 'content-type': 'application/json', 'x-request-id': 'one-line-1' }
  const stored = await app.inject({ method: 'POST', url: '/webhooks/problem', headers, payload: sample('problem-open.json') })
  const mine = log.lines.filter((l) => l.reqId === 'one-line-1')
  t.equal(mine.length, 1, 'one line')
  t.match(mine[0], {
    level: 30,
    msg: 'request completed',
    req: { method: 'POST', url: '/webhooks/problem' },
    res: { statusCode: 202 },
    kind: 'problem',
    problemId: '-6386032669938507213_1634684083930V2',
    state: 'OPEN',
    status: 'accepted',
    notificationId: stored.json().notificationId,
  })
  t.notOk(JSON.stringify(mine).includes('Bearer'), 'no credentials')

  await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...headers, 'x-request-id': 'one-line-2' }, payload: { State: 'OPEN' } })
  const refused = log.lines.filter((l) => l.reqId === 'one-line-2')
  t.equal(refused.length, 1, 'a refusal is one line too')
  t.match(refused[0], { level: 30, res: { statusCode: 400 }, code: 'DTR_ERR_INVALID_PAYLOAD', reason: /^Missing PID/ })

  await app.inject({ method: 'GET', url: '/readyz', headers: { 'x-request-id': 'probe' } })
  t.same(log.lines.filter((l) => l.reqId === 'probe'), [], 'probes log only at debug level')
})

t.test("the process's shaped line is the line pino writes for the same request", async (t) => {
  // Two apps, one writing through pino (tests, embedders), one through the sink the server gives
  // (src/server.ts): the same request logs the same line, apart from its time.
  const viaPino = capture('info')
  const viaSink = capture('info')
  const written: string[] = []
  const sink = requestLineSink(viaSink.logger, (line) => { written.push(line) })
  const apps = [await buildTestApp(t, { logger: viaPino.logger }), await buildTestApp(t, { logger: viaSink.logger, requestLines: sink })]
  // Hostile values from the payload reach the line as JSON strings, never as JSON of their own.
  const pid = 'p"1\\n},"level":60,\u2028"x":"</script>'
  for (const app of apps) {
    const headers = { ...bearer, 'content-type': 'application/json', 'x-request-id': 'same-1' }
    await app.inject({ method: 'POST', url: '/webhooks/problem?x=1', headers, payload: { PID: pid, State: 'OPEN', ImpactedEntities: [] } })
    await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...headers, 'x-request-id': 'same-2' }, payload: { PID: '99999', ProblemID: '999', State: 'OPEN', ImpactedEntities: [] } })
  }
  t.equal(written.length, 2, 'the sink wrote both lines')
  t.ok(written.every((line) => line.endsWith('}\n') && !line.slice(0, -1).includes('\n')), 'one line each')
  const sunk = written.map((line) => JSON.parse(line) as Record<string, unknown>)
  const through = viaPino.lines.filter((l) => l.msg === 'request completed')
  t.equal(through.length, 2)
  const timeless = (l: Record<string, unknown>): Record<string, unknown> => ({ ...l, time: 0, responseTime: 0, ...(l.notificationId === undefined ? {} : { notificationId: 'n' }) })
  t.same(sunk.map(timeless), through.map(timeless), 'the same members, values and order')
  t.same(Object.keys(sunk[0] ?? {}), Object.keys(through[0] ?? {}), 'in the same order')
  t.equal(sunk[0]?.problemId, pid, 'the hostile PID is one string value')
  t.equal(sunk[0]?.level, 30)
  t.equal(typeof sunk[0]?.time, 'number')
})

t.test('requestLineMembers: each value JSON-encoded, no empty member', async (t) => {
  t.equal(requestLineMembers('a"b', 'GET', '/x?token=1', 200, 1.5, undefined), '"reqId":"a\\"b","req":{"method":"GET","url":"/x"},"res":{"statusCode":200},"responseTime":1.5')
  t.equal(requestLineMembers('r', 'POST', '/w', 202, 2, {}), '"reqId":"r","req":{"method":"POST","url":"/w"},"res":{"statusCode":202},"responseTime":2')
  t.equal(requestLineMembers('r', 'POST', '/w', 202, 2, { kind: 'problem', gone: undefined }), '"reqId":"r","req":{"method":"POST","url":"/w"},"res":{"statusCode":202},"responseTime":2,"kind":"problem"')
})
