/**
 * The process, as it runs in production: started from src/cli.ts in a child process, killed with
 * signals, and its embedded store opened afterwards by the next process.
 */
import { writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { request, Pool } from 'undici'
import { openStore } from '../src/store/index.js'
import { canUnsharePid, startServer } from './helpers/server-process.js'
import { freshDataDir } from './helpers/store.js'

// Eleven real server processes start and stop here, each compiling the TypeScript it runs: on a
// loaded 2-core machine that alone passed the suite's 120 s per file. A bound, not a wait: every
// test still ends on its events.
t.setTimeout(360_000)

const TOKEN = 'process-test-token'
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
const notification = (i: number): string => JSON.stringify({ PID: `proc-${i}`, State: 'OPEN', ImpactedEntities: [{ type: 'SERVICE', name: 's', entity: 'SERVICE-1' }] })

/** The next process's view of a data directory. */
async function reopen (t: Test, dataDir: string) {
  const store = await openStore({ dataDir, databaseUrl: undefined })
  t.teardown(() => store.close())
  return store
}

t.test('a notification answered 202 survives SIGKILL right after the answer', async (t) => {
  const dataDir = freshDataDir(t)
  const server = await startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN })
  const res = await request(`${server.url}/webhooks/problem`, { method: 'POST', headers, body: notification(1) })
  const answer = await res.body.json() as { status: string, notificationId: string }
  server.child.kill('SIGKILL')
  t.equal(res.statusCode, 202)
  t.equal(await server.exited, 'SIGKILL')

  // The next process on the same data directory: the dead owner's lock went with it.
  const store = await reopen(t, dataDir)
  t.match(await store.notifications.get(answer.notificationId), { problemId: 'proc-1', state: 'OPEN' })
  // Its work is there too — queued, or taken up already by the runner of the killed process
  // (the next one resumes it), or done: whichever the kill interrupted, never missing.
  const jobs = await store.transaction(async (tx) => tx.db.selectFrom('jobs').select(['key', 'state']).where('queue', '=', 'notification').execute())
  t.same(jobs.map((j) => j.key), [answer.notificationId], 'its queued work is there too')
  t.ok(['ready', 'active', 'done'].includes(jobs[0]?.state ?? ''), `in a state the next process picks up or has finished (${jobs[0]?.state ?? 'none'})`)
})

t.test('a second process on a data directory in use is refused in one line naming DTR_DATA_DIR and the owner', async (t) => {
  const dataDir = freshDataDir(t)
  const first = await startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN })
  const pid = first.child.pid as number
  await t.rejects(startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN }),
    new RegExp(`dt-remediator: DTR_DATA_DIR \\S+ is in use by another dt-remediator \\(host ${hostname()}, pid ${pid}, started \\S+\\); an embedded store serves one process at a time \\(set DTR_DATABASE_URL to run several replicas\\)\\n$`))
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0)
})

t.test('an owner in its own PID namespace keeps a second process out, and its lock dies with it', { skip: canUnsharePid() ? false : 'unshare --pid --fork does not work here (needs CAP_SYS_ADMIN or user namespaces)' }, async (t) => {
  const dataDir = freshDataDir(t)
  // As in a container: the owner is pid 1 of its namespace, a number that means another process
  // (or none) outside it.
  const owner = await startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN }, { wrap: ['unshare', '--pid', '--fork', '--kill-child'] })
  await t.rejects(startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN }),
    /dt-remediator: DTR_DATA_DIR \S+ is in use by another dt-remediator \(host \S+, pid 1, started \S+\);/)
  owner.child.kill('SIGKILL')
  await owner.exited
  const next = await startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN })
  t.ok(next.url, 'the next process starts once the owner is gone')
  next.child.kill('SIGTERM')
  t.equal(await next.exited, 0)
})

