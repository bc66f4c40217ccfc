import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { NewNotification } from '../../src/store/notifications.js'
import { openTestStore } from '../helpers/store.js'

const notification = (dedupeKey: string, extra: Partial<NewNotification> = {}): NewNotification => ({
  id: randomUUID(), kind: 'problem', problemId: 'P1', displayId: 'P-1', state: 'OPEN', dedupeKey, body: { PID: 'P1', n: dedupeKey }, ...extra,
})

t.test('recording notifications', async (t) => {
  const store = await openTestStore(t)

  t.test('stores a new notification with one queued job', async (t) => {
    const n = notification('a')
    t.same(await store.notifications.record(n), { status: 'accepted', notificationId: n.id })
    const stored = await store.notifications.get(n.id)
    t.match(stored, { id: n.id, kind: 'problem', problemId: 'P1', displayId: 'P-1', state: 'OPEN', body: { PID: 'P1', n: 'a' } })
    t.ok(stored?.receivedAt instanceof Date)
    const jobs = await store.jobs.claim('notification', 'w', { leaseMs: 1000, limit: 10 })
    t.same(jobs.map((j) => j.payload), [{ notificationId: n.id }])
  })

  t.test('answers a duplicate with the first notification id and queues nothing more', async (t) => {
    const first = notification('b')
    await store.notifications.record(first)
    t.same(await store.notifications.record(notification('b')), { status: 'duplicate', notificationId: first.id })
    t.equal((await store.notifications.listByProblem('problem', 'P1')).filter((n) => (n.body as { n: string }).n === 'b').length, 1)
  })

  t.test('dedupes concurrent identical notifications written in one batch', async (t) => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.notifications.record(notification(`c${i % 5}`))))
    t.equal(results.filter((r) => r.status === 'accepted').length, 5)
    t.equal(results.filter((r) => r.status === 'duplicate').length, 45)
    t.equal(new Set(results.map((r) => r.notificationId)).size, 5, 'every caller learns the id of the stored copy')
    t.equal(await store.jobs.pending('notification'), 1 + 1 + 5, 'one job per stored notification')
  })

  t.test('a failed commit rejects every caller of the batch with a 503 store error', async (t) => {
    const { createNotificationStore } = await import('../../src/store/notifications.js')
    const down = createNotificationStore({
      engine: 'postgres',
      query: async () => { throw new Error('connection terminated unexpectedly') },
      exec: async () => {},
      transaction: async () => { throw new Error('unused') },
      close: async () => {},
    })
    const results = await Promise.allSettled([down.record(notification('d1')), down.record(notification('d2'))])
    t.same(results.map((r) => r.status), ['rejected', 'rejected'])
    for (const r of results) {
      t.match(r.status === 'rejected' ? r.reason : undefined, { code: 'DTR_ERR_STORE', statusCode: 503, message: 'The notification could not be stored; retry later' })
    }
  })

  t.test('refuses work beyond maxPending instead of growing without bound', async (t) => {
    const { createNotificationStore } = await import('../../src/store/notifications.js')
    const slow = createNotificationStore({
      engine: 'pglite',
      query: async () => new Promise(() => {}),
      exec: async () => {},
      transaction: async () => new Promise(() => {}),
      close: async () => {},
    }, { maxPending: 2 })
    // Both wait for a commit that never comes; a third is refused at once rather than queued.
    slow.record(notification('x1')).catch(() => {})
    slow.record(notification('x2')).catch(() => {})
    t.equal(slow.pending(), 2)
    await t.rejects(slow.record(notification('x3')), { code: 'DTR_ERR_UNAVAILABLE', message: /Too many notifications waiting to be stored \(2\)/ })
  })
})
