/**
 * The outbox (SPEC 10): every comment delivered once across 429s, 5xx answers and a Dynatrace
 * outage; a final 4xx recorded with the run.
 */
import t from 'tap'
import { startLoop } from '../helpers/runner.js'

const metric = async (loop: Awaited<ReturnType<typeof startLoop>>, name: string): Promise<number> => {
  const text = await loop.app.metrics.registry.getSingleMetricAsString(name)
  return Number(/ ([\d.e+-]+)$/m.exec(text)?.[1] ?? NaN)
}

t.test('429 with Retry-After, then 5xx, then Dynatrace down for 30 s: the comment lands once', async (t) => {
  const loop = await startLoop(t)
  const limited = loop.dt.sim.addFault({ operation: 'createComment', status: 429, rateLimitResetMs: 20, count: 2 })
  const failing = loop.dt.sim.addFault({ operation: 'createComment', status: 500, count: 2 })
  const down = loop.dt.sim.addFault({ operation: '*', status: 503 })
  // The run itself needs Dynatrace too; let it pass, then cut Dynatrace off for the write-back.
  down.remaining = 0
  await loop.notify()
  await loop.settle()
  t.equal(loop.comments().length, 1, 'delivered despite two 429s and two 500s')
  t.ok(limited.hits === 2 && failing.hits === 2, 'every fault was met')

  // Now an outage: the verdict comment waits in the outbox, retried with backoff.
  down.remaining = Number.POSITIVE_INFINITY
  await loop.advance(10 * 60_000)
  t.equal(loop.comments().length, 1, 'nothing lands while Dynatrace is down')
  t.equal(await metric(loop, 'dtr_writeback_pending'), 1, 'the verdict waits in the outbox')
  for (let s = 0; s < 30; s += 5) await loop.advance(5_000)
  t.ok(await metric(loop, 'dtr_writeback_oldest_seconds') >= 30, 'its age shows')
  down.remaining = 0
  await loop.advance(60_000)
  const comments = loop.comments()
  // The outage hid the problem's status from the verification too: its verdict is unknown, and
  // the ladder stops (only a problem read as open escalates).
  t.equal(comments.filter((c) => c.startsWith('❔ Unknown after kubernetes.rollback')).length, 1, 'the verdict, once')
  t.equal(comments.length, 2, 'no second step after an unknown verdict')
  t.equal(comments.filter((c) => c.startsWith('✅ kubernetes.rollback succeeded')).length, 1, 'the result, still once')
  t.equal(await metric(loop, 'dtr_writeback_pending'), 0)
})

t.test('a 4xx other than 429 is final, recorded with the run and counted', async (t) => {
  const loop = await startLoop(t)
  loop.dt.sim.addFault({ operation: 'createComment', status: 404, message: 'Problem not found' })
  await loop.notify()
  await loop.settle()
  t.equal(loop.comments().length, 0)
  const [run] = (await loop.store.runs.list({ limit: 5 })).runs
  t.match(run?.timeline.at(-1), { note: /write-back result:.* refused by Dynatrace for good: .*404/ })
  t.equal(await metric(loop, 'dtr_writeback_failed_total'), 1)
  t.equal(await metric(loop, 'dtr_writeback_pending'), 0)
})

t.test('a write-back\'s first try posts without reading the comments; a try after a failed one reads them first', async (t) => {
  const loop = await startLoop(t)
  await loop.notify()
  await loop.settle()
  t.equal(loop.comments().length, 1)
  t.equal(loop.dt.sim.traffic.find({ operation: 'getComments' }).length, 0, 'nothing could have posted it before: no read')

  // The verdict's first post is refused for longer than the client waits: the job is tried again
  // later, and that try does not know what the first did, so it reads before posting.
  loop.dt.sim.traffic.reset()
  loop.dt.sim.addFault({ operation: 'createComment', status: 429, retryAfter: 120, count: 1 })
  await loop.advance(10 * 60_000)
  t.equal(loop.comments().filter((c) => c.startsWith('⚠️ Not resolved')).length, 0, 'the verdict waits')
  await loop.advance(120_000)
  const calls = loop.dt.sim.traffic.requests.filter((r) => r.operation === 'createComment' || r.operation === 'getComments').map((r) => `${r.operation} ${r.status ?? ''}`)
  // The escalation's step 2 result is a write-back of its own, at its first try: posted at once.
  t.same(calls, ['createComment 429', 'createComment 201', 'getComments 200', 'createComment 201'], 'the verdict read, then posted')
  t.equal(loop.comments().filter((c) => c.startsWith('⚠️ Not resolved')).length, 1, 'the verdict once')
  t.equal(loop.comments().length, 3)
})
