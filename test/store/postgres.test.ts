/**
 * Several replicas on one PostgreSQL (SPEC 8). Runs when DTR_TEST_DATABASE_URL is set (CI sets
 * it); otherwise every test here is skipped and says why.
 */
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { openPostgres } from '../../src/store/engine/postgres.js'
import { createStore, type Store } from '../../src/store/index.js'
import { RELAXED_PRESSURE, testConfig, TOKEN } from '../helpers/app.js'
import { postgresEngine, skipWithoutPostgres } from '../helpers/store.js'

async function replicas (t: Test, n: number): Promise<Store[]> {
  const { databaseUrl } = await postgresEngine.location(t)
  const stores = await Promise.all(Array.from({ length: n }, async () => createStore(await openPostgres(databaseUrl as string))))
  t.teardown(async () => { for (const s of stores) await s.close() })
  return stores
}

t.test('two app instances on one PostgreSQL store a notification received concurrently once', { skip: skipWithoutPostgres }, async (t) => {
  const stores = await replicas(t, 2)
  const apps = await Promise.all(stores.map(async (store) => buildApp({ config: testConfig(), store, underPressure: RELAXED_PRESSURE })))
  t.teardown(async () => { for (const a of apps) await a.close() })

  const payload = { PID: 'pg-1', State: 'OPEN', ImpactedEntities: ['SERVICE-1'] }
  const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => apps[i % 2]?.inject({
    method: 'POST', url: '/webhooks/problem', headers: { authorization: `Bearer ${TOKEN}` }, payload,
  })))
  const statuses = answers.map((a) => a?.statusCode)
  t.equal(statuses.filter((s) => s === 202).length, 1, 'exactly one 202')
  t.equal(statuses.filter((s) => s === 200).length, 19, 'the rest are duplicates')
  t.equal(new Set(answers.map((a) => a?.json().notificationId)).size, 1, 'all name the stored notification')
  t.equal(await stores[0]?.notifications.count(), 1)
  t.equal(await stores[1]?.jobs.pending('notification'), 1, 'one unit of work')
})

t.test('replicas claiming from the queue at once never get the same job', { skip: skipWithoutPostgres }, async (t) => {
  const stores = await replicas(t, 3)
  for (let i = 0; i < 60; i++) await stores[0]?.jobs.enqueue('work', `k${i}`, { i })
  const claimed: string[] = []
  await Promise.all(stores.map(async (store, n) => {
    for (;;) {
      const jobs = await store.jobs.claim('work', `replica-${n}`, { leaseMs: 30_000, limit: 4 })
      if (jobs.length === 0) return
      for (const job of jobs) {
        claimed.push(job.key)
        t.equal(await store.jobs.complete(job.id, `replica-${n}`), true)
      }
    }
  }))
  t.equal(claimed.length, 60)
  t.equal(new Set(claimed).size, 60, 'no job claimed twice')
})

t.test('replicas without configured tokens share one generated webhook token', { skip: skipWithoutPostgres }, async (t) => {
  const stores = await replicas(t, 2)
  const [a, b] = await Promise.all(stores.map(async (store) => buildApp({ config: testConfig({ DTR_WEBHOOK_TOKENS: '' }), store, underPressure: RELAXED_PRESSURE })))
  t.teardown(async () => { await a?.close(); await b?.close() })
  t.equal(await stores[0]?.settings.get('webhook-token.sha256'), await stores[1]?.settings.get('webhook-token.sha256'))
})

t.test('an unreachable PostgreSQL stops the open with one line naming DTR_DATABASE_URL, without the password', async (t) => {
  await t.rejects(openPostgres('postgres://dtr:secret@127.0.0.1:1/none'), { code: 'DTR_ERR_STORE', message: /^Cannot connect to PostgreSQL 127\.0\.0\.1:1\/none \(DTR_DATABASE_URL\): / })
  const err = await openPostgres('postgres://dtr:secret@127.0.0.1:1/none').catch((e: Error) => e)
  t.notMatch(String((err as Error).message), /secret/)
})
