/**
 * The runs of one problem that start together share one problem read (issue 19 item 6): 50 runs
 * asking at once cost one GET /problems/{id}, not 50; a read after the shared one answered asks
 * again (nothing acts on an older status than it would have read alone). A caller that read our
 * record first never joins a read sent before that: its answer may predate a RESOLVED the record
 * already shows.
 */
import t from 'tap'
import { statusReadMark } from '../../src/runner/kinds/index.js'
import { dynatraceStatus } from '../../src/runner/status.js'
import type { Store } from '../../src/store/index.js'
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

t.test('a read asked after a mark never joins one sent before it; one asked without a mark does', async (t) => {
  const world = await startDynatraceWorld(t)
  const id = world.problem.problemId
  let release: (value?: unknown) => void = () => {}
  // The first read is answered as the problem is when it arrives (open), then held.
  world.sim.sim.addFault({ operation: 'getProblem', latencyPhase: 'after', hold: new Promise((resolve) => { release = resolve }), count: 1 })
  const first = dynatraceStatus('problem', id, world.client)
  for (let i = 0; i < 100_000 && world.sim.sim.traffic.find({ operation: 'getProblem' }).length === 0; i++) await new Promise((resolve) => setImmediate(resolve))
  const joined = dynatraceStatus('problem', id, world.client)
  world.sim.sim.tenant.closeProblem(id)
  const mark = statusReadMark()
  t.equal(await dynatraceStatus('problem', id, world.client, undefined, mark), 'closed', 'asked after the mark: a read of its own, answered now')
  t.equal(world.sim.sim.traffic.find({ operation: 'getProblem' }).length, 2)
  release()
  t.equal(await first, 'open', 'the held read answers what it read before the close')
  t.equal(await joined, 'open', 'a caller without a mark shared it')
})

t.test('an OPEN judged after a RESOLVED does not take a status read sent before the RESOLVED as its own', async (t) => {
  let recordReads = 0
  const loop = await startLoop(t, {
    rules: 'mode: live\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n',
    wrapStore: (store): Store => ({
      ...store,
      problems: { ...store.problems, async get (kind, problemId) { const r = await store.problems.get(kind, problemId); recordReads++; return r } },
    }),
  })
  const id = loop.problem.problemId
  const wakeUntil = async (done: () => Promise<boolean> | boolean): Promise<void> => {
    for (let i = 0; i < 100_000 && !(await done()); i++) {
      loop.app.runner.wake()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  let release: (value?: unknown) => void = () => {}
  loop.dt.sim.addFault({ operation: 'getProblem', latencyPhase: 'after', hold: new Promise((resolve) => { release = resolve }), count: 1 })
  let first: Record<string, unknown> = {}
  t.equal(await loop.notify(loop.problem, (b) => { first = b; return b }), 202, 'an OPEN, whose status read (open) is held')
  await wakeUntil(() => loop.dt.sim.traffic.find({ operation: 'getProblem' }).length === 1)
  await loop.dt.sim.resolveProblem(id, { notify: false })
  t.equal(await loop.notify(), 202, 'the RESOLVED')
  await wakeUntil(async () => (await loop.store.problems.get('problem', id))?.status === 'closed')
  t.match(await loop.store.problems.get('problem', id), { status: 'closed', occurrence: 1 }, 'handled while the first read is held')
  // A second OPEN (an update: another body) reads the record (closed), then asks the API.
  const before = recordReads
  t.equal(await loop.notify(loop.problem, () => ({ ...first, ProblemTitle: `${String(first.ProblemTitle)} (update)` })), 202)
  // Its status read is asked in the microtasks right after the record read: a turn later it has
  // either joined the held read or sent its own.
  await wakeUntil(() => recordReads > before)
  await new Promise((resolve) => setImmediate(resolve))
  release()
  await loop.settle()
  t.match(await loop.store.problems.get('problem', id), { status: 'closed', occurrence: 1 }, 'not re-opened on an answer older than the RESOLVED')
  t.same((await loop.store.runs.list({ limit: 5 })).runs, [], 'nothing planned')
})
