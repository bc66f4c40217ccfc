import { once } from 'node:events'
import t from 'tap'
import { Client } from 'undici'
import { DtrError, errorCatalogue } from '../../src/errors.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { sample } from '../helpers/samples.js'
import { openTestStore, storeWithFailingWrites } from '../helpers/store.js'

/** A promise with its resolve function, to let a test decide when something happens. */
function gate (): { promise: Promise<void>, open: () => void } {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

t.test('GET /healthz', async (t) => {
  t.test('answers 200 ok without a token', async (t) => {
    const app = await buildTestApp(t)
    const res = await app.inject({ method: 'GET', url: '/healthz' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ok' })
  })

  t.test('answers 200 while the overload check trips and webhooks are shed with 503 and Retry-After', async (t) => {
    const app = await buildTestApp(t, { underPressure: { healthCheck: async () => false } })
    const webhook = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload: sample('problem-open.json') })
    t.equal(webhook.statusCode, 503, 'the webhook is shed')
    t.equal(webhook.headers['retry-after'], '5')
    t.same(webhook.json(), { code: 'DTR_ERR_UNAVAILABLE', message: 'Service is overloaded (healthCheck); retry later' })
    t.equal(await app.store.notifications.count(), 0)
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} still answers 200`)
    }
  })
})

t.test('more webhooks in flight than the cap are shed at once with 503; the probes are not', async (t) => {
  const store = await openTestStore(t)
  const release = gate()
  const record = store.notifications.record
  let waiting = 0
  const held = gate()
  const slow = {
    ...store,
    notifications: {
      ...store.notifications,
      async record (n: Parameters<typeof record>[0]) {
        if (++waiting === 2) held.open()
        await release.promise
        return record(n)
      },
    },
  }
  const app = await buildTestApp(t, { store: slow, underPressure: { maxInFlight: 2 } })
  const post = async (pid: string) => app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload: { PID: pid, State: 'OPEN', ImpactedEntities: [] } })
  const first = post('a')
  const second = post('b')
  await held.promise
  const third = await post('c')
  t.equal(third.statusCode, 503)
  t.equal(third.headers['retry-after'], '5')
  t.same(third.json(), { code: 'DTR_ERR_UNAVAILABLE', message: 'Service is overloaded (2 requests in flight); retry later' })
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, '/healthz is not counted or shed')
  release.open()
  t.same([(await first).statusCode, (await second).statusCode], [202, 202], 'the two in flight are answered')
  t.equal((await post('d')).statusCode, 202, 'and a new one is taken again')
})

t.test('GET /readyz', async (t) => {
  t.test('answers 200 with the store check ok when the store answers', async (t) => {
    const app = await buildTestApp(t)
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ready', checks: { store: 'ok', rules: 'loaded' } })
  })

  t.test('answers 503 not ready when the store does not answer', async (t) => {
    const store = await openTestStore(t)
    const app = await buildTestApp(t, { store: { ...store, health: async () => ({ ready: false, store: 'unreachable' }) } })
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(res.statusCode, 503)
    t.same(res.json(), { status: 'not ready', checks: { store: 'unreachable', rules: 'loaded' } })
  })

  t.test('answers 503 while commits fail (a full disk), and 200 again once a write succeeds', async (t) => {
    const { store, failures } = await storeWithFailingWrites(t)
    const app = await buildTestApp(t, { store })
    failures.failing = true
    const post = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload: sample('problem-open.json') })
    t.equal(post.statusCode, 503, 'the notification is refused so that Dynatrace sends it again')
    t.same(post.json(), { code: 'DTR_ERR_STORE', message: 'The notification could not be stored; retry later' })
    const failing = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(failing.statusCode, 503)
    t.same(failing.json(), { status: 'not ready', checks: { store: 'failing', rules: 'loaded' } })
    t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive all the same: a restart would not free the disk')
    failures.failing = false
    const recovered = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(recovered.statusCode, 200)
    t.same(recovered.json(), { status: 'ready', checks: { store: 'ok', rules: 'loaded' } })
  })
})

t.test('GET /metrics', async (t) => {
  const app = await buildTestApp(t)

  t.test('exposes the service metrics in Prometheus text format without a token', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4; charset=utf-8$/)
    const types: Record<string, string> = {
      dtr_notifications_total: 'counter',
      dtr_runs_total: 'counter',
      dtr_run_duration_seconds: 'histogram',
      dtr_dynatrace_requests_total: 'counter',
      dtr_pending_runs: 'gauge',
      dtr_reconcile_total: 'counter',
    }
    for (const [name, type] of Object.entries(types)) {
      t.match(res.body, new RegExp(`^# HELP ${name} \\S`, 'm'), `${name} has help text`)
      t.match(res.body, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), `${name} is a ${type}`)
    }
    t.match(res.body, /^dtr_pending_runs 0$/m)
  })

  t.test('counts a notification the webhook answered', async (t) => {
    const post = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload: sample('test-notification-docs.json') })
    t.equal(post.statusCode, 200)
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    t.match(res.body, /^dtr_notifications_total\{kind="problem",outcome="test",source="webhook"\} 1$/m)
  })
})

