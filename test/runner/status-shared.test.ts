/**
 * The runs of one problem that start together share one problem read (issue 19 item 6): 50 runs
 * asking at once cost one GET /problems/{id}, not 50; a read after the shared one answered asks
 * again (nothing acts on an older status than it would have read alone).
 */
import t from 'tap'
import { dynatraceStatus } from '../../src/runner/status.js'
import { startLoop } from '../helpers/runner.js'
import { startDynatraceWorld } from '../helpers/world.js'

t.test('concurrent status reads of one problem share one request; later ones read afresh', async (t) => {
  const world = await startDynatraceWorld(t)
  const id = world.problem.problemId
  const statuses = await Promise.all(Array.from({ length: 50 }, async () => dynatraceStatus('problem', id, world.client)))
  t.same(new Set(statuses), new Set(['open']))
  t.equal(world.sim.sim.traffic.find({ operation: 'getProblem' }).length, 1, 'one read for 50 runs')
  world.sim.sim.tenant.closeProblem(id)
  t.equal(await dynatraceStatus('problem', id, world.client), 'closed', 'a read after the shared one answered sees the change')
  t.equal(world.sim.sim.traffic.find({ operation: 'getProblem' }).length, 2)
})

t.test('a caller that aborts stops waiting; the others still get the answer', async (t) => {
  const world = await startDynatraceWorld(t)
  const id = world.problem.problemId
  const aborted = new AbortController()
  const first = dynatraceStatus('problem', id, world.client, aborted.signal)
  const second = dynatraceStatus('problem', id, world.client)
  aborted.abort(new Error('lease lost'))
  await t.rejects(first, /lease lost/)
  t.equal(await second, 'open')
})

t.test('a notification\'s status decision and its enrichment share one problem read', async (t) => {
  const loop = await startLoop(t)
  t.equal(await loop.notify(), 202)
  await loop.settle()
  t.equal((await loop.store.runs.list({ limit: 10 })).runs[0]?.state, 'succeeded', 'planned from the shared read: the deployment event and the target were found')
  const reads = loop.dt.sim.traffic.find({ operation: 'getProblem' })
  t.equal(reads.length, 2, 'one before planning (status and enrichment), one before acting')
  t.ok(reads.every((r) => new URL(r.url, 'http://x').searchParams.get('fields') === 'evidenceDetails,impactAnalysis'), 'with the evidence enrichment needs')
})

t.test('a status read that failed gives enrichment nothing: it reads the problem itself', async (t) => {
  const loop = await startLoop(t)
  loop.dt.sim.addFault({ operation: 'getProblem', status: 404, count: 1 })
  t.equal(await loop.notify(), 202)
  await loop.settle()
  t.equal(loop.dt.sim.traffic.find({ operation: 'getProblem' }).length, 3, 'the failed status read, enrichment\'s own, the one before acting')
  t.equal((await loop.store.runs.list({ limit: 10 })).runs[0]?.state, 'succeeded')
})

t.test('enrichment\'s entity reads start with the status read, not after it; a problem the API shows closed still plans nothing', async (t) => {
  const loop = await startLoop(t)
  // The status read is slow: the entity reads are asked while it is still unanswered.
  loop.dt.sim.addFault({ operation: 'getProblem', latencyMs: 1000, latencyPhase: 'before', count: 1 })
  const traffic = loop.dt.sim.traffic
  const begin = traffic.begin.bind(traffic)
  const statusPendingAtEntityRead: boolean[] = []
  traffic.begin = (entry) => {
    if (entry.operation === 'getEntities') statusPendingAtEntityRead.push(traffic.requests.some((r) => r.operation === 'getProblem' && r.status === undefined))
    return begin(entry)
  }
  t.equal(await loop.notify(), 202)
  await loop.settle()
  t.equal(statusPendingAtEntityRead[0], true, 'the first entity read came while the status read was unanswered')
  t.equal((await loop.store.runs.list({ limit: 10 })).runs[0]?.state, 'succeeded')

  const closed = await loop.addProblem('cart')
  loop.dt.sim.tenant.closeProblem(closed.problemId)
  t.equal(await loop.notify(closed), 202)
  await loop.settle()
  t.same(await loop.store.runs.ofOccurrence('problem', closed.problemId, 1), [], 'closed in the API: nothing planned, whatever was read meanwhile')
})