t.test('a data directory that cannot be written stops start-up with one line naming DTR_DATA_DIR', async (t) => {
  const parent = freshDataDir(t)
  writeFileSync(join(parent, 'file'), '')
  await t.rejects(startServer(t, { DTR_DATA_DIR: join(parent, 'file', 'data'), DTR_WEBHOOK_TOKENS: TOKEN }),
    /dt-remediator: DTR_DATA_DIR \S+ is not a writable directory \(ENOTDIR\); the embedded store needs one\n$/)
})

t.test('an invalid variable stops start-up with one line naming it', async (t) => {
  await t.rejects(startServer(t, { DTR_PORT: 'eighty' }), /dt-remediator: DTR_PORT: must be a port number \(got "eighty"\)\n$/)
})

t.test('without DTR_WEBHOOK_TOKENS a token is generated once, printed once, and works', async (t) => {
  const dataDir = freshDataDir(t)
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

// Its own deadline: the test ends on events (answers, the exit), never on how fast they come.
t.test('SIGTERM during a burst: every request the server accepted is answered and stored, then exit 0', { timeout: 60_000 }, async (t) => {
  const dataDir = freshDataDir(t)
  // At debug level the server logs each request as it arrives, which tells what it accepted.
  const server = await startServer(t, { DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN, DTR_LOG_LEVEL: 'debug' })
  let exited = false
  const exitCode = server.exited.then((code) => { exited = true; return code })
  const pool = new Pool(server.url, { connections: 8 })
  t.teardown(() => pool.destroy())

  type Result = { id: string, status?: number, body?: { status?: string, notificationId?: string }, error?: string }
  const results: Result[] = []
  const afterExit: Result[] = []
  let sent = 0
  let answered = 0
  const send = async (): Promise<Result> => {
    // The server logs our id as its request id, so its log tells which requests it accepted.
    const id = `burst-${sent++}`
    try {
      const res = await pool.request({ path: '/webhooks/problem', method: 'POST', headers: { ...headers, 'x-request-id': id }, body: notification(100 + sent) })
      const body = await res.body.json() as Result['body']
      // SIGTERM once 20 are answered, while 8 more are in flight.
      if (++answered === 20) server.child.kill('SIGTERM')
      return { id, status: res.statusCode, body }
    } catch (err) {
      // A connection the server closed (keep-alive race, or the listener gone): Dynatrace sees
      // a failed delivery and resends.
      return { id, error: (err as { code?: string }).code ?? String(err) }
    }
  }
  // Eight senders keep sending until the server is gone; each stops at its first request after that.
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (;;) {
      const done = exited
      const result = await send()
      results.push(result)
      if (done) {
        afterExit.push(result)
        return
      }
    }
  }))
  t.equal(await exitCode, 0, 'exits 0')

  const acceptedByServer = new Set(server.logs.filter((l) => l.msg === 'incoming request').map((l) => l.reqId as string))
  const answeredIds = new Set(results.filter((r) => r.status !== undefined).map((r) => r.id))
  t.same([...acceptedByServer].filter((id) => !answeredIds.has(id)), [], `all ${acceptedByServer.size} requests the server accepted got an HTTP answer`)
  t.same(afterExit.map((r) => r.error !== undefined), Array(8).fill(true), 'requests sent after the exit are refused at the connection')
  const statuses = new Set(results.filter((r) => r.status !== undefined).map((r) => r.status))
  t.ok([...statuses].every((s) => s === 202 || s === 503), `answers are 202 or 503 (${[...statuses].join(', ')})`)

  const accepted = results.filter((r) => r.status === 202).map((r) => r.body?.notificationId as string)
  t.ok(accepted.length >= 20, `${accepted.length} accepted`)
  const store = await reopen(t, dataDir)
  t.equal(await store.notifications.count(), accepted.length, 'every notification answered 202 is stored, and nothing else')
  for (const id of accepted) {
    if ((await store.notifications.get(id)) === undefined) t.fail(`notification ${id} answered 202 is missing`)
  }
})
