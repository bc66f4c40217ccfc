/**
 * Poison work is bounded and nothing accepted is lost (issue 19 item 6), on both engines: a job
 * whose holder died 5 times (a notification that runs the heap out, taken over by every restart)
 * or that failed 5 times with an error retrying cannot cure is failed with its reason, said once
 * and shown in GET /api/problems/:pid; a fault that may pass is retried as long as it lasts.
 */
import { pino } from 'pino'
import t from 'tap'
import { DynatraceApiError } from '../../src/dynatrace/errors.js'
import { isTransientFault } from '../../src/runner/poison.js'
import { startWorker, type JobHandler } from '../../src/runner/worker.js'
import type { Store } from '../../src/store/index.js'
import { NOTIFICATION_QUEUE } from '../../src/store/notifications.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { eachEngine, openTestStore } from '../helpers/store.js'
import { startLoop } from '../helpers/runner.js'
import { QUEUES } from '../../src/runner/queues.js'

const log = pino({ level: 'silent' })

function worker (t: Parameters<typeof openTestStore>[0], store: Store, clock: ManualClock, handler: JobHandler<unknown>, poisoned: Array<{ key: string, reason: string, error: string }>) {
  const w = startWorker({ queue: 'q', jobs: store.jobs, handler, clock, log, owner: 'me', leaseMs: 10_000, pollMs: 3_600_000, concurrency: 1, onPoison: (job, reason, error) => { poisoned.push({ key: job.key, reason, error }) } })
  t.teardown(() => w.stop(0))
  return w
}

/** Runs every attempt due, moving time past each backoff, `rounds` times. */
async function drive (w: ReturnType<typeof worker>, clock: ManualClock, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await w.idle()
    clock.advance(61_000)
  }
  await w.idle()
}

t.test('which faults may pass', async (t) => {
  t.ok(isTransientFault(new DynatraceApiError('unreachable', { operation: 'getEntities', retryable: true, attempts: 3 })))
  t.notOk(isTransientFault(new DynatraceApiError('400', { operation: 'getEntities', responseStatus: 400, retryable: false, attempts: 1 })))
  t.ok(isTransientFault(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })))
  t.ok(isTransientFault(Object.assign(new Error('terminating connection'), { code: '57P01' })))
  t.ok(isTransientFault(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })))
  t.notOk(isTransientFault(Object.assign(new Error('too many SQL variables'), { code: 'SQLITE_ERROR' })))
  t.notOk(isTransientFault(Object.assign(new Error('bind message has 58000 parameter formats but 0 parameters'), { code: '08P01' })), 'PostgreSQL\'s answer to too many parameters')
  t.notOk(isTransientFault(new TypeError('Cannot read properties of undefined')))
  t.notOk(isTransientFault(new RangeError('Invalid string length')))
})

