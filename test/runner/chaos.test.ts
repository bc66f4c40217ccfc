/**
 * Faults in the middle of a run, through the simulators' fault injection: Dynatrace answering
 * 5xx or too slowly while the run reads the problem and while it writes its comment, Kubernetes
 * answering 409, 5xx and 403 to the action's calls. What the runner must make of each: the
 * retryable ones end as if nothing happened (one change, one comment), the final ones end
 * `failed` with a comment that says why, and nothing is done or said twice.
 */
import t from 'tap'
import { imageOf } from '../helpers/kubernetes.js'
import { startLoop, type Loop } from '../helpers/runner.js'

const CHECKOUT = '/apis/apps/v1/namespaces/shop/deployments/checkout'
const changes = (loop: Loop): number => loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun && r.statusCode < 300).length
const runsOf = async (loop: Loop) => (await loop.store.runs.list({ limit: 10 })).runs

t.test('Dynatrace answers 500 to the status read just before the action: retried, one rollback, one comment', async (t) => {
  const loop = await startLoop(t)
  const fault = loop.dt.sim.addFault({ operation: 'getProblem', status: 500, count: 3 })
  t.equal(await loop.notify(), 202)
  await loop.settle()
  t.equal(fault.hits, 3, 'the faults were met')
  t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1', 'rolled back')
  t.equal(changes(loop), 1, 'once')
  t.match(loop.comments(), [/^✅ kubernetes\.rollback succeeded on Deployment shop\/checkout/])
})

t.test('the comment lands but its answer times out: the outbox reads the comments before posting again, so it lands once', async (t) => {
  // The client gives up after 2 s (test/helpers/dynatrace.ts); the simulator applies the post,
  // then holds the answer 5 s. Slow, but decided by the order of events, not by luck.
  const loop = await startLoop(t)
  const fault = loop.dt.sim.addFault({ operation: 'createComment', latencyMs: 5_000, latencyPhase: 'after', count: 1 })
  await loop.notify()
  await loop.settle()
  for (let i = 0; i < 5 && loop.dt.sim.traffic.find({ operation: 'createComment' }).length < 1; i++) await loop.advance(5_000)
  await loop.advance(60_000)
  t.equal(fault.hits, 1)
  t.equal(loop.comments().filter((c) => c.startsWith('✅ kubernetes.rollback succeeded')).length, 1, 'one result comment')
  t.equal(loop.comments().length, 1)
})

t.test('Kubernetes answers 409 to the rollback\'s patch: retried with the same plan, one change', async (t) => {
  const loop = await startLoop(t)
  loop.k8s.sim.injectFault({ method: 'PATCH', path: CHECKOUT, status: 409, count: 1 })
  await loop.notify()
  await loop.settle()
  await loop.advance(5_000)
  const [run] = await runsOf(loop)
  t.match(run, { state: 'succeeded', action: 'kubernetes.rollback' })
  t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1')
  t.equal(changes(loop), 1, 'one change reached the workload')
  t.equal(loop.comments().length, 1)
})

t.test('Kubernetes answers 500 twice to reading the workload: retried, then done once', async (t) => {
  const loop = await startLoop(t)
  loop.k8s.sim.injectFault({ method: 'GET', path: CHECKOUT, status: 500, count: 2 })
  await loop.notify()
  await loop.settle()
  for (let i = 0; i < 6 && (await runsOf(loop))[0]?.state !== 'succeeded'; i++) await loop.advance(5_000)
  t.match((await runsOf(loop))[0], { state: 'succeeded' })
  t.equal(changes(loop), 1)
  t.equal(loop.comments().filter((c) => c.startsWith('✅')).length, 1)
})

t.test('Kubernetes answers 403 to the patch (RBAC): the run fails for good, says why, and the ladder stops', async (t) => {
  const loop = await startLoop(t)
  loop.k8s.sim.injectFault({ method: 'PATCH', path: CHECKOUT, status: 403, count: 100, message: 'deployments.apps "checkout" is forbidden' })
  await loop.notify()
  await loop.settle()
  await loop.advance(5_000)
  const runs = await runsOf(loop)
  t.equal(runs.length, 1)
  t.match(runs[0], { state: 'failed', action: 'kubernetes.rollback' })
  t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.2', 'unchanged')
  const comments = loop.comments()
  t.equal(comments.length, 1)
  t.match(comments[0], /^❌ kubernetes\.rollback failed on Deployment shop\/checkout/)
  t.match(comments[0], /forbidden|403/)
  await loop.advance(60 * 60_000)
  t.equal((await runsOf(loop)).length, 1, 'no second step after a failure')
  t.equal(loop.comments().length, 1, 'and nothing more said')
})
