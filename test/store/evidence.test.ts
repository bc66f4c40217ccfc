/**
 * The evidence store on both engines (issue 21): the recurrence gate's counting rule (SPEC 9),
 * when a run's problem resolved (the problem's endTime wins over an arrival time), the runs a
 * report reads, explanations, and `dt-remediator report` from the store.
 */
import t from 'tap'
import { report } from '../../src/cli/report-run.js'
import type { RunState } from '../../src/domain/runs.js'
import type { NewRun } from '../../src/store/runs.js'
import type { Store } from '../../src/store/index.js'
import { manualClock } from '../helpers/clock.js'
import { eachEngine, freshDataDir, openTestStore } from '../helpers/store.js'

const settings = { timeoutMs: 120_000, verifyAfterMs: 600_000, cooldownMs: 0, approvalTimeoutMs: 3_600_000, approval: false, steps: 1 }
const target = { kind: 'Deployment' as const, namespace: 'shop', name: 'checkout' }
let n = 0
function run (over: Partial<NewRun> = {}): NewRun {
  n++
  const problemId = over.problemId ?? `P${n}`
  return {
    id: `run-${n}`,
    key: `problem|${problemId}|${over.occurrence ?? 1}|restart|0|SERVICE-${n}`,
    kind: 'problem',
    problemId,
    displayId: `P-${problemId}`,
    occurrence: 1,
    notificationId: `n-${n}`,
    rule: 'restart',
    step: 0,
    entityId: `SERVICE-${n}`,
    action: 'kubernetes.restart',
    target,
    state: 'queued',
    reason: null,
    skipSource: null,
    dryRun: false,
    params: {},
    plan: {},
    facts: {},
    settings,
    note: 'planned',
    ...over,
  }
}

/** Inserts a run and takes it to `running` at the clock's now, then to `to`. */
async function ran (store: Store, r: NewRun, to: RunState): Promise<void> {
  await store.runs.insert([r])
  await store.runs.transition(r.id, ['queued'], 'running', 'go', { startedAt: store.clock.now() })
  await store.runs.transition(r.id, ['running'], to, 'done')
}

eachEngine(t, async (t, engine) => {
  t.test('recurrences: live successes of the action on the target, per other problem, within the window', async (t) => {
    const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
    const store = await openTestStore(t, engine, { clock })
    await ran(store, run({ problemId: 'OLD' }), 'succeeded')
    clock.advance(2 * 3_600_000)
    const since = clock.now()
    await ran(store, run({ problemId: 'A' }), 'succeeded')
    await ran(store, run({ problemId: 'A', occurrence: 2 }), 'succeeded')
    await ran(store, run({ problemId: 'B' }), 'failed')
    await ran(store, run({ problemId: 'C', dryRun: true }), 'dry_run')
    await ran(store, run({ problemId: 'D', action: 'kubernetes.rollback' }), 'succeeded')
    await ran(store, run({ problemId: 'E', target: { ...target, name: 'cart' } }), 'succeeded')
    await ran(store, run({ problemId: 'SELF' }), 'succeeded')
    clock.advance(1000)
    await ran(store, run({ problemId: 'F' }), 'succeeded')
    const found = await store.evidence.recurrences('kubernetes.restart', 'Deployment/shop/checkout', since, { kind: 'problem', problemId: 'SELF' })
    t.same(found.map((r) => r.problemId), ['F', 'A'], 'one per problem (a re-open is the same problem), newest first; not failed, dry-run, other actions or targets, itself, or before the window')
    t.equal(found[0]?.displayId, 'P-F')
  })

  t.test('resolution: the first arrival time stays, the problem\'s endTime replaces it; only that occurrence', async (t) => {
    const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
    const store = await openTestStore(t, engine, { clock })
    const first = run({ problemId: 'R' })
    const reopened = run({ problemId: 'R', occurrence: 2 })
    await ran(store, first, 'succeeded')
    await ran(store, reopened, 'succeeded')
    const start = clock.now()
    const marked = await store.evidence.markResolved({ kind: 'problem', problemId: 'R', occurrence: 1, at: start + 300_000, source: 'notification' })
    t.match(marked, [{ id: first.id, rule: 'restart', dryRun: false, state: 'succeeded', startedAt: start, resolvedAt: start + 300_000 }])
    t.same(await store.evidence.markResolved({ kind: 'problem', problemId: 'R', occurrence: 1, at: start + 400_000, source: 'status' }), [], 'a later reading does not move it')
    t.same(await store.evidence.markResolved({ kind: 'problem', problemId: 'R', occurrence: 1, at: start + 240_000, source: 'endTime' }), [], 'an endTime refines it, observed once already')
    const runs = await store.evidence.reportRuns(start - 1, start + 1)
    t.same(runs.map((r) => r.resolvedAt).sort(), [start + 240_000, null].sort(), 'the re-open is not resolved')
  })

  t.test('explanations by PID and by display id', async (t) => {
    const store = await openTestStore(t, engine)
    await store.evidence.saveExplanations('problem', 'PX', [{ notificationId: 'nx', step: 0, rule: 'r', occurrence: 1, explanation: { matched: false, reason: 'severity INFO not in [ERROR]' } }])
    await store.evidence.saveExplanations('problem', 'PX', [{ notificationId: 'nx', step: 0, rule: 'r', occurrence: 1, explanation: { matched: true } }])
    t.match(await store.evidence.explanations('PX'), [{ notificationId: 'nx', rule: 'r', explanation: { matched: false, reason: 'severity INFO not in [ERROR]' } }])
    t.equal((await store.evidence.explanations('PX')).length, 1, 'a resend keeps the first')
  })
})

