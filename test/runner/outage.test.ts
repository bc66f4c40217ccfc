/**
 * An outage (issue 23): many problems notified at once are planned many at a time — each job
 * mostly waits for Dynatrace, so waiting one after another would make the last wait for all — and
 * their entity reads share requests. Dynatrace's concurrency stays the client's to bound.
 */
import t from 'tap'
import type { Store } from '../../src/store/index.js'
import { startLoop } from '../helpers/runner.js'

const RESTART_RULES = `
mode: dry-run
rules:
  - name: restart
    on: problem
    when: { entityTypes: [SERVICE] }
    actions: [{ use: kubernetes.restart }]
`

t.test('twelve problems notified together: planned many at a time, so their entity reads share requests; each planned and commented once', async (t) => {
  // The twelve are notified before any of them is taken up, as when Dynatrace sends an outage's
  // notifications faster than they are planned: nothing here may depend on how fast the machine
  // lets the test send them (taken up one by one as they came, on a loaded machine, their reads
  // did not overlap).
  let held = true
  const holdNotifications = (store: Store): Store => ({
    ...store,
    jobs: { ...store.jobs, claim: async (queue, owner, options) => (held && queue === 'notification' ? [] : store.jobs.claim(queue, owner, options)) },
  })
  const loop = await startLoop(t, { rules: RESTART_RULES, wrapStore: holdNotifications })
  const problems = []
  for (let i = 0; i < 12; i++) problems.push(await loop.addProblem(`svc-${i}`))
  loop.dt.sim.traffic.reset()
  // A slow status read: the jobs that are running at once all wait in it together.
  loop.dt.sim.addFault({ operation: 'getProblem', latencyMs: 300, latencyPhase: 'before', count: 12 })
  for (const p of problems) t.equal(await loop.notify(p), 202)
  t.equal(await loop.store.jobs.due('notification'), 12, 'all twelve wait to be taken up')
  held = false
  await loop.settle()
  t.ok(loop.dt.sim.traffic.maxInFlight <= 8, `within the client's bound of 8 requests at once (${loop.dt.sim.traffic.maxInFlight})`)
  for (const p of problems) {
    const runs = await loop.store.runs.ofOccurrence('problem', p.problemId, 1)
    t.equal(runs.length, 1, `${p.problemId}: planned once`)
    t.equal(runs[0]?.state, 'dry_run')
    t.equal(loop.comments(p).length, 1, `${p.problemId}: commented once`)
  }
  const entityReads = loop.dt.sim.traffic.find({ operation: 'getEntities' }).length
  // Six jobs at a time (as before) made 36: each job's reads found the others' already answered.
  t.ok(entityReads < 12 * 3, `${entityReads} entity requests for 12 problems (36 one each)`)
})