eachEngine(t, async (t, engine) => {
  t.test('a job that fails alike 5 times is failed with its reason, said once; the queue goes on', async (t) => {
    const clock = manualClock()
    const store = await openTestStore(t, engine, { clock })
    await store.jobs.enqueue('q', 'bad', {})
    await store.jobs.enqueue('q', 'good', {})
    const poisoned: Array<{ key: string, reason: string, error: string }> = []
    const calls: string[] = []
    const w = worker(t, store, clock, async (job) => {
      calls.push(job.key)
      if (job.key === 'bad') throw Object.assign(new Error('too many SQL variables'), { code: 'SQLITE_ERROR' })
      return { status: 'done' }
    }, poisoned)
    await drive(w, clock, 10)
    t.equal(calls.filter((k) => k === 'bad').length, 5, 'tried 5 times, not forever')
    t.equal(calls.filter((k) => k === 'good').length, 1, 'the other job was not blocked')
    t.same(poisoned, [{ key: 'bad', reason: 'error', error: 'failed 5 times with an error retrying cannot cure: too many SQL variables' }])
    t.equal(await store.jobs.pending('q'), 0)
    t.same([...(await store.jobs.failures('q', ['bad', 'good'])).keys()], ['bad'])
  })

  t.test('a job whose holder died 5 times is failed without running it again', async (t) => {
    const clock = manualClock()
    const store = await openTestStore(t, engine, { clock })
    await store.jobs.enqueue('q', 'oom', {})
    // Five processes claimed it and died holding it: each lease ran out.
    for (let i = 0; i < 5; i++) {
      t.equal((await store.jobs.claim('q', `dead-${i}`, { leaseMs: 1000 })).length, 1)
      clock.advance(1001)
    }
    const poisoned: Array<{ key: string, reason: string, error: string }> = []
    const calls: string[] = []
    const w = worker(t, store, clock, async (job) => { calls.push(job.key); return { status: 'done' } }, poisoned)
    await drive(w, clock, 2)
    t.same(calls, [], 'not run a sixth time')
    t.match(poisoned, [{ key: 'oom', reason: 'crashed', error: /taken over 5 times/ }])
    t.equal(await store.jobs.pending('q'), 0)
  })

  t.test('a fault that may pass is retried as long as it lasts, then the job is done', async (t) => {
    const clock = manualClock()
    const store = await openTestStore(t, engine, { clock })
    await store.jobs.enqueue('q', 'flaky', {})
    let calls = 0
    const poisoned: Array<{ key: string, reason: string, error: string }> = []
    const w = worker(t, store, clock, async () => {
      if (++calls <= 12) throw new DynatraceApiError('Dynatrace could not be reached', { operation: 'getProblem', retryable: true, attempts: 3 })
      return { status: 'done' }
    }, poisoned)
    await drive(w, clock, 14)
    t.equal(calls, 13, 'tried through 12 failures')
    t.same(poisoned, [])
    t.equal(await store.jobs.pending('q'), 0)
    t.same((await store.jobs.failures('q', ['flaky'])).size, 0)
  })

  t.test('GET /api/problems/:pid shows a notification whose processing failed for good', async (t) => {
    const clock = manualClock()
    const store = await openTestStore(t, engine, { clock })
    const app = await buildTestApp(t, { store, env: { DTR_ADMIN_TOKENS: 'alice-admin-token' } })
    const post = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload: { PID: 'P-poison', State: 'OPEN', ImpactedEntities: [] } })
    t.equal(post.statusCode, 202)
    const [job] = await store.jobs.claim(NOTIFICATION_QUEUE, 'me', { leaseMs: 1000 })
    t.ok(job)
    await store.jobs.fail(job?.id ?? '', 'me', 'failed 5 times with an error retrying cannot cure: too many SQL variables')
    const view = await app.inject({ url: '/api/problems/P-poison', headers: { authorization: 'Bearer alice-admin-token' } })
    t.equal(view.statusCode, 200)
    t.match(view.json(), { notifications: [{ failed: { reason: /too many SQL variables/, at: String } }] })
  })
})

t.test('a run whose job failed for good ends failed, saying why, with its comment, and acts on nothing', async (t) => {
  const loop = await startLoop(t, {
    rules: 'mode: live\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n',
    // Every process that claimed this run's job died before it finished: the store's count says so.
    wrapStore: (store) => ({
      ...store,
      jobs: {
        ...store.jobs,
        async claim<Payload> (queue: string, owner: string, options: { leaseMs: number, limit?: number }) {
          const claimed = await store.jobs.claim<Payload>(queue, owner, options)
          return queue === QUEUES.run ? claimed.map((job) => ({ ...job, takenOver: true, takeovers: 5 })) : claimed
        },
      },
    }),
  })
  t.equal(await loop.notify(), 202)
  await loop.settle()
  const [run] = (await loop.store.runs.list({ limit: 5 })).runs
  t.match(run, { state: 'failed', reason: /^failed for good, not tried again: taken over 5 times/ }, 'not left queued')
  t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0, 'the action never ran')
  t.match(loop.comments().at(-1) ?? '', /kubernetes\.restart failed/, 'the problem says so')
})