t.test('dt-remediator report from the store (DTR_DATA_DIR), read-only', async (t) => {
  const dataDir = freshDataDir(t)
  const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
  const { createStore } = await import('../../src/store/index.js')
  const { openSqlite } = await import('../../src/store/engine/sqlite.js')
  const store = await createStore(await openSqlite(dataDir), { clock })
  for (let i = 0; i < 12; i++) {
    const live = run({ problemId: `L${i}` })
    await ran(store, live, 'succeeded')
    await store.evidence.markResolved({ kind: 'problem', problemId: `L${i}`, occurrence: 1, at: clock.now() + (i + 1) * 60_000, source: 'endTime' })
    const dry = run({ problemId: `D${i}`, rule: 'restart', dryRun: true })
    await ran(store, dry, 'dry_run')
    await store.evidence.markResolved({ kind: 'problem', problemId: `D${i}`, occurrence: 1, at: clock.now() + (i + 1) * 600_000, source: 'endTime' })
  }
  await store.close()
  let out = ''
  const io = { out: (s: string) => { out += s }, err: (s: string) => { out += s }, color: false }
  t.equal(await report({ since: '30d' }, { DTR_DATA_DIR: dataDir }, io, () => clock.now() + 1000), 0, out)
  t.match(out, /^restart\s+kubernetes\.restart\s+12 \(12 succeeded\)\s+0\/0\/0\s+n=12 p50 6 min p90 11 min\s+12 \(12 dry_run\)\s+0\/0\/0\s+n=12 p50 60 min p90 1\.8 h$/m)
  t.match(out, 'restart / kubernetes.restart: live resolves faster: median 6 min against 60 min without the action')
  out = ''
  t.equal(await report({ since: '30d' }, { DTR_DATA_DIR: freshDataDir(t) }, io), 1)
  t.match(out, /^report: no store in DTR_DATA_DIR/)
})

t.test('retention: a notification\'s explanation goes with it, once older than the cut-off', async (t) => {
  const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
  const store = await openTestStore(t, undefined, { clock })
  await store.evidence.saveExplanations('problem', 'PR', [{ notificationId: 'gone', step: 0, rule: 'r', occurrence: 1, explanation: { matched: false } }])
  await store.retention.pruneBatch(clock.now() - 1, 100)
  t.equal((await store.evidence.explanations('PR')).length, 1, 'younger than the cut-off: kept')
  clock.advance(60_000)
  await store.retention.pruneBatch(clock.now() - 1, 100)
  t.equal((await store.evidence.explanations('PR')).length, 0, 'older, its notification gone: pruned')
})