t.test('errors', async (t) => {
  const app = await buildTestApp(t)
  // buildApp returns an app that is not ready yet, so a test can still add routes to it.
  app.get('/boom', async () => { throw new Error('ECONNREFUSED 10.0.0.7:5432 at /srv/app/secret.ts:12') })
  app.get('/boom-coded', async () => { throw new DtrError('DTR_ERR_CONFIG', 'DTR_DATABASE_URL: postgres://admin:hunter2@db') })
  app.get('/shed', async () => { throw new DtrError('DTR_ERR_UNAVAILABLE', 'Too many notifications waiting to be stored (9); retry later') })

  t.test('an unknown route answers 404 in the error shape', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/nope' })
    t.equal(res.statusCode, 404)
    t.same(res.json(), { code: 'DTR_ERR_NOT_FOUND', message: 'No route GET /nope' })
  })

  t.test('the 404 message leaves out the query string', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/nope?token=abc' })
    t.equal(res.statusCode, 404)
    t.same(res.json(), { code: 'DTR_ERR_NOT_FOUND', message: 'No route POST /nope' })
  })

  t.test('a plain Error answers 500 with the generic message and no internals', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/boom' })
    t.equal(res.statusCode, 500)
    t.same(res.json(), { code: 'DTR_ERR_INTERNAL', message: errorCatalogue.DTR_ERR_INTERNAL.description })
    t.notMatch(res.body, /ECONNREFUSED|secret|stack|10\.0\.0\.7/)
  })

  t.test('a coded 500 keeps its code but not its message', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/boom-coded' })
    t.equal(res.statusCode, 500)
    t.same(res.json(), { code: 'DTR_ERR_CONFIG', message: errorCatalogue.DTR_ERR_INTERNAL.description })
    t.notMatch(res.body, /hunter2/)
  })

  t.test('a 503 keeps its message and asks the client to retry after 5 seconds', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/shed' })
    t.equal(res.statusCode, 503)
    t.equal(res.headers['retry-after'], '5')
    t.same(res.json(), { code: 'DTR_ERR_UNAVAILABLE', message: 'Too many notifications waiting to be stored (9); retry later' })
  })
})

/*
 * Shutdown. `app.inject` cannot reach a closing app (Fastify rejects it with
 * FST_ERR_REOPENED_CLOSE_SERVER), so these tests listen on port 0 and talk HTTP with undici.
 * The close is held open deterministically by a preClose hook of the test's own, added after
 * buildApp's and so run after it: while it waits, the app's `closing` flag is set but Fastify has
 * not yet closed the listener or the idle kept-alive connections — the window in which a client
 * reusing a kept-alive connection still reaches the app.
 */
t.test('while the app is closing', async (t) => {
  t.test('a request on a kept-alive connection answers 503 DTR_ERR_UNAVAILABLE with connection: close', async (t) => {
    const app = await buildTestApp(t)
    const holdClose = gate()
    const closeHeld = gate()
    app.addHook('preClose', async () => {
      closeHeld.open()
      await holdClose.promise
    })
    let connections = 0
    app.server.on('connection', () => { connections++ })
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const client = new Client(address)
    t.teardown(() => client.close())

    const before = await client.request({ method: 'GET', path: '/healthz' })
    t.equal(before.statusCode, 200)
    t.equal(before.headers.connection, 'keep-alive')
    await before.body.dump()

    const closed = app.close()
    await closeHeld.promise
    const disconnected = once(client, 'disconnect')
    const during = await client.request({ method: 'GET', path: '/healthz' })
    t.equal(during.statusCode, 503)
    t.equal(during.headers.connection, 'close')
    t.equal(during.headers['retry-after'], '5')
    t.same(await during.body.json(), { code: 'DTR_ERR_UNAVAILABLE', message: 'Service is shutting down; retry later' })
    await disconnected
    t.equal(connections, 1, 'both requests travelled on the one kept-alive connection')

    holdClose.open()
    await closed
  })

  t.test('a request already in flight finishes normally, with connection: close', async (t) => {
    const app = await buildTestApp(t)
    const entered = gate()
    const release = gate()
    const closeStarted = gate()
    app.get('/slow', async () => {
      entered.open()
      await release.promise
      return { done: true }
    })
    app.addHook('preClose', async () => { closeStarted.open() })
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const client = new Client(address)
    t.teardown(() => client.close())

    const inFlight = client.request({ method: 'GET', path: '/slow' })
    await entered.promise
    const closed = app.close()
    await closeStarted.promise
    release.open()
    const res = await inFlight
    t.equal(res.statusCode, 200)
    t.equal(res.headers.connection, 'close')
    t.same(await res.body.json(), { done: true })
    await closed
  })
})
