/**
 * Several replicas on one PostgreSQL (SPEC 8): never act twice on one run, never run two actions
 * on one target at once, share the kill switch. Each replica is an app with its own connections
 * and runner, in one test process; the probe action counts what runs at once across all of them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import type { Store } from '../../src/store/index.js'
import { pauseBeforeTransition } from '../helpers/interleave.js'
import { startLoop } from '../helpers/runner.js'
import { postgresEngine, skipWithoutPostgres, testDatabaseUrl, type TestEngine } from '../helpers/store.js'

const PROBE = `export default ({ defineAction, z }) => defineAction({
  name: 'test.probe',
  description: 'Counts how many runs execute at once, across every replica of the test process; holds while the test says so',
  entityTypes: '*',
  params: z.object({}).strict(),
  needsTarget: true,
  async run (ctx) {
    const g = (globalThis.__probe ??= { running: 0, max: 0, runs: [] })
    g.running++
    g.max = Math.max(g.max, g.running)
    g.runs.push(ctx.runId)
    g.entered?.(ctx.runId)
    // No sleep widens a window: the test holds the first run here until it has seen every other
    // run try for the target and wait for its lock.
    if (g.hold !== undefined) await g.hold
    g.running--
    return { status: 'succeeded', summary: 'probed ' + ctx.target.name }
  },
})
`
interface Probe { running: number, max: number, runs: string[], hold?: Promise<void> | undefined, entered?: ((runId: string) => void) | undefined }
const probe = (): Probe => ((globalThis as { __probe?: Probe }).__probe ??= { running: 0, max: 0, runs: [] })

t.test('three replicas on one PostgreSQL', { skip: skipWithoutPostgres }, async (t) => {
  t.test('the same problem notified to all three (with merges): one run, one action, one comment', async (t) => {
    const loop = await startLoop(t, { engine: postgresEngine, replicas: 3 })
    const codes = await Promise.all([0, 1, 2].map(async (i) => loop.notify(undefined, (b) => ({ ...b, ProblemTitle: `Failure rate increase (merge ${i})` }), i)))
    t.same(codes, [202, 202, 202], 'three different notifications, one per replica')
    await loop.settle()
    t.equal((await loop.store.runs.list({ limit: 10 })).runs.length, 1, 'one run')
    t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length, 1, 'one action')
    t.equal(loop.comments().length, 1, 'one comment')
  })

  t.test('20 runs on one target, cooldown 0s: one after another, never two at once', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dtr-probe-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'probe.mjs'), PROBE)
    // Every replica's store counts the run jobs put back to wait for the target's lock.
    const lockWaits = { jobs: new Set<string>(), onWait: (_jobs: number): void => {} }
    const loop = await startLoop(t, {
      engine: postgresEngine,
      replicas: 3,
      wrapStore: (store) => ({
        ...store,
        jobs: {
          ...store.jobs,
          async retry (id, owner, delayMs, error) {
            const done = await store.jobs.retry(id, owner, delayMs, error)
            if (error.startsWith('waiting for the lock on ')) {
              lockWaits.jobs.add(id)
              lockWaits.onWait(lockWaits.jobs.size)
            }
            return done
          },
        },
      }),
      rules: `mode: live\ndefaults: { cooldown: 0s, timeout: 10m, maxRecurrences: { count: 0, per: 1h } }\nplugins: [${join(dir, 'probe.mjs')}]\nrules:\n  - name: probe\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    approval: true\n    actions: [{ use: test.probe }]\n`,
    })
    const problems = await Promise.all(Array.from({ length: 20 }, async (_, i) => loop.addProblem('checkout', `Failure ${i}`)))
    await Promise.all(problems.map(async (p, i) => loop.notify(p, undefined, i % 3)))
    await loop.settle()
    const waiting = (await loop.store.runs.list({ limit: 50, state: 'awaiting_approval' })).runs
    t.equal(waiting.length, 20)
    // The first run to start is held inside its action; the test goes on once each of the 19
    // others has been tried by some replica and put back to wait for the target's lock — or as
    // soon as a second run starts while the first is held (the lock failed).
    let release: () => void = () => {}
    const g = probe()
    g.hold = new Promise<void>((resolve) => { release = resolve })
    let checkpoint: () => void = () => {}
    const reached = new Promise<void>((resolve) => { checkpoint = resolve })
    g.entered = () => { if (g.runs.length > 1) checkpoint() }
    lockWaits.onWait = (jobs) => { if (jobs >= 19) checkpoint() }
    // Approved all at once, all 20 are queued together and every replica's workers reach for them.
    await Promise.all(waiting.map(async (r, i) => loop.replicas[i % 3]?.app.inject({ method: 'POST', url: `/api/runs/${r.id}/approve`, headers: { authorization: 'Bearer alice-admin-token' }, payload: {} })))
    for (const r of loop.replicas) r.app.runner.wake()
    await reached
    t.equal(g.runs.length, 1, 'while one run acts on the target, no other starts')
    t.equal(lockWaits.jobs.size, 19, 'every other run was tried and waits for the lock')
    g.hold = undefined
    release()
    for (let i = 0; i < 60 && g.runs.length < 20; i++) await loop.advance(1_000)
    t.equal(g.runs.length, 20, 'all 20 ran')
    t.equal(g.max, 1, 'never two at once on the target')
    t.equal((await loop.store.runs.list({ limit: 50, state: 'succeeded' })).runs.length, 20)
  })

  t.test('a cooldown race between two replicas: one run, the other skipped by cooldown', async (t) => {
    const loop = await startLoop(t, { engine: postgresEngine, replicas: 2, rules: 'mode: live\ndefaults: { cooldown: 1h }\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n' })
    const [a, b] = await Promise.all([loop.addProblem('checkout', 'Crash A'), loop.addProblem('checkout', 'Crash B')])
    await Promise.all([loop.notify(a, undefined, 0), loop.notify(b, undefined, 1)])
    for (let i = 0; i < 5; i++) await loop.advance(1_000)
    const runs = (await loop.store.runs.list({ limit: 10 })).runs
    t.same(runs.map((r) => r.state).sort(), ['skipped', 'succeeded'])
    t.match(runs.find((r) => r.state === 'skipped'), { reason: /^skipped by cooldown: kubernetes\.restart ran on Deployment shop\/checkout .* ago \(run .*\), cooldown 60 min/ })
    t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length, 1)
  })

  t.test('intake on a replica without a runner wakes a runner replica at once (LISTEN/NOTIFY), not at its hourly poll', async (t) => {
    const loop = await startLoop(t, { engine: postgresEngine, replicas: 2, runners: [false, true] })
    t.equal(await loop.notify(undefined, undefined, 0), 202)
    // Nobody calls wake() on the runner replica and its poll is an hour (test/helpers/runner.ts):
    // only the NOTIFY sent after intake committed can start it. The wait is for the outcome, with
    // a deadline far beyond what a loaded machine needs and far below the poll.
    const deadline = Date.now() + 60_000
    while (loop.comments().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    t.equal(loop.comments().length, 1, 'the rollback ran and its comment was posted without a poll')
    t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length, 1)
  })

  t.test('intake\'s NOTIFY names the notification queue: the other replica claims from it, and from no other queue', async (t) => {
    const claims = new Map<string, number>()
    const loop = await startLoop(t, {
      engine: postgresEngine,
      replicas: 2,
      runners: [false, true],
      rules: 'mode: live\nrules:\n  - name: process-groups-only\n    on: problem\n    when: { entityTypes: [PROCESS_GROUP] }\n    actions: [{ use: kubernetes.restart }]\n',
      wrapStore: (store, replica) => replica === 0
        ? store
        : { ...store, jobs: { ...store.jobs, claim: async (queue, owner, options) => { claims.set(queue, (claims.get(queue) ?? 0) + 1); return store.jobs.claim(queue, owner, options) } } },
    })
    claims.clear()
    t.equal(await loop.notify(undefined, undefined, 0), 202)
    // Replica 1's poll is an hour away: only the NOTIFY reaches it. Then its job is handled.
    const deadline = Date.now() + 60_000
    while (await loop.replicas[1]?.store.jobs.pending('notification') !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(await loop.store.jobs.pending('notification'), 0, 'the notification was handled on the runner replica')
    t.ok((claims.get('notification') ?? 0) >= 1, 'woken by the NOTIFY, it claimed from the notification queue')
    t.same([...claims].filter(([queue]) => queue !== 'notification'), [], 'and from no other queue: nothing else had work')
  })

  t.test('a NOTIFY naming a queue this version does not know (a later version\'s) wakes every worker', async (t) => {
    const claimed = new Set<string>()
    let databaseUrl = ''
    const engine: TestEngine = { ...postgresEngine, location: async (t) => { const l = await postgresEngine.location(t); databaseUrl = l.databaseUrl ?? ''; return l } }
    const loop = await startLoop(t, {
      engine,
      replicas: 2,
      runners: [false, true],
      wrapStore: (store, replica) => replica === 0
        ? store
        : { ...store, jobs: { ...store.jobs, claim: async (queue, owner, options) => { claimed.add(queue); return store.jobs.claim(queue, owner, options) } } },
    })
    await loop.settle()
    claimed.clear()
    const raw = new pg.Client({ connectionString: databaseUrl })
    await raw.connect()
    t.teardown(async () => raw.end())
    // As a replica of a later version would send it: its id, and a queue named after a colon.
    await raw.query("SELECT pg_notify('dtr_wake', current_schema() || ' ' || 'a-later-replica:a-queue-of-a-later-version')")
    // The runner replica's poll is an hour away: only the NOTIFY can make it claim.
    const deadline = Date.now() + 60_000
    while (claimed.size < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    t.same([...claimed].sort(), ['notification', 'plan', 'run', 'timer', 'writeback'], 'every queue\'s worker claimed')
  })

  t.test('a pause set on one replica stops runs on another', async (t) => {
    const loop = await startLoop(t, { engine: postgresEngine, replicas: 2 })
    const [first, second] = loop.replicas
    await first?.app.inject({ method: 'PUT', url: '/api/pause', headers: { authorization: 'Bearer alice-admin-token' }, payload: { paused: true, reason: 'freeze' } })
    await loop.notify(undefined, undefined, 1)
    await loop.settle()
    t.match((await second?.store.runs.list({ limit: 5 }))?.runs, [{ state: 'skipped', reason: /^skipped by the kill switch: paused by alice/ }])
    t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0)
  })

  t.test('an OPEN and a RESOLVED of a problem never seen, on two replicas at once: the RESOLVED is not overwritten, nothing acts', async (t) => {
    // FOR UPDATE locks no row where there is none yet: without a lock of the problem's own, the
    // RESOLVED commits "closed" while the OPEN's transaction is between its read and its write,
    // and the OPEN's upsert then turns the closed problem open again and plans for it.
    let application = ''
    const engine: TestEngine = { ...postgresEngine, location: async (t) => { const l = await postgresEngine.location(t); application = new URL(l.databaseUrl ?? '').searchParams.get('application_name') ?? ''; return l } }
    let armed = false
    let meanwhile: () => Promise<void> = async () => {}
    const loop = await startLoop(t, {
      engine,
      replicas: 2,
      rules: 'mode: live\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n',
      // Replica 0's first transaction pauses right after reading the problem under its lock.
      wrapStore: (store, replica): Store => replica !== 0
        ? store
        : {
            ...store,
            transaction: async (fn) => store.transaction(async (tx) => fn({
              ...tx,
              problems: {
                ...tx.problems,
                async lock (kind, problemId) {
                  const read = await tx.problems.lock(kind, problemId)
                  if (armed) { armed = false; await meanwhile() }
                  return read
                },
              },
            })),
          },
    })
    const id = loop.problem.problemId
    const admin = new pg.Client({ connectionString: testDatabaseUrl })
    await admin.connect()
    t.teardown(async () => admin.end())
    const waitingOnTheLock = async (): Promise<boolean> => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [application])).rowCount !== 0
    let how = ''
    meanwhile = async () => {
      await loop.dt.sim.resolveProblem(id, { notify: false })
      t.equal(await loop.notify(loop.problem, (b) => b, 1), 202, 'the RESOLVED, to the other replica')
      // Until the RESOLVED has either committed or is waiting for the OPEN's lock.
      for (let i = 0; i < 100_000 && how === ''; i++) {
        loop.replicas[1]?.app.runner.wake()
        if ((await loop.replicas[1]?.store.problems.get('problem', id))?.status === 'closed') how = 'committed first'
        else if (await waitingOnTheLock()) how = 'waits for the OPEN'
        else await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }
    armed = true
    t.equal(await loop.notify(loop.problem, (b) => ({ ...b, State: 'OPEN' }), 0), 202, 'the OPEN, to one replica')
    await loop.settle()
    t.equal(how, 'waits for the OPEN', 'the RESOLVED waited for the OPEN\'s transaction')
    t.match(await loop.store.problems.get('problem', id), { status: 'closed', occurrence: 1 }, 'the problem ends closed')
    const runs = (await loop.store.runs.list({ limit: 5 })).runs
    t.ok(runs.every((r) => r.state === 'cancelled'), 'any run planned was cancelled by the RESOLVED')
    t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && r.dryRun !== true).length, 0, 'nothing acted')
  })

  t.test('a pause answered 200 on one replica while another admits a run: the action never starts after the 200', async (t) => {
    // Admission reads the kill switch under the gates' lock; a pause written without that lock
    // commits, and is answered, between admission's read and its move to running.
    let application = ''
    const engine: TestEngine = { ...postgresEngine, location: async (t) => { const l = await postgresEngine.location(t); application = new URL(l.databaseUrl ?? '').searchParams.get('application_name') ?? ''; return l } }
    const admin = new pg.Client({ connectionString: testDatabaseUrl })
    await admin.connect()
    t.teardown(async () => admin.end())
    const waitingOnALock = async (): Promise<boolean> => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [application])).rowCount !== 0
    let how = ''
    let pauseAnswered: Promise<number> | undefined
    let interleaving: ReturnType<typeof pauseBeforeTransition> | undefined
    const loop = await startLoop(t, {
      engine,
      replicas: 2,
      rules: 'mode: live\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n',
      runners: [true, false],
      wrapStore: (store, replica) => {
        if (replica !== 0) return store
        interleaving = pauseBeforeTransition(store, (c) => c.to === 'running', async () => {
          const answered = loop.replicas[1]?.app.inject({ method: 'PUT', url: '/api/pause', headers: { authorization: 'Bearer alice-admin-token' }, payload: { paused: true, reason: 'freeze' } }).then((r) => r.statusCode)
          pauseAnswered = answered
          let done = false
          answered?.then(() => { done = true }, () => { done = true })
          for (let i = 0; i < 100_000 && how === ''; i++) {
            if (done) how = 'answered before the run moved'
            else if (await waitingOnALock()) how = 'waits for the admission'
            else await new Promise((resolve) => setTimeout(resolve, 1))
          }
        })
        return interleaving.store
      },
    })
    t.equal(await loop.notify(), 202)
    await loop.settle()
    t.ok(await interleaving?.fired, 'admission was paused between its read of the kill switch and its move to running')
    t.equal(how, 'waits for the admission', 'the pause waited for the admission that had read it off')
    t.equal(await pauseAnswered, 200)
    t.match((await loop.store.runs.list({ limit: 5 })).runs, [{ state: 'succeeded' }], 'the run admitted before the pause finishes, as a run in flight does')
  })
})
