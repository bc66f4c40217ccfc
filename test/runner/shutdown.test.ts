/**
 * Shutdown (SPEC 11): a replica that closes stops claiming, lets work in flight finish within its
 * grace period, and gives back the leases of what still runs — so another replica resumes the run
 * at once, with the same plan and the next attempt, instead of after the lease.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startLoop } from '../helpers/runner.js'
import { postgresEngine, skipWithoutPostgres } from '../helpers/store.js'
import type { Store } from '../../src/store/index.js'

// The first attempt hangs until its signal aborts; the second returns at once.
const STUCK = `export default ({ defineAction, z }) => defineAction({
  name: 'test.stuck-once',
  description: 'Hangs on its first attempt until aborted',
  entityTypes: '*',
  params: z.object({}).strict(),
  needsTarget: true,
  async plan (ctx) { return { plannedAt: ctx.plannedAt } },
  async run (ctx) {
    const g = (globalThis.__stuck ??= { attempts: [], started: undefined })
    g.attempts.push(ctx.attempt)
    if (ctx.attempt === 1) {
      g.started?.()
      await new Promise((resolve, reject) => ctx.signal.addEventListener('abort', () => { g.aborted = true; reject(ctx.signal.reason) }, { once: true }))
    }
    return { status: 'succeeded', summary: 'done on attempt ' + ctx.attempt + ', planned at ' + ctx.plan.plannedAt }
  },
})
`
interface Stuck { attempts: number[], started: (() => void) | undefined, aborted?: boolean }

t.test('a replica closing mid-run gives its lease back; another resumes the run at once', { skip: skipWithoutPostgres }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-stuck-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'stuck.mjs'), STUCK)
  let firstTookIt = false
  const loop = await startLoop(t, {
    engine: postgresEngine,
    replicas: 2,
    rules: `mode: live\ndefaults: { timeout: 1h }\nplugins: [${join(dir, 'stuck.mjs')}]\nrules:\n  - name: stuck\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: test.stuck-once }]\n`,
    timings: { graceMs: 5_000 },
    // Intake's NOTIFY wakes the second replica too, and on a loaded machine it may claim the
    // notification first and go on to plan and start the run itself: then the first replica's
    // close tests nothing and the run hangs for its hour. So the second replica finds no job,
    // of any queue, until the first has started the action.
    wrapStore: (store, replica): Store => replica === 0
      ? store
      : { ...store, jobs: { ...store.jobs, claim: async (queue, owner, options) => firstTookIt ? store.jobs.claim(queue, owner, options) : [] } },
  })
  const stuck: Stuck = ((globalThis as { __stuck?: Stuck }).__stuck ??= { attempts: [], started: undefined })
  const started = new Promise<void>((resolve) => { stuck.started = () => { firstTookIt = true; resolve() } })
  const [first, second] = loop.replicas
  if (first === undefined || second === undefined) throw new Error('two replicas')
  // Only the first replica runs it: the second finds no job until the first has started it.
  await loop.notify(undefined, undefined, 0)
  await started
  // Close the first replica and let its grace period pass (on the test's clock) while the
  // action is still stuck; once it is aborted the clock stands still, so the time the worker
  // gives an aborted handler to settle before releasing its lease never runs out here.
  const state = { closed: false }
  const closing = first.app.close().then(() => { state.closed = true })
  while (!state.closed && stuck.aborted !== true) {
    await new Promise((resolve) => setImmediate(resolve))
    loop.clock.advance(1_000)
  }
  await closing
  second.app.runner.wake()
  await second.app.runner.idle()
  const [run] = (await second.store.runs.list({ limit: 5 })).runs
  t.match(run, { state: 'succeeded', attempts: 2, outcome: { summary: /^done on attempt 2, planned at \d+$/ } })
  t.same(stuck.attempts, [1, 2], 'interrupted once, resumed once')
  t.match(run?.timeline.map((e) => e.note), [/planned/, /queued/, /attempt 1/, /attempt 2: resumed after an interruption, with the same plan/, /done on attempt 2/])
  t.equal(loop.comments().length, 1, 'one result comment')
})
