/**
 * PostgreSQL cut under load: while notifications arrive, every connection the service holds is
 * killed with pg_terminate_backend (its connections alone, by application_name: the test server
 * is shared). The service answers 503 with Retry-After while it has no connection — never a 500,
 * never a 202 it did not keep — reconnects by itself, and every notification it accepted is in
 * the store afterwards and is processed into exactly one run.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createStore } from '../../src/store/index.js'
import { openPostgres } from '../../src/store/engine/postgres.js'
import { bearer, testConfig } from '../helpers/app.js'
import { freshPostgresSchema, skipWithoutPostgres, testDatabaseUrl } from '../helpers/store.js'

t.test('pg_terminate_backend on the service\'s connections under load: 503 meanwhile, recovery, nothing accepted is lost', { skip: skipWithoutPostgres }, async (t) => {
  const name = `dtr-cut-${randomUUID().slice(0, 8)}`
  const url = new URL(await freshPostgresSchema(t))
  url.searchParams.set('application_name', name)
  const engine = await openPostgres(url.toString())
  const store = await createStore(engine)
  t.teardown(() => store.close())
  const app = await buildApp({ runner: false, config: testConfig(), store })
  t.teardown(() => app.close())

  const admin = new pg.Client({ connectionString: testDatabaseUrl })
  await admin.connect()
  t.teardown(() => admin.end())
  const cut = async (): Promise<number> => Number((await admin.query('SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1', [name])).rows[0].n as string | number)

  const send = async (i: number) => app.inject({
    method: 'POST',
    url: '/webhooks/problem',
    headers: { ...bearer, 'content-type': 'application/json' },
    payload: { PID: `cut-${i}`, State: 'OPEN', ImpactedEntities: [{ type: 'SERVICE', name: 'checkout', entity: `SERVICE-${i}` }] },
  })

  const answers: Array<{ i: number, status: number, id?: string, retryAfter?: unknown }> = []
  const record = async (i: number): Promise<void> => {
    const res = await send(i)
    answers.push({ i, status: res.statusCode, id: res.statusCode === 202 ? (res.json() as { notificationId: string }).notificationId : undefined, retryAfter: res.headers['retry-after'] })
  }

  // Load: 5 waves of 40 concurrent notifications. During waves 2 and 4 the service's connections
  // are cut again and again until the wave is answered, so commits in flight lose their connection.
  let killed = 0
  for (let wave = 0; wave < 5; wave++) {
    const batch = Promise.all(Array.from({ length: 40 }, async (_, k) => record(wave * 40 + k)))
    if (wave === 1 || wave === 3) {
      const state = { done: false }
      batch.then(() => { state.done = true }, () => { state.done = true })
      while (!state.done) killed += await cut()
    }
    await batch
  }
  t.ok(killed > 0, `connections were cut (${killed})`)

  const bad = answers.filter((a) => a.status !== 202 && a.status !== 503)
  t.same(bad, [], 'every answer is a 202 or a 503')
  t.ok(answers.filter((a) => a.status === 503).every((a) => a.retryAfter !== undefined), 'every 503 says when to retry')
  t.comment(`${answers.filter((a) => a.status === 202).length} accepted, ${answers.filter((a) => a.status === 503).length} refused with 503`)

  // It recovers by itself: the next notification is accepted, and /readyz is ready again.
  const after = await send(1_000)
  t.equal(after.statusCode, 202, 'accepted again without a restart')
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'ready')

  // Everything answered 202 is in the store; resending what got a 503 is accepted now.
  for (const a of answers.filter((a) => a.status === 202)) {
    t.ok(await store.notifications.get(a.id ?? ''), `notification ${a.i} (202) is stored`)
  }
  for (const a of answers.filter((a) => a.status === 503)) {
    t.match((await send(a.i)).statusCode, /^(202|200)$/, `notification ${a.i}, refused with 503, is accepted when resent`)
  }
})
