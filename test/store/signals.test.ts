/**
 * Wake-ups between replicas (issue 11: "LISTEN/NOTIFY on PostgreSQL so another replica wakes
 * too"): a send on one engine reaches the listeners of every other engine on the same schema,
 * never the sender's own, never another schema's; a dropped listening connection comes back and
 * wakes once for what it may have missed; stopping (or closing the engine) ends it.
 */
import t from 'tap'
import pg from 'pg'
import { systemClock } from '../../src/clock.js'
import type { Engine } from '../../src/store/engine/dialect.js'
import { readWakePayload, stillWaiting, wakeSenderField } from '../../src/store/engine/postgres.js'
import { createStore } from '../../src/store/index.js'
import { postgresEngine, skipWithoutPostgres, sqliteEngine, testDatabaseUrl } from '../helpers/store.js'

/** Counts wake-ups (and the queue each named), and resolves `next()` on the following one. */
function counter () {
  let count = 0
  const queues: Array<string | undefined> = []
  let waiting: Array<() => void> = []
  return {
    onWake: (queue?: string) => { count++; queues.push(queue); const w = waiting; waiting = []; for (const f of w) f() },
    get count () { return count },
    queues,
    next: async () => new Promise<void>((resolve) => { waiting.push(resolve) }),
  }
}

const options = { clock: systemClock, retryMs: 10 }

/** Sends from `from` until `wakes` has heard one: LISTEN is live once listen() resolved, but a NOTIFY is asynchronous. */
async function heard (from: Engine, ...wakes: Array<ReturnType<typeof counter>>): Promise<void> {
  const next = Promise.all(wakes.map(async (w) => w.next()))
  from.signals?.send()
  await next
}

t.test('a wake-up names its queue in a payload the version before still reads as another replica\'s', async (t) => {
  const payload = `shop ${wakeSenderField('0b6f-sender', 'notification')}`
  t.same(readWakePayload(payload, 'shop'), { sender: '0b6f-sender', queue: 'notification' })
  t.same(readWakePayload('shop 0b6f-sender', 'shop'), { sender: '0b6f-sender', queue: undefined }, 'the version before names none: everything')
  t.equal(readWakePayload(payload, 'other'), undefined, 'another schema\'s')
  t.equal(readWakePayload('shop', 'shop'), undefined, 'no sender field')
  t.same(readWakePayload('my shop 0b6f-sender:run', 'my shop'), { sender: '0b6f-sender', queue: 'run' }, 'the schema is all before the last space')
  // The version before: `payload.slice(0, lastIndexOf(' ')) === schema && payload.slice(lastIndexOf(' ') + 1) !== ownId`.
  const space = payload.lastIndexOf(' ')
  t.ok(payload.slice(0, space) === 'shop' && payload.slice(space + 1) !== 'its-own-id', 'the version before wakes for it (everything)')
  t.equal(stillWaiting(undefined, 'notification'), 'notification', 'one send waiting: its queue')
  t.equal(stillWaiting('notification', 'notification'), 'notification', 'the same queue again: still that one')
  t.equal(stillWaiting('notification', 'run'), null, 'two queues waiting: everything')
  t.equal(stillWaiting('notification', undefined), null, 'one for everything: everything')
  t.equal(stillWaiting(undefined, undefined), null)
  t.equal(stillWaiting(null, 'run'), null, 'everything stays everything')
})

t.test('the embedded store has nobody to wake: its signals do nothing', async (t) => {
  const store = await createStore(await sqliteEngine.open(t))
  t.teardown(() => store.close())
  const wakes = counter()
  const stop = await store.signals.listen(wakes.onWake, options)
  store.signals.send()
  await stop()
  t.equal(wakes.count, 0)
})

