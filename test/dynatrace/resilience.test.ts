/**
 * Retries, timeouts, unknown outcomes and the concurrency bound, observed in the simulator's
 * request log. Waits the server asks for are checked through the client's injected clock and
 * sleep, so no test waits real seconds for them.
 */
import t from 'tap'
import { isDynatraceApiError } from '../../src/dynatrace/index.js'
import { requestCount, startClient, startSimulator } from '../helpers/dynatrace.js'

/** A clock that stands still and a sleep that records what it was asked to wait, then returns. */
function fakeTime (at = Date.parse('2024-05-01T10:00:00Z')) {
  const waits: number[] = []
  return { now: () => at, waits, sleep: async (ms: number) => { waits.push(ms) } }
}

t.test('429 with Retry-After: the retry waits at least that long', async (t) => {
  const time = fakeTime()
  const { sim, url } = await startSimulator(t, { now: time.now })
  const { client, metrics } = startClient(t, url, { now: time.now, sleep: time.sleep })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: 'getEntity', status: 429, retryAfter: 1, count: 1 })
  const entity = await client.getEntity(svc.entityId)
  t.equal(entity.entityId, svc.entityId)
  t.same(sim.traffic.find({ operation: 'getEntity' }).map((r) => r.status), [429, 200])
  t.equal(time.waits.length, 1)
  t.ok((time.waits[0] ?? 0) >= 1000 && (time.waits[0] ?? 0) < 2000, `waited ${time.waits[0]} ms for Retry-After: 1 (plus jitter under a second)`)
  t.equal(await requestCount(metrics, 'getEntity', '429'), 1)
  t.equal(await requestCount(metrics, 'getEntity', '200'), 1)
})

t.test('429 with an HTTP-date Retry-After is honoured', async (t) => {
  const time = fakeTime()
  const { sim, url } = await startSimulator(t, { now: time.now })
  const { client } = startClient(t, url, { now: time.now, sleep: time.sleep })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: 'getEntity', status: 429, retryAfter: new Date(time.now() + 2000).toUTCString(), count: 1 })
  await client.getEntity(svc.entityId)
  t.ok((time.waits[0] ?? 0) >= 2000, `waited ${time.waits[0]} ms until the date given, two seconds ahead`)
})

t.test('429 with X-RateLimit-Reset (microseconds) is honoured', async (t) => {
  const time = fakeTime()
  const { sim, url } = await startSimulator(t, { now: time.now })
  const { client } = startClient(t, url, { now: time.now, sleep: time.sleep })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: 'getEntity', status: 429, rateLimitResetMs: 300, count: 1 })
  await client.getEntity(svc.entityId)
  t.ok((time.waits[0] ?? 0) >= 300, `waited ${time.waits[0]} ms until the reset time, 300 ms ahead`)
})

t.test('a Retry-After beyond the cap fails at once with retryAfterMs, for the durable queue to honour', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client } = startClient(t, url, { retry: { maxRetryAfterMs: 5000 } })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: 'getEntity', status: 429, retryAfter: 120 })
  const err = await client.getEntity(svc.entityId).then(() => undefined, (e: unknown) => e)
  t.ok(isDynatraceApiError(err))
  if (!isDynatraceApiError(err)) return
  t.equal(err.code, 'DTR_ERR_DYNATRACE_UNAVAILABLE')
  t.equal(err.retryable, true)
  t.equal(err.retryAfterMs, 120_000)
  t.equal(sim.traffic.find({ operation: 'getEntity' }).length, 1)
})

t.test('500s are retried, then the call succeeds', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client, metrics } = startClient(t, url)
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: 'getEntity', status: 500, count: 2 })
  t.equal((await client.getEntity(svc.entityId)).entityId, svc.entityId)
  t.same(sim.traffic.find({ operation: 'getEntity' }).map((r) => r.status), [500, 500, 200])
  t.equal(await requestCount(metrics, 'getEntity', '500'), 2)
})

t.test('503 on every attempt exhausts the budget with DTR_ERR_DYNATRACE_UNAVAILABLE', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client } = startClient(t, url, { retry: { maxAttempts: 3 } })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: '*', status: 503 })
  const err = await client.getEntity(svc.entityId).then(() => undefined, (e: unknown) => e)
  t.ok(isDynatraceApiError(err) && err.code === 'DTR_ERR_DYNATRACE_UNAVAILABLE' && err.attempts === 3 && err.responseStatus === 503)
  t.equal(sim.traffic.find({ operation: 'getEntity' }).length, 3)
})

t.test('a slow answer times out, is retried, and fails after the budget', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client, metrics } = startClient(t, url, { timeoutMs: 100, retry: { maxAttempts: 2 } })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: 'getEntity', latencyMs: 5000 })
  const err = await client.getEntity(svc.entityId).then(() => undefined, (e: unknown) => e)
  t.ok(isDynatraceApiError(err))
  if (!isDynatraceApiError(err)) return
  t.match(err.message, /timed out after 100 ms/)
  t.equal(err.code, 'DTR_ERR_DYNATRACE_UNAVAILABLE')
  t.equal(err.attempts, 2)
  t.equal(await requestCount(metrics, 'getEntity', 'error'), 2, 'timeouts are counted with status "error"')
})

t.test('a slow answer within the timeout succeeds', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client } = startClient(t, url, { timeoutMs: 2000 })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: 'getEntity', latencyMs: 50, count: 1 })
  t.equal((await client.getEntity(svc.entityId)).entityId, svc.entityId)
})

t.test('a refused connection is retried and then reported', async (t) => {
  const { url, app } = await startSimulator(t)
  await app.close()
  const { client } = startClient(t, url, { retry: { maxAttempts: 2 } })
  const err = await client.getEntity('SERVICE-1').then(() => undefined, (e: unknown) => e)
  t.ok(isDynatraceApiError(err) && err.retryable && err.attempts === 2 && !err.outcomeUnknown)
})

