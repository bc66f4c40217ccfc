import t from 'tap'
import { request, Pool } from 'undici'
import { openPglite } from '../src/store/pglite.js'
import { createStore } from '../src/store/index.js'
import { startServer } from './helpers/server-process.js'
import { freshDataDir } from './helpers/store.js'

const TOKEN = 'process-test-token'
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
const notification = (i: number): string => JSON.stringify({ PID: `proc-${i}`, State: 'OPEN', ImpactedEntities: [{ type: 'SERVICE', name: 's', entity: 'SERVICE-1' }] })

t.test('a notification answered 202 survives SIGKILL right after the answer', async (t) => {
  const dataDir = await freshDataDir(t)
  const server = await startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN })
  const res = await request(`${server.url}/webhooks/problem`, { method: 'POST', headers, body: notification(1) })
  const answer = await res.body.json() as { status: string, notificationId: string }
  server.child.kill('SIGKILL')
  t.equal(res.statusCode, 202)
  t.equal(await server.exited, 'SIGKILL')

  // A new process on the same data directory (the dead owner's lock is taken over).
  const store = await createStore(await openPglite(dataDir))
  t.teardown(() => store.close())
  t.match(await store.notifications.get(answer.notificationId), { problemId: 'proc-1', state: 'OPEN' })
  const jobs = await store.jobs.claim('notification', 'next-process', { leaseMs: 30_000, limit: 10 })
  t.same(jobs.map((j) => j.payload), [{ notificationId: answer.notificationId }], 'its queued work is there too')
})

t.test('a second process on a data directory in use is refused with a clear message', async (t) => {
  const dataDir = await freshDataDir(t)
  const first = await startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN })
  await t.rejects(startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN }), /data directory .* is in use by process \d+/)
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0)
})

t.test('an invalid variable stops start-up with one line naming it', async (t) => {
  await t.rejects(startServer(t, { DTR_PORT: 'eighty' }), /dt-remediator: DTR_PORT: must be a port number \(got "eighty"\)\n$/)
})

t.test('without DTR_WEBHOOK_TOKENS a token is generated once, printed once, and works', async (t) => {
  const dataDir = await freshDataDir(t)
  const first = await startServer(t, { DTR_DATA_DIR: dataDir })
  const generated = first.logs.find((l) => l.event === 'webhook-token-generated')
  const token = /shown only this once: (\S+)/.exec(String(generated?.msg))?.[1]
  t.ok(token, 'the token is printed')
  t.match(String(generated?.msg), /Authorization: Bearer \S+/, 'with the header to configure in Dynatrace')
  const ok = await request(`${first.url}/webhooks/problem`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token ?? ''}` }, body: notification(2) })
  await ok.body.dump()
  t.equal(ok.statusCode, 202)
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0)

  const second = await startServer(t, { DTR_DATA_DIR: dataDir })
  t.notOk(second.logs.some((l) => l.event === 'webhook-token-generated'), 'not printed again on the next start')
  const again = await request(`${second.url}/webhooks/problem`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token ?? ''}` }, body: notification(3) })
  await again.body.dump()
  t.equal(again.statusCode, 202, 'the same token still works')
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)
})

t.test('SIGTERM during a burst: every request the server accepted is answered and stored, then exit 0', async (t) => {
  const dataDir = await freshDataDir(t)
  // At debug level the server logs each request as it arrives, which tells what it accepted.
  const server = await startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN, DTR_LOG_LEVEL: 'debug' })
  const pool = new Pool(server.url, { connections: 10 })
  t.teardown(() => pool.destroy())

  type Result = { id: string, status?: number, body?: { status?: string, notificationId?: string }, error?: string }
  let answered = 0
  const send = async (i: number): Promise<Result> => {
    // The server logs our id as its request id, so its log tells which requests it accepted.
    const id = `burst-${i}`
    try {
      const res = await pool.request({ path: '/webhooks/problem', method: 'POST', headers: { ...headers, 'x-request-id': id }, body: notification(100 + i) })
      const body = await res.body.json() as Result['body']
      if (++answered === 40) server.child.kill('SIGTERM')
      return { id, status: res.statusCode, body }
    } catch (err) {
      // A connection the server closed before reading the request (keep-alive race, or the
      // listener already gone): Dynatrace sees a failed delivery and resends.
      return { id, error: (err as { code?: string }).code ?? String(err) }
    }
  }
  // 400 notifications, 20 in flight at a time, so the signal lands mid-burst.
  const results: Result[] = []
  let next = 0
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < 400) results.push(await send(next++))
  }))
  t.equal(await server.exited, 0, 'exits 0')

  const acceptedByServer = new Set(server.logs.filter((l) => l.msg === 'incoming request').map((l) => l.reqId as string))
  const answeredIds = new Set(results.filter((r) => r.status !== undefined).map((r) => r.id))
  const unanswered = [...acceptedByServer].filter((id) => !answeredIds.has(id))
  t.same(unanswered, [], `all ${acceptedByServer.size} requests the server accepted got an HTTP answer`)
  t.ok(results.some((r) => r.status === undefined), 'requests after the listener closed were refused at the connection')
  const statuses = new Set(results.filter((r) => r.status !== undefined).map((r) => r.status))
  t.ok([...statuses].every((s) => s === 202 || s === 503), `answers are 202 or 503 (${[...statuses].join(', ')})`)

  const accepted = results.filter((r) => r.status === 202).map((r) => r.body?.notificationId as string)
  t.ok(accepted.length >= 40, `${accepted.length} accepted`)
  const store = await createStore(await openPglite(dataDir))
  t.teardown(() => store.close())
  t.equal(await store.notifications.count(), accepted.length, 'every notification answered 202 is stored, and nothing else')
  for (const id of accepted) {
    if ((await store.notifications.get(id)) === undefined) t.fail(`notification ${id} answered 202 is missing`)
  }
})
