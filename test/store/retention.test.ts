import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { NewNotification } from '../../src/store/notifications.js'
import { manualClock } from '../helpers/clock.js'
import { eachEngine, openTestStore } from '../helpers/store.js'

const DAY = 86_400_000

const notification = (problemId: string, state: string | undefined, extra: Partial<NewNotification> = {}): NewNotification => ({
  id: randomUUID(), kind: 'problem', problemId, displayId: undefined, state, dedupeKey: randomUUID(), body: { PID: problemId, State: state }, ...extra,
})

t.test('retention', async (t) => {
  eachEngine(t, async (t, engine) => {
    t.test('prunes what is old and nothing newer, nor anything of a problem still open', async (t) => {
      const clock = manualClock()
      const store = await openTestStore(t, engine, { clock })
      const record = async (n: NewNotification): Promise<string> => (await store.notifications.record(n)).notificationId
      // The runner finishes every job but those of `keep`, which it holds on to.
      const finish = async (...keep: string[]): Promise<void> => {
        for (const job of await store.jobs.claim('notification', 'runner', { leaseMs: 60_000, limit: 100 })) {
          if (!keep.includes(job.key)) await store.jobs.complete(job.id, 'runner')
        }
      }
      const tick = (): void => clock.advance(1000)

      // 40 days ago: a problem that opened and resolved, one that opened and is still open, a security notification.
      const closedOpen = await record(notification('closed', 'OPEN'))
      tick()
      const closedResolved = await record(notification('closed', 'RESOLVED'))
      const stillOpen = await record(notification('open', 'OPEN'))
      const security = await record(notification('S-1', undefined, { kind: 'security' }))
      const reopened = await record(notification('reopened', 'RESOLVED'))
      // Its job never finishes: the runner still needs it.
      const unfinished = await record(notification('unfinished', 'RESOLVED'))
      await finish(unfinished)
      clock.advance(10 * DAY)
      const reopenedAgain = await record(notification('reopened', 'OPEN'))
      // 10 days ago, and finished: young enough to keep.
      clock.advance(20 * DAY)
      const recent = await record(notification('recent', 'RESOLVED'))
      await finish(unfinished)
      clock.advance(10 * DAY)

      const cutoff = clock.now() - 30 * DAY
      const result = await store.retention.pruneBatch(cutoff, 100)
      t.same(result, { notifications: 3, jobs: 5, runs: 0 }, 'three old notifications of closed problems; the five jobs finished 40 days ago')
      const left = new Set<string>()
      for (const id of [closedOpen, closedResolved, stillOpen, security, reopened, unfinished, reopenedAgain, recent]) {
        if (await store.notifications.get(id) !== undefined) left.add(id)
      }
      t.notOk(left.has(closedOpen), 'a resolved problem\'s old OPEN goes')
      t.notOk(left.has(closedResolved), 'and its old RESOLVED')
      t.notOk(left.has(security), 'an old security notification goes (it carries no state)')
      t.ok(left.has(stillOpen), 'a problem still open keeps its notifications')
      t.ok(left.has(reopened) && left.has(reopenedAgain), 'a re-opened problem keeps all of its notifications')
      t.ok(left.has(unfinished), 'a notification whose job is unfinished stays')
      t.ok(left.has(recent), 'a notification younger than the retention stays')
      t.equal(await store.jobs.pending('notification'), 1, 'an unfinished job is never pruned')
      t.same(await store.retention.pruneBatch(cutoff, 100), { notifications: 0, jobs: 0, runs: 0 }, 'a second pass finds nothing')
      await store.retention.afterPrune()
    })

    t.test('prunes in batches of the given size', async (t) => {
      const clock = manualClock()
      const store = await openTestStore(t, engine, { clock })
      await Promise.all(Array.from({ length: 25 }, async (_, i) => store.notifications.record(notification(`p${i}`, 'RESOLVED'))))
      for (const job of await store.jobs.claim('notification', 'r', { leaseMs: 1000, limit: 100 })) await store.jobs.complete(job.id, 'r')
      clock.advance(31 * DAY)
      const cutoff = clock.now() - 30 * DAY
      t.same(await store.retention.pruneBatch(cutoff, 10), { notifications: 10, jobs: 10, runs: 0 })
      t.same(await store.retention.pruneBatch(cutoff, 10), { notifications: 10, jobs: 10, runs: 0 })
      t.same(await store.retention.pruneBatch(cutoff, 10), { notifications: 5, jobs: 5, runs: 0 })
      t.equal(await store.notifications.count(), 0)
    })
  })
})
