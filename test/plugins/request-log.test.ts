/**
 * The request log: one line per request, without the query string, so that a token a client
 * puts in the URL never reaches the log, at any level.
 */
import { Writable } from 'node:stream'
import t from 'tap'
import { pino } from 'pino'
import { redactPaths, requestLineSink } from '../../src/server.js'
import { LazyRequestLogger, pathOf, requestLineMembers } from '../../plugins/request-log.js'
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

t.test('a request\'s own logger is made on first use, bound to the request id, and behaves as pino\'s child', async (t) => {
  const log = capture('trace')
  let children = 0
  const parent = log.logger
  const counting = Object.create(parent) as typeof parent
  counting.child = (bindings, options) => { children++; return parent.child(bindings, options) }
  const lazy = new LazyRequestLogger(counting, { reqId: 'r-1' }, {})
  t.equal(lazy.level, 'trace', 'the level is the parent\'s until a child exists')
  t.ok(lazy.isLevelEnabled('debug'))
  t.equal(children, 0, 'a level check makes no child')
  lazy.trace('t'); lazy.debug('d'); lazy.info({ a: 1 }, 'i'); lazy.warn('w'); lazy.error('e'); lazy.fatal('f'); lazy.silent('s')
  t.equal(children, 1, 'the first line made the one child')
  t.same(log.lines.map((l) => [l.msg, l.reqId]), ['t', 'd', 'i', 'w', 'e', 'f'].map((m) => [m, 'r-1']), 'every line carries the request id')
  t.equal(log.lines[2]?.a, 1, 'with its own members')
  lazy.child({ step: 2 }).info('nested')
  t.same([log.lines.at(-1)?.reqId, log.lines.at(-1)?.step], ['r-1', 2], 'a child of it keeps both bindings')
  lazy.level = 'warn'
  t.equal(lazy.level, 'warn')
  t.notOk(lazy.isLevelEnabled('info'), 'a level set on it is its own')
  t.ok(parent.isLevelEnabled('info'), 'and not its parent\'s')

  const leveled = new LazyRequestLogger(parent, { reqId: 'r-2' }, { level: 'error' })
  t.equal(leveled.level, 'error', 'a route\'s log level is the child\'s')
  t.notOk(leveled.isLevelEnabled('warn'))
  leveled.warn('not written')
  t.notOk(log.lines.some((l) => l.reqId === 'r-2'), 'below the route\'s level nothing is written')
})

t.test('a request that logs nothing of its own makes no child logger; ids are a process prefix and a count', async (t) => {
  const log = capture('info')
  // Every pino logger's `child` (Fastify makes its own root a child of the given logger, and each
  // request's logger a child of that), counting those bound to a request id.
  let proto: object = log.logger
  while (!Object.prototype.hasOwnProperty.call(proto, 'child')) proto = Object.getPrototypeOf(proto) as object
  const owner = proto as { child: (this: unknown, bindings: Record<string, unknown>, options?: unknown) => unknown }
  const child = owner.child
  let children = 0
  owner.child = function (bindings, options) {
    if (bindings.reqId !== undefined) children++
    return child.call(this, bindings, options)
  }
  t.teardown(() => { owner.child = child })
  const app = await buildTestApp(t, { logger: log.logger })
  const json = { ...bearer, 'content-type': 'application/json' }
  const test = { PID: '99999', ProblemID: '999', State: 'OPEN', ImpactedEntities: [] }
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: test })).statusCode, 200)
  t.equal(children, 0, 'three test notifications, no child logger')
  const ids = log.lines.filter((l) => l.msg === 'request completed').map((l) => String(l.reqId))
  t.equal((await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...json, authorization: 'Bearer wrong' }, payload: test })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/nope' })).statusCode, 404)
  t.equal(children, 0, 'nor a refusal or a 404, whose lines RequestLog writes')
  t.equal(ids.length, 3, 'each still has its line')
  t.match(ids[0], /^[0-9a-f]{8}-\d+$/, 'an id is the process\'s prefix and a count')
  t.equal(new Set(ids).size, 3, 'and no two are the same')
  t.equal(new Set(ids.map((id) => id.split('-')[0])).size, 1, 'one prefix per process')
})