t.test('PostgreSQL LISTEN/NOTIFY', { skip: skipWithoutPostgres }, async (t) => {
  t.test('a send reaches the other engines on the schema, not the sender, not another schema', async (t) => {
    const location = await postgresEngine.location(t)
    const [a, b, c] = await Promise.all([postgresEngine.open(t, location), postgresEngine.open(t, location), postgresEngine.open(t, location)])
    const elsewhere = await postgresEngine.location(t)
    const [other, otherSibling] = await Promise.all([postgresEngine.open(t, elsewhere), postgresEngine.open(t, elsewhere)])
    const [wa, wb, wc, wo] = [counter(), counter(), counter(), counter()]
    const stops = await Promise.all([
      a.signals!.listen(wa.onWake, options),
      b.signals!.listen(wb.onWake, options),
      c.signals!.listen(wc.onWake, options),
      other.signals!.listen(wo.onWake, options),
    ])
    await heard(a, wb, wc)
    // A send from another schema, heard by its own schema's sibling only: it is the last thing
    // each listener could receive, so once it arrived nothing of the first send is still on its way.
    await heard(otherSibling, wo)
    await heard(b, wa, wc)
    t.equal(wa.count, 1, 'the sender never wakes itself (only the later send from b reached it)')
    t.equal(wb.count, 1)
    t.equal(wc.count, 2, 'c heard a and b')
    t.equal(wo.count, 1, 'another schema (another deployment) heard only its own')
    await Promise.all(stops.map(async (stop) => stop()))
  })

  t.test('a send names its queue to the other replicas; one without a queue, or a raw payload of the version before, names none', async (t) => {
    const location = await postgresEngine.location(t)
    const [a, b] = await Promise.all([postgresEngine.open(t, location), postgresEngine.open(t, location)])
    const wb = counter()
    const stop = await b.signals!.listen(wb.onWake, options)
    let next = wb.next()
    a.signals!.send('notification')
    await next
    next = wb.next()
    a.signals!.send()
    await next
    // As a replica of the version before sends it: the schema and a sender id, nothing else.
    next = wb.next()
    const raw = new pg.Client({ connectionString: location.databaseUrl as string })
    await raw.connect()
    t.teardown(async () => raw.end())
    await raw.query("SELECT pg_notify('dtr_wake', current_schema() || ' ' || 'a-replica-of-the-version-before')")
    await next
    t.same(wb.queues, ['notification', undefined, undefined])
    await stop()
  })

  t.test('a burst of sends coalesces: at most one NOTIFY in flight and one behind it', async (t) => {
    const location = await postgresEngine.location(t)
    const [a, b] = await Promise.all([postgresEngine.open(t, location), postgresEngine.open(t, location)])
    const wb = counter()
    const stop = await b.signals!.listen(wb.onWake, options)
    for (let i = 0; i < 1000; i++) a.signals!.send()
    await heard(a, wb) // queued behind the burst's, so it arrives after them
    t.ok(wb.count >= 1 && wb.count <= 3, `1000 sends, ${wb.count} wake-ups`)
    await stop()
  })

  t.test('the listening connection killed: reported, back after retryMs, one wake-up for what it missed', async (t) => {
    const location = await postgresEngine.location(t)
    const [a, b] = await Promise.all([postgresEngine.open(t, location), postgresEngine.open(t, location)])
    const wb = counter()
    const errors: string[] = []
    let reconnected = 0
    const stop = await b.signals!.listen(wb.onWake, { ...options, onError: (err) => errors.push(err.message), onReconnect: () => reconnected++ })
    const admin = new pg.Client({ connectionString: testDatabaseUrl })
    await admin.connect()
    t.teardown(() => admin.end())
    const back = wb.next()
    // Only this test's listener: its connections carry the schema's name (test/helpers/store.ts).
    const app = new URL(location.databaseUrl as string).searchParams.get('application_name')
    const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query = \'LISTEN dtr_wake\'', [app])
    t.equal(killed.rowCount, 1, 'the listening backend was terminated')
    await back
    t.equal(errors.length, 1, `the drop was reported once: ${errors.join('; ')}`)
    t.equal(reconnected, 1)
    t.equal(wb.count, 1, 'woken once on reconnect, in case a signal was lost meanwhile')
    await heard(a, wb)
    t.equal(wb.count, 2, 'and it hears sends again')
    await stop()
  })

  t.test('a first listening connection that fails does not fail listen(): reported, retried, then heard', async (t) => {
    const location = await postgresEngine.location(t)
    const admin = new pg.Client({ connectionString: testDatabaseUrl })
    await admin.connect()
    t.teardown(() => admin.end())
    // A role allowed one connection: the engine's pool takes it, so the listener's is refused.
    const role = `dtr_sig_${Math.random().toString(36).slice(2, 10)}`
    const schema = /search_path=(\S+)/.exec(new URL(location.databaseUrl as string).searchParams.get('options') ?? '')?.[1] as string
    await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`)
    await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
    t.teardown(async () => { await admin.query(`DROP OWNED BY ${role}`); await admin.query(`DROP ROLE ${role}`) })
    const url = new URL(location.databaseUrl as string)
    url.username = role
    const a = await postgresEngine.open(t, location)
    const b = await postgresEngine.open(t, { dataDir: '', databaseUrl: url.toString() })
    const wb = counter()
    const errors: string[] = []
    const back = wb.next()
    const stop = await b.signals!.listen(wb.onWake, { ...options, onError: (err) => errors.push(err.message) })
    t.match(errors, [/too many connections/], 'the refused connection was reported, and listen() resolved')
    await admin.query(`ALTER ROLE ${role} CONNECTION LIMIT 5`)
    await back
    t.equal(wb.count, 1, 'once listening, it wakes once for what it may have missed')
    await heard(a, wb)
    t.equal(wb.count, 2, 'and hears sends')
    await stop()
  })

  t.test('stopped listeners hear nothing; closing the engine stops its listeners', async (t) => {
    const location = await postgresEngine.location(t)
    const [a, b, c] = await Promise.all([postgresEngine.open(t, location), postgresEngine.open(t, location), postgresEngine.open(t, location)])
    const [wb, wc] = [counter(), counter()]
    const stopB = await b.signals!.listen(wb.onWake, options)
    await c.signals!.listen(wc.onWake, options)
    await stopB()
    await c.close() // would hang the test process if its listening connection stayed open
    const d = await postgresEngine.open(t, location)
    const wd = counter()
    await d.signals!.listen(wd.onWake, options)
    await heard(a, wd)
    t.equal(wb.count, 0)
    t.equal(wc.count, 0)
  })
})
