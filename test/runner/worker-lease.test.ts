/**
 * The worker's lease discipline (issue 19, items 3 and 4), on both engines and on the test's
 * clock: at shutdown a job's lease is given back only after its aborted handler has settled (and
 * not at all, only let run out, when it does not settle in time); a renewal that fails aborts the
 * work while the lease is still valid, and is counted.
 */
import pino from 'pino'
import t from 'tap'
import type { Job, JobQueue } from '../../src/store/queue.js'
import { startWorker, type JobContext } from '../../src/runner/worker.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { eachEngine, openTestStore } from '../helpers/store.js'

const LEASE = 9_000
const log = pino({ level: 'silent' })
const turn = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

/** Moves the clock a step at a time, letting the worker run between steps, until `done` is true. */
async function drive (clock: ManualClock, done: () => boolean, stepMs: number): Promise<void> {
  while (!done()) {
    await turn()
    if (!done()) clock.advance(stepMs)
  }
}

eachEngine(t, async (t, engine) => {
  t.test('shutdown: abort, wait for the handler to settle, then give the lease back', async (t) => {
    const clock = manualClock()
    const store = await openTestStore(t, engine, { clock })
    await store.jobs.enqueue('q', 'k', {})
    const events: string[] = []
    const jobs: JobQueue = {
      ...store.jobs,
      async retry (id, owner, delayMs, error) {
        events.push(`released: ${error}`)
        return store.jobs.retry(id, owner, delayMs, error)
      },
    }
    let started: () => void = () => {}
    const running = new Promise<void>((resolve) => { started = resolve })
    let aborted: () => void = () => {}
    const abortSeen = new Promise<void>((resolve) => { aborted = resolve })
    let finish: () => void = () => {}
    const finishing = new Promise<void>((resolve) => { finish = resolve })
    const worker = startWorker({
      queue: 'q',
      jobs,
      clock,
      log,
      owner: 'a',
      leaseMs: LEASE,
      pollMs: 3_600_000,
      concurrency: 1,
      settleMs: 5_000,
      async handler (_job: Job, ctx: JobContext) {
        started()
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))
        events.push('aborted')
        aborted()
        // Its request is still in flight: it ends only when the test says so.
        await finishing
        events.push('settled')
        throw ctx.signal.reason
      },
    })
    worker.wake()
    await running
    const state = { stopped: false, aborted: false }
    abortSeen.then(() => { state.aborted = true }, () => {})
    const stopping = worker.stop(1_000).then(() => { state.stopped = true })
    await drive(clock, () => state.aborted || state.stopped, 250)
    t.notOk(events.some((e) => e.startsWith('released')), 'no lease given back while the handler is still running')
    finish()
    await stopping
    t.same(events, ['aborted', 'settled', 'released: lease released at shutdown'], 'abort, settle, then release')
    t.match(await store.jobs.claim('q', 'b', { leaseMs: LEASE }), [{ key: 'k' }], 'another process takes it at once')
  })

  t.test('shutdown: a handler that does not settle keeps its lease (no longer renewed) until it runs out', async (t) => {
    const clock = manualClock()
    const store = await openTestStore(t, engine, { clock })
    await store.jobs.enqueue('q', 'k', {})
    let released = 0
    let renewals = 0
    const jobs: JobQueue = {
      ...store.jobs,
      async retry (...args) { released++; return store.jobs.retry(...args) },
      async renew (...args) { renewals++; return store.jobs.renew(...args) },
    }
    let started: () => void = () => {}
    const running = new Promise<void>((resolve) => { started = resolve })
    const worker = startWorker({
      queue: 'q',
      jobs,
      clock,
      log,
      owner: 'a',
      leaseMs: LEASE,
      pollMs: 3_600_000,
      concurrency: 1,
      settleMs: 2_000,
      async handler () {
        started()
        // Ignores its signal: never settles.
        await new Promise(() => {})
        return { status: 'done' }
      },
    })
    worker.wake()
    await running
    const state = { stopped: false }
    const stopping = worker.stop(1_000).then(() => { state.stopped = true })
    const from = clock.now()
    await drive(clock, () => state.stopped, 250)
    await stopping
    t.ok(clock.now() - from <= 1_000 + 2_000 + 250, 'stop returns once grace and settle time have passed')
    t.equal(released, 0, 'the lease is not given back under a handler still running')
    const renewed = renewals
    clock.advance(LEASE / 3)
    await turn()
    t.equal(renewals, renewed, 'and no longer renewed')
    t.same(await store.jobs.claim('q', 'b', { leaseMs: LEASE }), [], 'nobody takes it over before the lease runs out')
    clock.advance(LEASE)
    t.match(await store.jobs.claim('q', 'b', { leaseMs: LEASE }), [{ key: 'k', takenOver: true }], 'after it, another process does')
  })

  t.test('a renewal that fails aborts the work before the lease can expire, and is counted', async (t) => {
    const clock = manualClock()
    const store = await openTestStore(t, engine, { clock })
    await store.jobs.enqueue('q', 'k', {})
    let renewals = 0
    const jobs: JobQueue = {
      ...store.jobs,
      async renew () {
        renewals++
        throw new Error('Connection terminated unexpectedly')
      },
    }
    let failures = 0
    let started: () => void = () => {}
    const running = new Promise<void>((resolve) => { started = resolve })
    const state = { abortedAt: undefined as number | undefined, reason: '' }
    let claimedAt = 0
    const worker = startWorker({
      queue: 'q',
      jobs,
      clock,
      log,
      owner: 'a',
      leaseMs: LEASE,
      pollMs: 3_600_000,
      concurrency: 1,
      onRenewalFailed: () => { failures++ },
      async handler (_job: Job, ctx: JobContext) {
        claimedAt = clock.now()
        started()
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))
        state.abortedAt = clock.now()
        state.reason = (ctx.signal.reason as Error).message
        return { status: 'done' }
      },
    })
    t.teardown(async () => worker.stop(0))
    worker.wake()
    await running
    // Up to the lease's end, one renewal interval at a time: the work must be aborted at the first
    // failed renewal, not go on (a renewal a third of the lease later shows it went on).
    await drive(clock, () => state.abortedAt !== undefined || renewals > 1 || clock.now() - claimedAt >= LEASE, LEASE / 3)
    t.equal(renewals, 1, 'one renewal was tried')
    t.equal(failures, 1, 'the failure is counted')
    t.equal(state.reason, 'lease renewal failed')
    t.ok(state.abortedAt !== undefined && state.abortedAt - claimedAt < LEASE, 'aborted while the lease was still valid')
  })
})