t.test('the caller\'s abort is surfaced as is, without retry', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client } = startClient(t, url)
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  sim.addFault({ operation: 'getEntity', latencyMs: 5000 })
  const controller = new AbortController()
  const pending = client.getEntity(svc.entityId, controller.signal)
  controller.abort(new Error('shutting down'))
  await t.rejects(pending, { message: 'shutting down' })
})

t.test('comment posts are never repeated blindly', async (t) => {
  t.test('a 500 on a post is an unknown outcome, not retried', async (t) => {
    const { sim, url } = await startSimulator(t)
    const { client } = startClient(t, url)
    const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
    const { problem } = await sim.openProblem({ title: 'p', impactedEntities: [svc.entityId] })
    sim.addFault({ operation: 'createComment', status: 500, count: 1 })
    const err = await client.createComment(problem.problemId, { message: 'm' }).then(() => undefined, (e: unknown) => e)
    t.ok(isDynatraceApiError(err) && err.outcomeUnknown && err.retryable)
    t.equal(sim.traffic.find({ operation: 'createComment' }).length, 1)
  })

  t.test('a 429 on a post is retried: Dynatrace refused it before doing anything', async (t) => {
    const { sim, url } = await startSimulator(t)
    const { client } = startClient(t, url)
    const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
    const { problem } = await sim.openProblem({ title: 'p', impactedEntities: [svc.entityId] })
    sim.addFault({ operation: 'createComment', status: 429, retryAfter: 0, count: 1 })
    await client.createComment(problem.problemId, { message: 'm' })
    t.equal(problem.comments.length, 1)
  })

  t.test('postCommentOnce: a post that landed although the answer timed out is found, not repeated', async (t) => {
    const { sim, url } = await startSimulator(t)
    const { client } = startClient(t, url, { timeoutMs: 150 })
    const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
    const { problem } = await sim.openProblem({ title: 'p', impactedEntities: [svc.entityId] })
    sim.addFault({ operation: 'createComment', latencyMs: 2000, latencyPhase: 'after', count: 1 })
    const outcome = await client.postCommentOnce(problem.problemId, { message: '✅ done\n\nrun r-42', context: 'dt-remediator' }, 'run r-42')
    t.equal(outcome.status, 'already-present')
    t.equal(problem.comments.filter((c) => c.content.includes('run r-42')).length, 1, 'exactly one comment')
    t.equal(sim.traffic.find({ operation: 'createComment' }).length, 1)
  })

  t.test('postCommentOnce: a 500 that did not land is posted again', async (t) => {
    const { sim, url } = await startSimulator(t)
    const { client } = startClient(t, url)
    const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
    const { problem } = await sim.openProblem({ title: 'p', impactedEntities: [svc.entityId] })
    sim.addFault({ operation: 'createComment', status: 500, count: 1 })
    const outcome = await client.postCommentOnce(problem.problemId, { message: 'run r-7' }, 'run r-7')
    t.equal(outcome.status, 'posted')
    t.equal(problem.comments.length, 1)
  })

  t.test('postCommentOnce, never posted before: no read before the first post; an unknown outcome is still read before posting again', async (t) => {
    const { sim, url } = await startSimulator(t)
    const { client } = startClient(t, url)
    const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
    const { problem } = await sim.openProblem({ title: 'p', impactedEntities: [svc.entityId] })
    t.equal((await client.postCommentOnce(problem.problemId, { message: 'run r-8' }, 'run r-8', undefined, { neverPosted: true })).status, 'posted')
    t.same(sim.traffic.requests.map((r) => r.operation), ['createComment'], 'one call')
    sim.traffic.reset()
    sim.addFault({ operation: 'createComment', status: 500, count: 1 })
    t.equal((await client.postCommentOnce(problem.problemId, { message: 'run r-9' }, 'run r-9', undefined, { neverPosted: true })).status, 'posted')
    t.same(sim.traffic.requests.map((r) => `${r.operation} ${r.status ?? ''}`), ['createComment 500', 'getComments 200', 'createComment 201'], 'the 500 may have landed: read before posting again')
    t.equal(problem.comments.filter((c) => c.content.includes('run r-9')).length, 1)
  })

  t.test('postCommentOnce: an existing comment with the marker means no post at all', async (t) => {
    const { sim, url } = await startSimulator(t)
    const { client } = startClient(t, url)
    const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
    const { problem } = await sim.openProblem({ title: 'p', impactedEntities: [svc.entityId] })
    sim.tenant.addComment(problem, 'earlier\n\nrun r-1', 'dt-remediator')
    const outcome = await client.postCommentOnce(problem.problemId, { message: 'run r-1' }, 'run r-1')
    t.equal(outcome.status, 'already-present')
    t.equal(sim.traffic.find({ operation: 'createComment' }).length, 0)
  })
})

t.test('the concurrency bound holds under 100 parallel calls', async (t) => {
  const { sim, url } = await startSimulator(t)
  const { client } = startClient(t, url, { maxConcurrency: 4 })
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'svc' })
  // A little latency on every request so that requests overlap at the simulator.
  sim.addFault({ operation: '*', latencyMs: 10 })
  const results = await Promise.all(Array.from({ length: 100 }, async () => client.getEntity(svc.entityId)))
  t.equal(results.length, 100)
  t.equal(sim.traffic.find({ operation: 'getEntity' }).length, 100)
  t.ok(sim.maxInFlight <= 4, `at most 4 in flight at the simulator (saw ${sim.maxInFlight})`)
  t.ok(sim.maxInFlight >= 2, 'requests did run concurrently')
  t.equal(client.inFlight, 0)
})
