/**
 * One notification with thousands of impacted entities must never take the service down
 * (issue 19 item 6): the entities are read in tens of batched requests (each selector within the
 * API's 2,000 characters, which the simulator enforces), the runs are inserted in chunks, no run
 * copies the problem's whole entity list into its facts, and runs ending alike share one comment,
 * on both engines.
 */
import t from 'tap'
import { eachEngine } from '../helpers/store.js'
import { startLoop } from '../helpers/runner.js'

const RESTART_RULES = `
mode: live
rules:
  - name: restart-service
    on: problem
    when: { entityTypes: [SERVICE] }
    actions: [{ use: kubernetes.restart }]
`

const ENTITIES = 2000

eachEngine(t, async (t, engine) => {
  const loop = await startLoop(t, { engine, rules: RESTART_RULES })
  const ids: string[] = []
  for (let i = 0; i < ENTITIES; i++) {
    ids.push(loop.dt.sim.addEntity({ entityId: `SERVICE-AAAA${i.toString(16).toUpperCase().padStart(12, '0')}`, type: 'SERVICE', displayName: `svc-${i}` }).entityId)
  }
  const { problem } = await loop.dt.sim.openProblem({ title: 'Failure rate increase', impactedEntities: ids, severityLevel: 'ERROR', startTime: loop.clock.now(), notify: false })
  loop.dt.sim.traffic.reset()
  // Node warns of a "possible memory leak" when one AbortSignal has more than 10 listeners: a
  // job's 2,000 reads each listen on its signal until answered. That is by design, and an
  // operator reading the service's stderr must not be told otherwise.
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  t.equal(await loop.notify(problem), 202)
  await loop.settle()
  t.same(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [], 'no listener-leak warning for a job\'s many reads')

  const traffic = loop.dt.sim.traffic.find({})
  const entityReads = traffic.filter((r) => r.operation === 'getEntity' || r.operation === 'getEntities')
  t.ok(entityReads.length <= 60, `${ENTITIES} entities read in ${entityReads.length} requests (tens, not thousands)`)
  t.same(traffic.filter((r) => r.status === 400).map((r) => r.url.slice(0, 120)), [], 'no request refused (every selector within 2,000 characters)')
  const selectorLengths = entityReads.map((r) => new URL(r.url, 'http://x').searchParams.get('entitySelector')?.length ?? 0)
  t.ok(Math.max(...selectorLengths) <= 2000, `longest selector ${Math.max(...selectorLengths)} characters`)

  const runs = await loop.store.runs.ofOccurrence('problem', problem.problemId, 1)
  t.equal(runs.length, ENTITIES, 'a run per entity, all inserted')
  const biggest = Math.max(...runs.map((r) => JSON.stringify(r.facts).length))
  t.ok(biggest < 2048, `each run's facts are small (largest ${biggest} bytes), not a copy of every entity id`)
  t.equal(await loop.store.jobs.pending('notification'), 0, 'the notification job is done, not waiting to be retried')
  const comments = loop.comments(problem)
  t.equal(comments.length, 1, `one summary comment for ${ENTITIES} runs with the same outcome, not one each (${comments.length})`)
  t.match(comments[0], new RegExp(`kubernetes\\.restart skipped for ${ENTITIES} entities`))
  t.match(comments[0], /and 1990 more/)
})
