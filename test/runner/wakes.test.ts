/**
 * Which worker a piece of work wakes. Intake's commit wakes the notification queue's worker, and
 * only it; a job's end wakes the worker of each queue it enqueued into, once that is committed,
 * and its own worker only when that one left jobs for want of room. Every wake is a claim
 * statement: on the embedded store, a turn of the one connection intake's commits wait behind,
 * and on PostgreSQL a statement per queue on every replica's pool. The tests' poll is an hour, so
 * work that no wake reached would wait for it: a test that waits for the work to be done, without
 * the runner's idle() (which wakes everything), fails if a wake is missing.
 */
import pino from 'pino'
import t from 'tap'
import { MAX_DUE_TIMES, startWorker } from '../../src/runner/worker.js'
import type { JobQueue } from '../../src/store/queue.js'
import { manualClock } from '../helpers/clock.js'
import { imageOf } from '../helpers/kubernetes.js'
import { startLoop } from '../helpers/runner.js'
import { eachEngine, openTestStore } from '../helpers/store.js'

/** Matches process groups only: the checkout problem, on a service, plans nothing. */
const PLANS_NOTHING = `
mode: live
rules:
  - name: process-groups-only
    on: problem
    when: { entityTypes: [PROCESS_GROUP] }
    actions: [{ use: kubernetes.restart }]
`

/**
 * Waits for a condition: it passes the moment `done()` holds. The bound is only there to fail a
 * test whose wake-up never came (the poll would be an hour away), far beyond what the work takes
 * on a loaded machine.
 */
