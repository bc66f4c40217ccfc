/**
 * The embedded store's writer thread can die on its own (out of memory is the likely way). The
 * process then refuses every notification with 503 until it restarts, so /healthz must fail and
 * let the kubelet restart it; what was stored before stays, and the next process takes it up.
 */
import t from 'tap'
import { sql } from 'kysely'
import { openSqlite } from '../../src/store/engine/sqlite.js'
import { createStore, openStore } from '../../src/store/index.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { sample } from '../helpers/samples.js'
import { freshDataDir } from '../helpers/store.js'

/** A read far bigger than a 16 MB heap: 200,000 rows, each with a 128-character string (about 40 MB). */
const hugeRead = sql`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT x, hex(randomblob(64)) AS h FROM c`

t.test('a writer thread that runs out of memory fails /healthz and /readyz; what was stored before is kept', async (t) => {
  const dataDir = freshDataDir(t)
  const engine = await openSqlite(dataDir, { writerLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } })
  const store = await createStore(engine)
  let closed = false
  t.teardown(async () => { if (!closed) await store.close() })
  const app = await buildTestApp(t, { store, runner: false })
  const post = async (pid: string) => app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload: { ...sample('problem-open.json'), PID: pid } })

  t.equal((await post('before-1')).statusCode, 202)
  t.equal(store.broken(), undefined, 'a healthy writer thread is not broken')
  t.same((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' })

  const failure = await hugeRead.execute(engine.db).then(() => undefined, (err: Error) => err)
  t.match(failure, { code: 'DTR_ERR_STORE', message: /writer thread failed: .*ERR_WORKER_OUT_OF_MEMORY/ }, 'the read fails with the reason')
  // The worker's 'exit' follows its 'error'; the death is recorded then.
  for (let i = 0; i < 10_000 && store.broken() === undefined; i++) await new Promise((resolve) => setImmediate(resolve))
  t.match(store.broken(), /ERR_WORKER_OUT_OF_MEMORY/, 'the store says why it can no longer be used')

  const healthz = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(healthz.statusCode, 503, '/healthz fails, so the kubelet restarts the pod')
  t.match(healthz.json(), { status: 'failing', reason: /ERR_WORKER_OUT_OF_MEMORY/ })
  const readyz = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(readyz.statusCode, 503)
  t.match(readyz.json(), { checks: { store: 'unreachable' } })
  const refused = await post('after-1')
  t.equal(refused.statusCode, 503, 'a notification is refused with 503, so Dynatrace may send it again')
  t.match(refused.json(), { code: 'DTR_ERR_STORE' })

  await app.close()
  await store.close()
  closed = true
  const next = await openStore({ databaseUrl: undefined, dataDir })
  t.teardown(() => next.close())
  t.equal(next.broken(), undefined)
  t.equal(await next.notifications.count(), 1, 'the next process finds what was stored before the death, and only that')
})

t.test('closing the store is not a death', async (t) => {
  const engine = await openSqlite(freshDataDir(t))
  const store = await createStore(engine)
  await store.close()
  t.equal(store.broken(), undefined)
})

t.test('with the connection on the main thread there is no writer thread to lose', async (t) => {
  const engine = await openSqlite(freshDataDir(t), { thread: 'main' })
  const store = await createStore(engine)
  t.teardown(() => store.close())
  t.equal(store.broken(), undefined)
})
