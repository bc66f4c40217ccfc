/**
 * On the embedded store every transaction takes the one writer in turn, so under a burst of
 * webhooks the runner's commits (claims, plans, a job's end) would take turns with intake's group
 * commits and slow what Dynatrace is waiting for (it does not resend a refused notification).
 * The runner lets intake go first: before each claim it waits, up to intakeYieldMs, until no
 * notification is waiting for its commit. On PostgreSQL commits run in parallel and it does not.
 */
import t from 'tap'
import { defaultTimings } from '../../src/runner/deps.js'
import { imageOf } from '../helpers/kubernetes.js'
import { startLoop } from '../helpers/runner.js'
import { postgresEngine, skipWithoutPostgres } from '../helpers/store.js'

t.test('on SQLite, the runner claims nothing while intake has notifications waiting for their commit', async (t) => {
  const loop = await startLoop(t)
  const waits: number[] = []
  let intakeBusy = true
  let done = (): void => {}
  const idle = new Promise<void>((resolve) => { done = resolve })
  const settled = loop.store.notifications.settled
  // Intake stays "busy" until the test says otherwise: the runner must wait for it.
  loop.store.notifications.settled = async (maxWaitMs) => {
    waits.push(maxWaitMs)
    if (intakeBusy) await idle
    return settled(maxWaitMs)
  }
  t.equal(await loop.notify(), 202)
  // Intake wakes the runner as it commits; its notification worker asks before it claims.
  for (let i = 0; i < 10_000 && waits.length === 0; i++) await new Promise((resolve) => setImmediate(resolve))
  t.ok(waits.length > 0, 'a worker asked before claiming')
  t.equal(await loop.store.jobs.due('notification'), 1, 'the notification\'s job is still waiting, unclaimed')
  t.ok(waits.every((ms) => ms === defaultTimings.intakeYieldMs), `each wait is bounded by intakeYieldMs (${defaultTimings.intakeYieldMs} ms)`)
  t.equal((await loop.store.runs.list({ limit: 10 })).runs.length, 0, 'nothing was planned meanwhile')
  t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.2')

  intakeBusy = false
  done()
  await loop.settle()
  t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1', 'then the work follows: rolled back')
  t.equal(loop.comments().length, 1)
})

t.test('while intake is busy a worker claims one job at a time, then as many as it has room for', async (t) => {
  const loop = await startLoop(t)
  let busy = true
  const settled = loop.store.notifications.settled
  loop.store.notifications.settled = async (maxWaitMs) => { await settled(maxWaitMs); return busy }
  const limits: number[] = []
  const claim = loop.store.jobs.claim
  loop.store.jobs.claim = async (queue, owner, options) => {
    if (queue === 'notification') limits.push(options.limit ?? 0)
    return claim(queue, owner, options)
  }
  t.equal(await loop.notify(), 202)
  await loop.settle()
  t.ok(limits.length > 0 && limits.every((l) => l === 1), `one at a time while intake is busy (limits ${limits.join(', ')})`)
  busy = false
  limits.length = 0
  t.equal(await loop.notify(undefined, (b) => ({ ...b, ProblemTitle: 'Failure rate increase (merged)' })), 202)
  await loop.settle()
  t.ok(limits.length > 0 && limits.every((l) => l > 1), `as many as there is room for once it is not (limits ${limits.join(', ')})`)
})

t.test('on PostgreSQL, the runner does not wait for intake', { skip: skipWithoutPostgres ? 'DTR_TEST_DATABASE_URL is not set' : false }, async (t) => {
  const loop = await startLoop(t, { engine: postgresEngine })
  let asked = 0
  const settled = loop.store.notifications.settled
  loop.store.notifications.settled = async (maxWaitMs) => { asked++; return settled(maxWaitMs) }
  t.equal(await loop.notify(), 202)
  await loop.settle()
  t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1')
  t.equal(asked, 0)
})