async function until (done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const give = Date.now() + 60_000
  while (!(await done())) {
    if (Date.now() > give) throw new Error(`never happened: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

t.test('wakes', async (t) => {
  eachEngine(t, async (t, engine) => {
    t.test('a notification that plans nothing claims from the notification queue only, once or twice, and wakes no other worker', async (t) => {
      const loop = await startLoop(t, { rules: PLANS_NOTHING, engine })
      const claims = new Map<string, number>()
      const claim = loop.store.jobs.claim
      loop.store.jobs.claim = async (queue, owner, options) => {
        claims.set(queue, (claims.get(queue) ?? 0) + 1)
        return claim(queue, owner, options)
      }
      let completed = 0
      const complete = loop.store.jobs.complete
      loop.store.jobs.complete = async (jobId, owner) => {
        const done = await complete(jobId, owner)
        completed++
        return done
      }
      const problems = [loop.problem, await loop.addProblem('checkout', 'Response time degradation'), await loop.addProblem('checkout', 'Failure rate increase again')]
      for (const [i, problem] of problems.entries()) {
        t.equal(await loop.notify(problem), 202)
        await until(() => completed === i + 1, `notification ${i + 1} handled`)
      }
      // Whatever a wake-up set going has reached its claim by now.
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve))
      const others = [...claims].filter(([queue]) => queue !== 'notification')
      t.same(others, [], 'no other queue\'s worker was woken: nothing was enqueued for it')
      const own = claims.get('notification') ?? 0
      t.ok(own >= problems.length && own <= 2 * problems.length, `the notification worker claimed ${own} times for ${problems.length} notifications (each: its job, and at most once more when the claim came back full)`)
      t.equal(await loop.store.jobs.due('notification'), 0, 'every notification was handled')
      t.same(loop.comments(), [], 'nothing was planned')
    })

    t.test('a job given back to wait (a retry, a fault) is claimed again the moment it is due, not at the next poll', async (t) => {
      const clock = manualClock()
      const store = await openTestStore(t, engine, { clock })
      await store.jobs.enqueue('q', 'k', {})
      const calls: number[] = []
      // What the worker recorded, counted once recorded: its due time counts from that statement.
      const given = { retried: 0, faulted: 0 }
      const jobs: JobQueue = {
        ...store.jobs,
        retry: async (...args) => { const done = await store.jobs.retry(...args); given.retried++; return done },
        fault: async (...args) => { const done = await store.jobs.fault(...args); given.faulted++; return done },
      }
      const worker = startWorker({
        queue: 'q',
        jobs,
        clock,
        log: pino({ level: 'silent' }),
        owner: 'a',
        leaseMs: 60_000,
        pollMs: 3_600_000,
        concurrency: 4,
        async handler () {
          calls.push(clock.now())
          if (calls.length === 1) return { status: 'retry', delayMs: 1_500, error: 'Dynatrace answered 429' }
          // Not transient: a fault, backed off 1 s × 2^attempts (4 s at the second attempt).
          if (calls.length === 2) throw new Error('a bug')
          return { status: 'done' }
        },
      })
      t.teardown(async () => worker.stop(0))
      const start = clock.now()
      await until(() => given.retried === 1, 'the retry recorded')
      clock.advance(1_499)
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
      t.equal(calls.length, 1, 'not before it is due')
      clock.advance(1)
      await until(() => calls.length === 2, 'claimed again once due (the poll is an hour away)')
      t.equal(calls[1], start + 1_500, 'at its due time')
      await until(() => given.faulted === 1, 'the fault recorded')
      clock.advance(4_000)
      await until(() => calls.length === 3, 'claimed again once the fault\'s backoff ran out')
      t.pass('a fault\'s backoff too, with no wake-up from anywhere else')
    })

    t.test('work a job makes for other queues is claimed at once, with no poll and no idle(): notification, run, comment', async (t) => {
      const loop = await startLoop(t, { engine })
      t.equal(await loop.notify(), 202)
      await until(() => loop.comments().length > 0, 'the action\'s result comment is posted')
      t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1', 'rolled back by the run the notification\'s job enqueued')
      t.match(loop.comments()[0], /rollback/i, 'the comment the run\'s end enqueued')
    })

    t.test('a verification is claimed the moment verifyAfter has passed, not at the next poll, with no idle()', async (t) => {
      const loop = await startLoop(t, { engine })
      let timerClaims = 0
      const claim = loop.store.jobs.claim
      loop.store.jobs.claim = async (queue, owner, options) => {
        if (queue === 'timer') timerClaims++
        return claim(queue, owner, options)
      }
      t.equal(await loop.notify(), 202)
      await until(() => loop.comments().length === 1, 'the action\'s result comment is posted')
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve))
      t.equal(timerClaims, 0, 'told of a verification due later, the timer worker only shortened its nap: a claim now would find nothing')
      // The rules' verifyAfter is 10 minutes; the poll is an hour. Only the clock moves: no
      // wake-up comes from anywhere (loop.advance would wake every worker).
      loop.clock.advance(10 * 60_000 - 1)
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve))
      t.equal(loop.comments().length, 1, 'not before it is due')
      loop.clock.advance(1)
      await until(() => loop.comments().length === 2, 'the verdict is posted')
      t.match(loop.comments()[1], /kubernetes\.rollback/, 'the verdict on the rollback')
    })

    t.test('a RESOLVED brings its verification forward and the verdict follows at once, with no poll and no idle()', async (t) => {
      const loop = await startLoop(t, { engine })
      t.equal(await loop.notify(), 202)
      await until(() => loop.comments().length === 1, 'the action\'s result comment is posted')
      await loop.dt.sim.resolveProblem(loop.problem.problemId, { notify: false })
      t.equal(await loop.notify(), 202, 'the RESOLVED notification')
      // The verification was due in 10 minutes of the test's clock, which does not move.
      await until(() => loop.comments().length === 2, 'the verdict is posted')
      t.match(loop.comments()[1], /^✔️ Resolved after kubernetes\.rollback/)
    })
  })
})

t.test('a worker keeps its earliest MAX_DUE_TIMES due times; a later one is left to the poll, which still finds it', async (t) => {
  for (const told of [MAX_DUE_TIMES, MAX_DUE_TIMES + 1]) {
    t.test(`${told} due times told`, async (t) => {
      const clock = manualClock()
      const claims: number[] = []
      const jobs = { claim: async () => { claims.push(clock.now()); return [] } } as unknown as JobQueue
      const pollMs = 3_600_000
      const worker = startWorker({ queue: 'q', jobs, clock, log: pino({ level: 'silent' }), owner: 'a', leaseMs: 60_000, pollMs, concurrency: 4, async handler () { return { status: 'done' } } })
      t.teardown(async () => worker.stop(0))
      await until(() => claims.length === 1, 'the first claim, at start')
      const start = clock.now()
      // Latest first: each new one is the earliest so far, so a full list drops its latest.
      const last = start + 1_000 + told - 1
      for (let at = last; at >= start + 1_000; at--) worker.dueAt(at)
      const settle = async (): Promise<void> => { for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve)) }
      clock.advance(last - 1 - start)
      await until(() => claims.length === 2, 'claimed once the first due time passed (everything due by then in one claim)')
      clock.advance(1)
      await settle()
      if (told === MAX_DUE_TIMES) {
        await until(() => claims.length === 3, 'the last of them kept')
        t.equal(claims[2], last, 'claimed at the last due time')
      } else {
        t.equal(claims.length, 2, `the ${told}th, the latest, was not kept: no claim at its time`)
        clock.advance(pollMs)
        await until(() => claims.length === 3, 'the poll finds it')
        t.pass('the poll claimed, as for a due time told to another replica')
      }
    })
  }
})
