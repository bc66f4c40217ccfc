import t from 'tap'
import { manualClock } from '../helpers/clock.js'
import { eachEngine, openTestStore, storeWithFailingWrites } from '../helpers/store.js'

t.test('job queue', async (t) => {
  eachEngine(t, async (t, engine) => {
    t.test('enqueue is idempotent per (queue, key); only the lease owner completes', async (t) => {
      const { jobs: q } = await openTestStore(t, engine)
      t.equal(await q.enqueue('q1', 'k', { a: 1 }), true)
      t.equal(await q.enqueue('q1', 'k', { a: 2 }), false)
      t.equal(await q.enqueue('q2', 'k', { a: 3 }), true, 'the same key in another queue is another job')
      const [job] = await q.claim<{ a: number }>('q1', 'w1', { leaseMs: 60_000, limit: 5 })
      t.match(job, { queue: 'q1', key: 'k', payload: { a: 1 }, attempts: 1 })
      t.same(await q.claim('q1', 'w2', { leaseMs: 60_000 }), [], 'a leased job is not claimed again')
      t.equal(await q.complete(job?.id as string, 'w2'), false, 'only the owner completes')
      t.equal(await q.complete(job?.id as string, 'w1'), true)
      t.equal(await q.complete(job?.id as string, 'w1'), false, 'once')
      t.equal(await q.pending('q1'), 0)
      t.equal(await q.pending(), 1)
      t.equal(await q.complete('not-a-job-id', 'w1'), false)
    })

    t.test('completions made together (grouped into one statement outside a transaction): each caller learns its own outcome', async (t) => {
      const store = await openTestStore(t, engine)
      const q = store.jobs
      for (let i = 0; i < 6; i++) await q.enqueue('g', `k${i}`, null)
      const mine = await q.claim('g', 'w1', { leaseMs: 60_000, limit: 4 })
      const theirs = await q.claim('g', 'w2', { leaseMs: 60_000, limit: 2 })
      const outcomes = await Promise.all([
        ...mine.map(async (j) => q.complete(j.id, 'w1')),
        q.complete(theirs[0]?.id as string, 'w1'),
        q.complete(theirs[1]?.id as string, 'w2'),
        q.complete(mine[1]?.id as string, 'w1'),
        q.complete('not-a-job-id', 'w1'),
      ])
      t.same(outcomes, [true, true, true, true, false, true, false, false], 'only the owner completes, and each job once (even when named twice in one statement)')
      t.equal(await q.pending('g'), 1, 'the job another owner holds and did not complete is still leased')
      // Inside a transaction a completion is part of it: rolled back with it.
      const [last] = await q.claim('g', 'w1', { leaseMs: 60_000 })
      t.equal(last, undefined, 'nothing left to claim')
      await t.rejects(store.transaction(async (tx) => {
        t.equal(await tx.jobs.complete(theirs[0]?.id as string, 'w2'), true)
        throw new Error('rolled back')
      }), /rolled back/)
      t.equal(await q.pending('g'), 1, 'the completion was rolled back with its transaction')
    })

    t.test('a completing statement that fails fails each of its callers; the next ones go through', async (t) => {
      const { store, failures } = await storeWithFailingWrites(t, engine)
      const q = store.jobs
      for (let i = 0; i < 3; i++) await q.enqueue('f', `k${i}`, null)
      const jobs = await q.claim('f', 'w1', { leaseMs: 60_000, limit: 3 })
      failures.failing = true
      const failed = await Promise.allSettled(jobs.slice(0, 2).map(async (j) => q.complete(j.id, 'w1')))
      t.same(failed.map((r) => r.status), ['rejected', 'rejected'])
      failures.failing = false
      t.same(await Promise.all(jobs.map(async (j) => q.complete(j.id, 'w1'))), [true, true, true], 'the failed completions can be made again')
      t.equal(await q.pending('f'), 0)
    })

    t.test('waiting(): of the keys given, those whose job is ready or leased, not done or failed', async (t) => {
      const clock = manualClock()
      const { jobs: q } = await openTestStore(t, engine, { clock })
      for (const key of ['done', 'failed', 'leased', 'ready']) {
        await q.enqueue('w', key, null)
        clock.advance(10)
      }
      await q.enqueue('other', 'elsewhere', null)
      const claimed = await q.claim('w', 'w1', { leaseMs: 60_000, limit: 3 })
      const byKey = new Map(claimed.map((j) => [j.key, j.id]))
      await q.complete(byKey.get('done') as string, 'w1')
      await q.fail(byKey.get('failed') as string, 'w1', 'no')
      t.same((await q.waiting('w', ['ready', 'leased', 'done', 'failed', 'elsewhere', 'unknown'])).sort(), ['leased', 'ready'])
      t.same(await q.waiting('w', []), [])
    })

    t.test('claims in order of run_after, up to the limit', async (t) => {
      const clock = manualClock()
      const { jobs: q } = await openTestStore(t, engine, { clock })
      for (const key of ['a', 'b', 'c']) {
        await q.enqueue('order', key, { key })
        clock.advance(10)
      }
      t.same((await q.claim('order', 'w', { leaseMs: 1000, limit: 2 })).map((j) => j.key), ['a', 'b'])
      t.same((await q.claim('order', 'w', { leaseMs: 1000, limit: 2 })).map((j) => j.key), ['c'])
    })

    t.test('an expired lease is claimed by another worker, and the old owner can no longer finish', async (t) => {
      const clock = manualClock()
      const { jobs: q } = await openTestStore(t, engine, { clock })
      await q.enqueue('q2', 'k', {})
      const [job] = await q.claim('q2', 'crashed', { leaseMs: 30_000 })
      clock.advance(29_999)
      t.same(await q.claim('q2', 'survivor', { leaseMs: 60_000 }), [], 'not while the lease runs')
      t.equal(await q.renew(job?.id as string, 'crashed', 30_000), true, 'the owner renews while alive')
      clock.advance(30_001)
      const reclaimed = await q.claim('q2', 'survivor', { leaseMs: 60_000 })
      t.equal(reclaimed[0]?.id, job?.id)
      t.equal(reclaimed[0]?.attempts, 2)
      t.equal(await q.renew(job?.id as string, 'crashed', 60_000), false)
      t.equal(await q.complete(job?.id as string, 'crashed'), false)
      t.equal(await q.renew(job?.id as string, 'survivor', 60_000), true)
      t.equal(await q.complete(job?.id as string, 'survivor'), true)
    })

    t.test('retry delays a job and counts the attempt; fail ends it', async (t) => {
      const clock = manualClock()
      const { jobs: q } = await openTestStore(t, engine, { clock })
      await q.enqueue('q3', 'k', {})
      const [job] = await q.claim('q3', 'w', { leaseMs: 60_000 })
      t.equal(await q.retry(job?.id as string, 'w', 60_000, 'boom'), true)
      t.same(await q.claim('q3', 'w', { leaseMs: 60_000 }), [], 'not before its delay')
      clock.advance(60_000)
      const [again] = await q.claim('q3', 'w', { leaseMs: 60_000 })
      t.equal(again?.attempts, 2)
      t.equal(await q.fail(again?.id as string, 'w', 'bad'), true)
      t.equal(await q.pending('q3'), 0)
      t.same(await q.claim('q3', 'w', { leaseMs: 60_000 }), [], 'a failed job is not claimed')
    })

    t.test('a delayed enqueue waits for its time', async (t) => {
      const clock = manualClock()
      const { jobs: q } = await openTestStore(t, engine, { clock })
      await q.enqueue('later', 'k', {}, { delayMs: 5000 })
      t.same(await q.claim('later', 'w', { leaseMs: 1000 }), [])
      clock.advance(5000)
      t.equal((await q.claim('later', 'w', { leaseMs: 1000 })).length, 1)
    })

    t.test('the store tells which queue got a job once the job can be claimed: after its transaction commits, never for a rollback or a duplicate', async (t) => {
      const store = await openTestStore(t, engine)
      const told: string[] = []
      const stop = store.onEnqueued((queue) => { told.push(queue) })
      await store.jobs.enqueue('alone', 'k', {})
      t.same(told, ['alone'], 'a statement of its own: told at once')
      await store.jobs.enqueue('alone', 'k', {})
      t.same(told, ['alone'], 'a duplicate (queue, key) enqueued nothing: not told')
      told.length = 0
      await store.transaction(async (tx) => {
        await tx.jobs.enqueue('run', 'r1', {})
        await tx.jobs.enqueue('run', 'r2', {})
        await tx.jobs.enqueue('plan', 'p1', {})
        t.same(told, [], 'nothing is told before the commit: a worker woken now would find nothing (PostgreSQL)')
      })
      t.same(told.sort(), ['plan', 'run'], 'told once the transaction committed, each queue once')
      told.length = 0
      await t.rejects(store.transaction(async (tx) => {
        await tx.jobs.enqueue('gone', 'g', {})
        throw new Error('rolled back')
      }))
      t.same(told, [], 'a rolled-back transaction tells nothing')
      stop()
      await store.jobs.enqueue('after', 'k', {})
      t.same(told, [], 'a listener that stopped hears nothing more')
    })

    t.test('the store tells when each job comes due: now, or later for a delayed one, each time once per transaction', async (t) => {
      const clock = manualClock()
      const store = await openTestStore(t, engine, { clock })
      const told: Array<[string, number]> = []
      t.teardown(store.onEnqueued((queue, at) => { told.push([queue, at]) }))
      const now = clock.now()
      await store.jobs.enqueue('timer', 'verify:1', {}, { delayMs: 600_000 })
      t.same(told, [['timer', now + 600_000]], 'a delayed job: when it comes due')
      told.length = 0
      await store.transaction(async (tx) => {
        await tx.jobs.enqueue('run', 'r1', {})
        await tx.jobs.enqueue('run', 'r2', {})
        await tx.jobs.enqueue('timer', 'verify:2', {}, { delayMs: 600_000 })
        await tx.jobs.enqueue('timer', 'verify:3', {}, { delayMs: 600_000 })
        await tx.jobs.enqueue('timer', 'expire:4', {}, { delayMs: 3_600_000 })
      })
      t.same(told.sort(), [['run', now], ['timer', now + 600_000], ['timer', now + 3_600_000]], 'each queue once per due time')
      told.length = 0
      t.ok(await store.jobs.reschedule('timer', 'verify:2', 0))
      t.same(told, [['timer', now]], 'brought forward: due now')
    })
  })
})
