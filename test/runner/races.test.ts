/**
 * Exactly once under races (issue 19, SPEC 8 and 9), as deterministic interleavings on both
 * engines: one side is paused between its read and its conditional update while the other side
 * commits (test/helpers/interleave.ts); the update then touches no row, and that must mean "the
 * run moved on", never "go".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { NOT_STARTED_STATES } from '../../src/domain/runs.js'
import { systemClock } from '../../src/clock.js'
import { approve } from '../../src/runner/approvals.js'
import type { Store } from '../../src/store/index.js'
import { pauseBeforeTransition } from '../helpers/interleave.js'
import { startLoop } from '../helpers/runner.js'
import { engines } from '../helpers/store.js'

const LOCK = 'target:Deployment/shop/checkout'
const RESTART = 'mode: live\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n'
const patches = (loop: { k8s: { sim: { requests: ReadonlyArray<{ method: string, dryRun?: boolean }> } } }): number => loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && r.dryRun !== true).length
/** The store, with `before` awaited ahead of each of its transactions (the hook decides whether to do anything). */
const beforeEachTransaction = (store: Store, before: () => Promise<void>): Store => ({
  ...store,
  transaction: async (fn) => { await before(); return store.transaction(fn) },
})

for (const engine of engines) {
  t.test(engine.name, { skip: engine.skip }, async (t) => {
    t.test('a RESOLVED that cancels the run between admission\'s read and its move to running: the action never runs', async (t) => {
      const bases: Store[] = []
      let interleaving: ReturnType<typeof pauseBeforeTransition> | undefined
      const loop = await startLoop(t, {
        engine,
        rules: RESTART,
        wrapStore: (store) => {
          bases.push(store)
          // The RESOLVED's cancellation (resolveOccurrence), committed while admission waits to write.
          interleaving = pauseBeforeTransition(store, (c) => c.to === 'running', async (other, call) => {
            await other.transaction(async (tx) => {
              const reason = 'the problem was resolved before the action started (RESOLVED notification)'
              t.ok(await tx.runs.transition(call.id, [...NOT_STARTED_STATES], 'cancelled', reason, { reason }), 'the RESOLVED cancels the queued run')
            })
          })
          return interleaving.store
        },
      })
      t.equal(await loop.notify(), 202)
      await loop.settle()
      const call = await interleaving?.fired
      t.ok(call, 'admission was paused at its write while the RESOLVED committed')
      const [run] = (await loop.store.runs.list({ limit: 5 })).runs
      t.equal(run?.state, 'cancelled', 'the run stays cancelled')
      t.notOk(run?.timeline.some((e) => e.state === 'running'), 'it never went running')
      t.equal(patches(loop), 0, 'the endpoint got no request')
      t.equal(await bases[0]?.leases.holder(LOCK), undefined, 'the target lock taken in that transaction is not left held')
      t.equal(await loop.store.jobs.pending('run'), 0, 'nothing left to retry')
    })

    t.test('two approvals at once: the one that commits first wins (200), the other gets 409 with the state; the record names the winner', async (t) => {
      let interleaving: ReturnType<typeof pauseBeforeTransition> | undefined
      let other: Awaited<ReturnType<typeof approve>> | undefined
      const loop = await startLoop(t, {
        engine,
        rules: RESTART.replace('    actions:', '    approval: true\n    actions:'),
        wrapStore: (store) => {
          // Bob's approval, on another replica, commits while Alice's request waits to write.
          interleaving = pauseBeforeTransition(store, (c) => c.to === 'queued' && c.from.includes('awaiting_approval'), async (s, call) => {
            other = await approve({ store: s, log: pino({ level: 'silent' }), clock: systemClock }, call.id, { tokenName: 'bob', from: 'replica 2' })
          })
          return interleaving.store
        },
      })
      t.equal(await loop.notify(), 202)
      await loop.settle()
      const [waiting] = (await loop.store.runs.list({ limit: 5, state: 'awaiting_approval' })).runs
      if (waiting === undefined) throw new Error('the run should wait for approval')
      const res = await loop.app.inject({ method: 'POST', url: `/api/runs/${waiting.id}/approve`, headers: { authorization: 'Bearer alice-admin-token' }, payload: {} })
      t.ok(await interleaving?.fired, 'Alice was paused between her read and her write')
      t.match(other, { ok: true, run: { state: 'queued', approvedBy: 'bob' } }, 'Bob, who committed first, won')
      t.equal(res.statusCode, 409, 'Alice, who read awaiting_approval too, gets 409')
      t.match(res.json(), { code: 'DTR_ERR_CONFLICT', message: /is queued, not awaiting_approval/, state: 'queued' })
      const view = await loop.store.runs.view(waiting.id)
      t.equal(view?.approvedBy, 'bob', 'the record names the one that won')
      t.same(view?.timeline.filter((e) => e.state === 'queued' && e.note.startsWith('approved')).map((e) => e.note), ['approved by bob from replica 2'], 'one approval recorded')
      await loop.settle()
      t.equal(patches(loop), 1, 'and the action ran once')
    })

    for (const freed of [true, false]) {
      t.test(freed ? 'a resumed run waits for its target lock when another run holds it, then resumes' : 'a resumed run whose target lock another run holds past its timeout fails, without acting', async (t) => {
        const dir = mkdtempSync(join(tmpdir(), 'dtr-resume-'))
        t.teardown(() => rmSync(dir, { recursive: true, force: true }))
        const name = `__resume_${engine.name}_${String(freed)}`
        // The first attempt hangs until its signal aborts; later ones return at once.
        writeFileSync(join(dir, 'stuck.mjs'), `export default ({ defineAction, z }) => defineAction({
  name: 'test.stuck-once',
  description: 'Hangs on its first attempt until aborted',
  entityTypes: '*',
  params: z.object({}).strict(),
  needsTarget: true,
  async run (ctx) {
    const g = (globalThis.${name} ??= { attempts: [], started: undefined })
    g.attempts.push(ctx.attempt)
    if (ctx.attempt === 1) {
      g.started?.()
      await new Promise((resolve, reject) => ctx.signal.addEventListener('abort', () => { g.aborted = true; reject(ctx.signal.reason) }, { once: true }))
    }
    return { status: 'succeeded', summary: 'done on attempt ' + ctx.attempt }
  },
})
`)
        const g = globalThis as unknown as Record<string, { attempts: number[], started: (() => void) | undefined, aborted?: boolean } | undefined>
        const stuck = (g[name] ??= { attempts: [], started: undefined })
        const started = new Promise<void>((resolve) => { stuck.started = resolve })
        const loop = await startLoop(t, {
          engine,
          rules: `mode: live\ndefaults: { timeout: 1h }\nplugins: [${join(dir, 'stuck.mjs')}]\nrules:\n  - name: stuck\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: test.stuck-once }]\n`,
          timings: { graceMs: 1_000, settleMs: 1_000 },
        })
        t.equal(await loop.notify(), 202)
        await started
        const [run] = (await loop.store.runs.list({ limit: 5 })).runs
        if (run === undefined) throw new Error('a run')
        t.equal(await loop.store.leases.holder(LOCK), run.id, 'the running run holds its target lock')
        // While it is interrupted, another run holds the target (its lease had run out, say).
        await loop.store.leases.release(LOCK, run.id)
        t.ok(await loop.store.leases.acquire(LOCK, 'another-run', 10 * 3_600_000))
        // The replica stops: past its grace period the action is aborted (then the clock stands
        // still, so the time an aborted handler has to settle never runs out), its job given back.
        const state = { closed: false }
        const closing = loop.stop().then(() => { state.closed = true })
        while (!state.closed && stuck.aborted !== true) {
          await new Promise((resolve) => setImmediate(resolve))
          loop.clock.advance(500)
        }
        await closing
        await loop.start()
        await loop.settle()
        t.same(stuck.attempts, [1], 'not resumed while another run holds the target')
        t.equal((await loop.store.runs.get(run.id))?.state, 'running')
        t.equal(await loop.store.leases.holder(LOCK), 'another-run')
        if (freed) {
          await loop.store.leases.release(LOCK, 'another-run')
          await loop.advance(1_000)
          t.same(stuck.attempts, [1, 2], 'resumed once the lock is free')
          t.match(await loop.store.runs.view(run.id), { state: 'succeeded', attempts: 2 })
          t.equal(await loop.store.leases.holder(LOCK), undefined, 'and its lock given back')
          return
        }
        await loop.advance(3_600_000)
        t.same(stuck.attempts, [1], 'never resumed under another run\'s lock')
        t.match(await loop.store.runs.view(run.id), { state: 'failed', reason: /^timed out after 3600 s: interrupted, then waiting for the lock on Deployment shop\/checkout, which another run holds/ })
        t.equal(await loop.store.leases.holder(LOCK), 'another-run', 'the other run keeps its lock')
        t.equal(patches(loop), 0)
      })
    }

    t.test('a RESOLVED handled after an OPEN read the Problems API, before its decision committed: nothing is planned, the problem stays closed', async (t) => {
      // The OPEN read the API (open), then the RESOLVED came and was handled in full; the OPEN's
      // read is stale by then. Judged on that read, the closed record would look re-opened.
      let armed = false
      let fired = false
      let base: Store | undefined
      let resolvedMeanwhile: () => Promise<void> = async () => {}
      const loop = await startLoop(t, {
        engine,
        rules: RESTART,
        wrapStore: (store) => {
          base = store
          return beforeEachTransaction(store, async () => {
            if (!armed) return
            armed = false
            await resolvedMeanwhile()
            fired = true
          })
        },
      })
      const id = loop.problem.problemId
      resolvedMeanwhile = async () => {
        await loop.dt.sim.resolveProblem(id, { notify: false })
        t.equal(await loop.notify(), 202, 'the RESOLVED is accepted')
        // Handled by the same runner while the OPEN waits: until the record says closed.
        for (let i = 0; i < 10_000 && (await base?.problems.get('problem', id))?.status !== 'closed'; i++) {
          loop.app.runner.wake()
          await new Promise((resolve) => setImmediate(resolve))
        }
        t.match(await base?.problems.get('problem', id), { status: 'closed', occurrence: 1 }, 'the RESOLVED was handled first')
      }
      armed = true
      t.equal(await loop.notify(loop.problem, (b) => ({ ...b, State: 'OPEN' })), 202)
      await loop.settle()
      t.ok(fired, 'the OPEN was paused before its first transaction while the RESOLVED was handled')
      t.same((await loop.store.runs.list({ limit: 5 })).runs, [], 'no run for either occurrence')
      t.match(await loop.store.problems.get('problem', id), { status: 'closed', occurrence: 1 }, 'not re-opened on the stale read')
      t.equal(patches(loop), 0, 'the endpoint got no request')
      t.equal(await loop.store.jobs.pending('notification'), 0, 'the OPEN was judged again, not left to retry')
    })

    t.test('an OPEN whose problem keeps changing is judged three times at once, then again later; it plans once things hold still', async (t) => {
      let interfere = 0
      let base: Store | undefined
      const loop = await startLoop(t, {
        engine,
        rules: RESTART,
        wrapStore: (store) => {
          base = store
          return beforeEachTransaction(store, async () => {
            if (interfere === 0) return
            // Another replica closes the occurrence this judgement is about to commit.
            interfere--
            const seen = await store.problems.get('problem', loop.problem.problemId)
            const occurrence = seen === undefined ? 1 : seen.status === 'closed' ? seen.occurrence + 1 : seen.occurrence
            await store.transaction(async (tx) => tx.problems.close({ kind: 'problem', problemId: loop.problem.problemId, displayId: null, occurrence, source: 'webhook' }))
          })
        },
      })
      interfere = 3
      t.equal(await loop.notify(), 202)
      await loop.settle()
      t.equal(interfere, 0, 'three judgements, each found the record moved on at its commit')
      t.same((await loop.store.runs.list({ limit: 5 })).runs, [], 'nothing planned on a judgement that did not hold')
      t.equal(await loop.store.jobs.pending('notification'), 1, 'the notification waits to be judged again, not dropped')
      t.match(await base?.problems.get('problem', loop.problem.problemId), { status: 'closed', occurrence: 3 })
      await loop.advance(5_000)
      const runs = (await loop.store.runs.list({ limit: 5 })).runs
      t.equal(runs.length, 1, 'planned once the record held still')
      t.match(runs[0], { state: 'succeeded', occurrence: 4 }, 'for the occurrence the API shows open again after the last close')
      t.equal(await loop.store.jobs.pending('notification'), 0)
    })

    t.test('an OPEN for a new problem commits its decision and its runs in one transaction', async (t) => {
      let transactions = 0
      const loop = await startLoop(t, {
        engine,
        // Matches nothing: no run, so every transaction counted is the notification's own.
        rules: 'mode: live\nrules:\n  - name: memory\n    on: problem\n    when: { entityTypes: [SERVICE], title: "memory" }\n    actions: [{ use: kubernetes.restart }]\n',
        wrapStore: (store) => beforeEachTransaction(store, async () => { transactions++ }),
      })
      transactions = 0
      t.equal(await loop.notify(), 202)
      await loop.settle()
      t.equal(transactions, 1, 'one commit: the problem opened with its (empty) plan')
      t.match(await loop.store.problems.get('problem', loop.problem.problemId), { status: 'open', occurrence: 1 })
    })

    t.test('a RESOLVED handled only after the re-open\'s OPEN was judged: the re-open is not lost, occurrence 2 is judged', async (t) => {
      // Dynatrace: open, resolved, re-opened. Our RESOLVED job waits (a retry, a slow replica)
      // while the re-open's OPEN is judged "still open" against a record nobody closed yet.
      let hold: Promise<void> | undefined
      let held = false
      let release: () => void = () => {}
      const loop = await startLoop(t, {
        engine,
        rules: 'mode: live\ndefaults: { cooldown: 0s }\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n',
        wrapStore: (store) => beforeEachTransaction(store, async () => {
          if (hold === undefined) return
          const waitFor = hold
          hold = undefined
          held = true
          await waitFor
        }),
      })
      const id = loop.problem.problemId
      t.equal(await loop.notify(), 202)
      await loop.settle()
      t.match(await loop.store.problems.get('problem', id), { status: 'open', occurrence: 1 })
      await loop.dt.sim.resolveProblem(id, { notify: false })
      hold = new Promise((resolve) => { release = resolve })
      t.equal(await loop.notify(), 202, 'the RESOLVED')
      const isHeld = (): boolean => held
      for (let i = 0; i < 100_000 && !isHeld(); i++) {
        loop.app.runner.wake()
        await new Promise((resolve) => setImmediate(resolve))
      }
      t.ok(held, 'the RESOLVED\'s transaction waits')
      t.match(await loop.dt.sim.reopenProblem(id, { notify: false }), { outcome: 'reopened' })
      t.equal(await loop.notify(loop.problem, (b) => ({ ...b, ProblemTitle: `${String(b.ProblemTitle)} (re-opened)` })), 202, 'the re-open\'s OPEN')
      for (let i = 0; i < 100_000 && (await loop.store.jobs.pending('notification')) > 1; i++) {
        loop.app.runner.wake()
        await new Promise((resolve) => setImmediate(resolve))
      }
      t.equal(await loop.store.jobs.pending('notification'), 1, 'the OPEN was judged (still open) while the RESOLVED waited')
      release()
      await loop.settle()
      t.match(await loop.store.problems.get('problem', id), { status: 'open', occurrence: 2 }, 'open, as Dynatrace shows it: the re-open is occurrence 2')
      const runs = (await loop.store.runs.list({ limit: 5 })).runs.sort((a, b) => a.occurrence - b.occurrence)
      t.match(runs, [{ occurrence: 1, state: 'succeeded' }, { occurrence: 2, state: 'succeeded' }], 'the re-open was judged and acted on')
      t.equal(patches(loop), 2)
    })

    t.test('SPEC 8: a run\'s timeline starts with planned, then queued', async (t) => {
      const loop = await startLoop(t, { engine, rules: RESTART })
      t.equal(await loop.notify(), 202)
      await loop.settle()
      const [run] = (await loop.store.runs.list({ limit: 5 })).runs
      t.same(run?.timeline.map((e) => e.state), ['planned', 'queued', 'running', 'succeeded'])
      t.match(run?.timeline[0], { state: 'planned', note: /^planned by rule restart \(step 1\)/ })
    })
  })
}
