import t from 'tap'
import { randomUUID } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import { pluginCount, type NewNotification } from '../../src/store/notifications.js'
import { manualClock } from '../helpers/clock.js'
import { createStore } from '../../src/store/index.js'
import { eachEngine, openTestStore, storeWithFailingWrites } from '../helpers/store.js'

const notification = (dedupeKey: string, extra: Partial<NewNotification> = {}): NewNotification => ({
  id: randomUUID(), kind: 'problem', problemId: 'P1', displayId: 'P-1', state: 'OPEN', dedupeKey, body: { PID: 'P1', n: dedupeKey }, ...extra,
})

t.test('recording notifications', async (t) => {
  eachEngine(t, async (t, engine) => {
    t.test('stores a new notification with one queued job', async (t) => {
      const clock = manualClock()
      const store = await openTestStore(t, engine, { clock })
      const n = notification('a')
      t.same(await store.notifications.record(n), { status: 'accepted', notificationId: n.id })
      const stored = await store.notifications.get(n.id)
      t.same(stored, { id: n.id, source: 'webhook', kind: 'problem', problemId: 'P1', displayId: 'P-1', state: 'OPEN', body: { PID: 'P1', n: 'a' }, receivedAt: clock.now() })
      const jobs = await store.jobs.claim('notification', 'w', { leaseMs: 1000, limit: 10 })
      t.same(jobs.map((j) => [j.queue, j.key, j.payload]), [['notification', n.id, null]], 'a job keyed by the notification id, without payload')
      t.equal(await store.notifications.get(randomUUID()), undefined)
    })

    t.test('keeps how a notification reached us: a webhook by default, or reconciliation', async (t) => {
      const store = await openTestStore(t, engine)
      const reconciled = notification('from-api', { source: 'reconcile' })
      await store.notifications.record(reconciled)
      t.equal((await store.notifications.get(reconciled.id))?.source, 'reconcile')
      t.same((await store.notifications.listByProblem('problem', 'P1')).map((n) => n.source), ['reconcile'])
    })

    t.test('the store knows when it was first created, across restarts', async (t) => {
      const clock = manualClock(10_000)
      const location = await engine.location(t)
      const first = await createStore(await engine.open(t, location), { clock })
      t.equal(first.createdAt, 10_000)
      await first.close()
      clock.advance(86_400_000)
      const again = await createStore(await engine.open(t, location), { clock })
      t.teardown(() => again.close())
      t.equal(again.createdAt, 10_000, 'the first migration\'s time, not this start\'s')
    })

    t.test('answers a duplicate with the first notification id and queues nothing more', async (t) => {
      const store = await openTestStore(t, engine, { notifications: { duplicateCacheSize: 0 } })
      const first = notification('b')
      await store.notifications.record(first)
      t.same(await store.notifications.record(notification('b')), { status: 'duplicate', notificationId: first.id })
      t.equal((await store.notifications.listByProblem('problem', 'P1')).length, 1)
      t.equal(await store.jobs.pending('notification'), 1)
    })

    t.test('batches of every size from 1 to 40 store each row with its own values, and each job', async (t) => {
      // The batch statements are compiled once per row count (for at most 2,000 rows in all, the
      // oldest compiled out first) and filled in: a value put in another row's or column's place
      // would show here. The large batches at the end push the first sizes out, and the sizes
      // after them are compiled again.
      const clock = manualClock(5_000)
      const store = await openTestStore(t, engine, { clock })
      const all: NewNotification[] = []
      const sizes = [...Array.from({ length: 40 }, (_, i) => i + 1), 500, 499, 498, 497, 496, 3, 40, 500]
      for (const [round, size] of sizes.entries()) {
        const batch = Array.from({ length: size }, (_, i) => notification(`round${round}-${i}`, {
          kind: i % 3 === 0 ? 'security' : 'problem',
          problemId: `P-${round}-${i}`,
          displayId: i % 2 === 0 ? undefined : `D-${round}-${i}`,
          state: i % 4 === 1 ? undefined : `S${i}`,
          source: i % 5 === 0 ? 'reconcile' : undefined,
          body: { round, i, text: `"quoted" ${i}` },
        }))
        clock.advance(1)
        const results = await Promise.all(batch.map(async (n) => store.notifications.record(n)))
        t.same(results.map((r) => r.status), Array(size).fill('accepted'), `a batch of ${size}: every one accepted`)
        all.push(...batch)
      }
      let wrong = 0
      for (const n of all) {
        const round = (n.body as { round: number }).round
        const stored = await store.notifications.get(n.id)
        const expected = { id: n.id, source: n.source ?? 'webhook', kind: n.kind, problemId: n.problemId, displayId: n.displayId ?? null, state: n.state ?? null, body: n.body, receivedAt: 5_001 + round }
        // (Key order aside: PostgreSQL's jsonb keeps a body's keys in an order of its own.)
        if (!isDeepStrictEqual(stored, expected)) {
          wrong++
          t.same(stored, expected, `${n.problemId} stored with its own values and its batch's time`)
        }
      }
      t.equal(wrong, 0, `all ${all.length} stored with their own values and their batch's time`)
      // Claimed only when due: a job's time is its batch's.
      const jobs = await store.jobs.claim('notification', 'w', { leaseMs: 1000, limit: 5000 })
      t.same(new Set(jobs.map((j) => j.key)), new Set(all.map((n) => n.id)), 'one job per notification, each due')
      t.ok(jobs.every((j) => j.payload === null), 'without payload')
    })

    t.test('the compiled batch statements are reused only where Kysely runs no plugin', async (t) => {
      // They skip plugins' transformQuery, so a database with a plugin builds every batch; and
      // this Kysely must still say how many it runs, or the reuse would silently stop.
      const opened = await engine.open(t)
      t.equal(pluginCount(opened.db), 0, 'the store\'s own database: none, so the statements are reused')
      const noop = { transformQuery: (args: { node: unknown }) => args.node, transformResult: async (args: { result: unknown }) => args.result }
      t.equal(pluginCount(opened.db.withPlugin(noop as never)), 1, 'with a plugin: one, so every batch is built')
      t.equal(pluginCount({} as never), -1, 'where it cannot be told: unknown, so every batch is built')
    })

    t.test('a batch is one script where the engine runs them (the SQLite writer thread), else a transaction', async (t) => {
      const opened = await engine.open(t)
      const real = opened.dialect.runScript
      t.equal(real !== undefined, engine.name === 'sqlite', 'the embedded store\'s writer thread runs scripts; PostgreSQL does not')
      if (real === undefined) return
      const scripts: string[][] = []
      const runScript: typeof real = async (db, statements) => {
        scripts.push(statements.map((s) => s.sql.split(' ').slice(0, 3).join(' ')))
        return real(db, statements)
      }
      const store = await createStore({ ...opened, dialect: { ...opened.dialect, runScript } })
      t.teardown(() => store.close())
      const batch = Array.from({ length: 20 }, (_, i) => notification(`s${i % 10}`))
      const results = await Promise.all(batch.map(async (n) => store.notifications.record(n)))
      t.same(results.map((r) => r.status), [...Array(10).fill('accepted'), ...Array(10).fill('duplicate')])
      t.same(scripts, [['insert into "notifications"', 'insert into "jobs"', 'select "id", "dedupe_key",']], 'one script: the insert, the enqueue and the winners')
      t.equal(store.notifications.commits(), 1)
      t.equal(await store.jobs.pending('notification'), 10, 'each stored notification with its job')
      // A database with a plugin builds its statements in a Kysely transaction instead: the
      // plugin sees every one of them.
      const seen: string[] = []
      const watcher = { transformQuery: (args: { node: { kind: string } }) => { seen.push(args.node.kind); return args.node }, transformResult: async (args: { result: unknown }) => args.result }
      const watched = await createStore({ ...opened, db: opened.db.withPlugin(watcher as never), dialect: { ...opened.dialect, runScript } })
      seen.length = 0
      t.match(await watched.notifications.record(notification('with-plugin')), { status: 'accepted', notificationId: String })
      t.equal(scripts.length, 1, 'no script')
      t.same(seen, ['InsertQueryNode', 'InsertQueryNode', 'SelectQueryNode'], 'the plugin saw the three statements')
    })

    t.test('dedupes concurrent identical notifications written in one batch, in one commit', async (t) => {
      const store = await openTestStore(t, engine)
      const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => store.notifications.record(notification(`c${i % 5}`))))
      t.equal(results.filter((r) => r.status === 'accepted').length, 5)
      t.equal(results.filter((r) => r.status === 'duplicate').length, 45)
      t.equal(new Set(results.map((r) => r.notificationId)).size, 5, 'every caller learns the id of the stored copy')
      t.equal(await store.jobs.pending('notification'), 5, 'one job per stored notification')
      t.equal(store.notifications.commits(), 1, 'one transaction for the batch')
    })

    t.test('lists a problem\'s notifications in the order received', async (t) => {
      const clock = manualClock()
      const store = await openTestStore(t, engine, { clock })
      const open = notification('o', { problemId: 'P9' })
      const resolved = notification('r', { problemId: 'P9', state: 'RESOLVED' })
      await store.notifications.record(open)
      clock.advance(1000)
      await store.notifications.record(resolved)
      await store.notifications.record(notification('other', { problemId: 'P10' }))
      t.same((await store.notifications.listByProblem('problem', 'P9')).map((n) => n.id), [open.id, resolved.id])
      t.equal(await store.notifications.count(), 3)
    })

    t.test('finds a problem\'s newest notification stored after another, in stored order, and whether its job waits', async (t) => {
      const store = await openTestStore(t, engine, { clock: manualClock() })
      // Stored in this order, in the same millisecond, with ids that sort the other way.
      const open = notification('o', { problemId: 'P7', id: '00000000-0000-7000-8000-00000000000f' })
      const resolved = notification('r', { problemId: 'P7', state: 'RESOLVED', id: '00000000-0000-7000-8000-00000000000e' })
      const reopen = notification('o2', { problemId: 'P7', id: '00000000-0000-7000-8000-00000000000d' })
      for (const n of [open, resolved, reopen, notification('x', { problemId: 'P8' })]) await store.notifications.record(n)
      const jobs = await store.jobs.claim('notification', 'w', { leaseMs: 60_000, limit: 10 })
      const jobOf = (id: string): string => jobs.find((j) => j.key === id)?.id ?? 'none'
      t.match(await store.notifications.newestAfter('problem', 'P7', jobOf(open.id)), { notification: { id: reopen.id }, waiting: true }, 'the newest, not the next; its job is claimed')
      t.match(await store.notifications.newestAfter('problem', 'P7', jobOf(resolved.id)), { notification: { id: reopen.id } }, 'stored order, not the ids\' order')
      t.ok(await store.jobs.complete(jobOf(reopen.id), 'w'))
      t.match(await store.notifications.newestAfter('problem', 'P7', jobOf(resolved.id)), { waiting: false }, 'its job ended')
      t.equal(await store.notifications.newestAfter('problem', 'P7', jobOf(reopen.id)), undefined, 'none after the newest')
      t.equal(await store.notifications.newestAfter('security', 'P7', jobOf(open.id)), undefined, 'another kind is another problem')
    })

    t.test('keeps bodies the way they were sent, unicode and all', async (t) => {
      const store = await openTestStore(t, engine)
      const body = { PID: 'u', title: 'Ünïcødé ✓ 𝄞 "quoted" \\ back', nested: { a: [1, 2.5, null, true] } }
      const n = notification('unicode', { body })
      await store.notifications.record(n)
      t.same((await store.notifications.get(n.id))?.body, body)
    })

    t.test('one failing notification in a batch fails alone; the others are stored', async (t) => {
      const store = await openTestStore(t, engine)
      // A kind the table's CHECK refuses: the batch's transaction fails, then each is retried.
      const culprit = notification('bad', { kind: 'bogus' as 'problem' })
      const good = Array.from({ length: 100 }, (_, i) => notification(`good-${i}`))
      const results = await Promise.allSettled([...good.slice(0, 50), culprit, ...good.slice(50)].map(async (n) => store.notifications.record(n)))
      const failed = results.filter((r) => r.status === 'rejected')
      t.equal(failed.length, 1, 'only the culprit fails')
      t.match(failed[0]?.status === 'rejected' ? failed[0].reason : undefined, { code: 'DTR_ERR_STORE', statusCode: 503 })
      t.equal(results.filter((r) => r.status === 'fulfilled' && r.value.status === 'accepted').length, 100)
      t.equal(await store.notifications.count(), 100)
      t.equal(await store.jobs.pending('notification'), 100)
      t.equal(store.notifications.health().failing, false, 'a culprit among good notifications is not a failing store')
    })

    t.test('when every commit fails, each caller gets 503 and the store reports failing until a write succeeds', async (t) => {
      const { store, failures } = await storeWithFailingWrites(t, engine)
      failures.failing = true
      const results = await Promise.allSettled([store.notifications.record(notification('d1')), store.notifications.record(notification('d2'))])
      t.same(results.map((r) => r.status), ['rejected', 'rejected'])
      for (const r of results) {
        t.match(r.status === 'rejected' ? r.reason : undefined, { code: 'DTR_ERR_STORE', statusCode: 503, message: 'The notification could not be stored; retry later' })
      }
      t.match(store.notifications.health(), { failing: true, lastError: 'database or disk is full', failedBytes: Number })
      t.same(await store.health(), { ready: false, store: 'failing', lastError: 'database or disk is full' }, 'the readiness probe\'s write fails too')
      failures.failing = false
      t.same(await store.health(), { ready: true, store: 'ok' }, 'the probe\'s write succeeds: ready again')
      t.same(await store.notifications.record(notification('d1')), { status: 'accepted', notificationId: (await store.notifications.listByProblem('problem', 'P1'))[0]?.id ?? 'stored' })
    })

    t.test('refuses work beyond maxPending and maxPendingBytes instead of growing without bound', async (t) => {
      const small = await openTestStore(t, engine, { notifications: { maxPending: 2, maxPendingBytes: 10_000 } })
      // Two wait for the commit the next turn brings; a third is refused at once rather than queued.
      const waiting = [small.notifications.record(notification('x1')), small.notifications.record(notification('x2'))]
      t.equal(small.notifications.pending(), 2)
      await t.rejects(small.notifications.record(notification('x3')), { code: 'DTR_ERR_UNAVAILABLE', message: /Too many notifications waiting to be stored \(2\)/ })
      await Promise.all(waiting)
      const big = { PID: 'P1', text: 'x'.repeat(6000) }
      const first = small.notifications.record(notification('y1', { body: big }))
      t.ok(small.notifications.pendingBytes() > 6000, 'counts the bytes held')
      await t.rejects(small.notifications.record(notification('y2', { body: big })), { code: 'DTR_ERR_UNAVAILABLE', message: /Too many bytes waiting to be stored/ })
      await first
      t.equal(small.notifications.pendingBytes(), 0, 'released once committed')
    })

    t.test('answers exact resends from memory after their commit, until they could have been pruned', async (t) => {
      const clock = manualClock()
      const cached = await openTestStore(t, engine, { clock, notifications: { duplicateTtlMs: 60_000, retentionMs: 3_600_000 } })
      const first = notification('resend')
      await cached.notifications.record(first)
      const commits = cached.notifications.commits()
      t.same(await cached.notifications.record(notification('resend')), { status: 'duplicate', notificationId: first.id })
      t.equal(cached.notifications.commits(), commits, 'the resend did not reach the database')
      clock.advance(60_001)
      t.same(await cached.notifications.record(notification('resend')), { status: 'duplicate', notificationId: first.id })
      t.equal(cached.notifications.commits(), commits + 1, 'after the TTL the database is asked again')
    })

    t.test('settled(): at once when nothing waits for a commit, else when the commit is done or maxWaitMs has passed', async (t) => {
      const clock = manualClock()
      const store = await openTestStore(t, engine, { clock })
      let settled = false
      t.equal(await store.notifications.settled(1000), false, 'nothing waited for: false, at once')
      // A transaction that holds the store until the test lets it go keeps the next commit waiting.
      let release = (): void => {}
      const held = new Promise<void>((resolve) => { release = resolve })
      let holding = (): void => {}
      const started = new Promise<void>((resolve) => { holding = resolve })
      const blocker = store.transaction(async (tx) => {
        await tx.settings.put('holder', 'test')
        holding()
        await held
      })
      await started
      let answered = false
      const recorded = store.notifications.record(notification('held-1')).finally(() => { answered = true })
      const waiting = store.notifications.settled(1000).then((waited) => { settled = true; return waited })
      await new Promise((resolve) => setImmediate(resolve))
      t.equal(settled, false, 'a notification waits for its commit: settled() waits too')
      clock.advance(999)
      await new Promise((resolve) => setImmediate(resolve))
      t.equal(settled, false)
      clock.advance(1)
      t.equal(await waiting, true, 'after maxWaitMs it resolves (true: intake was busy) even though the commit is still waiting')
      t.equal(answered, false, 'the notification is still waiting for its commit')

      settled = false
      const second = store.notifications.settled(60_000).then(() => { settled = true })
      release()
      await blocker
      t.equal((await recorded).status, 'accepted')
      await second
      t.equal(settled, true, 'resolves when the commit is done, without waiting out maxWaitMs')
    })
  })
})
