import t from 'tap'
import { openTestStore } from '../helpers/store.js'

t.test('job queue', async (t) => {
  const store = await openTestStore(t)
  const q = store.jobs

  t.test('enqueue is idempotent per key', async (t) => {
    t.equal(await q.enqueue('q1', 'k', { a: 1 }), true)
    t.equal(await q.enqueue('q1', 'k', { a: 2 }), false)
    const [job] = await q.claim<{ a: number }>('q1', 'w1', { leaseMs: 60_000, limit: 5 })
    t.match(job, { queue: 'q1', key: 'k', payload: { a: 1 }, attempts: 1 })
    t.same(await q.claim('q1', 'w2', { leaseMs: 60_000 }), [], 'a leased job is not claimed again')
    t.equal(await q.complete(job?.id as string, 'w2'), false, 'only the owner completes')
    t.equal(await q.complete(job?.id as string, 'w1'), true)
    t.equal(await q.pending('q1'), 0)
  })

  t.test('an expired lease is claimed by another worker, and the old owner can no longer finish', async (t) => {
    await q.enqueue('q2', 'k', {})
    const [job] = await q.claim('q2', 'crashed', { leaseMs: 1 })
    let reclaimed: Awaited<ReturnType<typeof q.claim>> = []
    // The lease is 1 ms; poll until the database clock has passed it.
    while (reclaimed.length === 0) reclaimed = await q.claim('q2', 'survivor', { leaseMs: 60_000 })
    t.equal(reclaimed[0]?.id, job?.id)
    t.equal(reclaimed[0]?.attempts, 2)
    t.equal(await q.renew(job?.id as string, 'crashed', 60_000), false)
    t.equal(await q.complete(job?.id as string, 'crashed'), false)
    t.equal(await q.renew(job?.id as string, 'survivor', 60_000), true)
    t.equal(await q.complete(job?.id as string, 'survivor'), true)
  })

  t.test('retry delays a job; fail ends it', async (t) => {
    await q.enqueue('q3', 'k', {})
    const [job] = await q.claim('q3', 'w', { leaseMs: 60_000 })
    t.equal(await q.retry(job?.id as string, 'w', 60_000, 'boom'), true)
    t.same(await q.claim('q3', 'w', { leaseMs: 60_000 }), [], 'not before its delay')
    await q.enqueue('q4', 'k', {})
    const [other] = await q.claim('q4', 'w', { leaseMs: 60_000 })
    t.equal(await q.fail(other?.id as string, 'w', 'bad'), true)
    t.equal(await q.pending('q4'), 0)
    t.equal(await q.pending('q3'), 1)
  })
})
