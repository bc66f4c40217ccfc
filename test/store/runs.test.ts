/**
 * Runs, problems, the outbox and leases, on both engines.
 */
import t from 'tap'
import type { NewRun } from '../../src/store/runs.js'
import { manualClock } from '../helpers/clock.js'
import { eachEngine, openTestStore } from '../helpers/store.js'

const settings = { timeoutMs: 120_000, verifyAfterMs: 600_000, cooldownMs: 1_800_000, approvalTimeoutMs: 3_600_000, approval: false, steps: 2 }
let n = 0
function run (over: Partial<NewRun> = {}): NewRun {
  n++
  return {
    id: `run-${n}`,
    key: `problem|P1|1|rollback|0|SERVICE-${n}`,
    kind: 'problem',
    problemId: 'P1',
    displayId: 'P-1',
    occurrence: 1,
    notificationId: 'n-1',
    rule: 'rollback',
    step: 0,
    entityId: `SERVICE-${n}`,
    action: 'kubernetes.rollback',
    target: { kind: 'Deployment', namespace: 'shop', name: `app-${n}` },
    state: 'queued',
    reason: null,
    skipSource: null,
    dryRun: false,
    params: {},
    plan: { toRevision: 1 },
    facts: { entity: { id: `SERVICE-${n}` } },
    settings,
    note: 'planned: rule rollback matched',
    ...over,
  }
}

eachEngine(t, async (t, engine) => {
  t.test('a run key is taken once: a second insert of the same key inserts nothing', async (t) => {
    const store = await openTestStore(t, engine)
    const first = run()
    t.same(await store.runs.insert([first]), [first.id])
    t.same(await store.runs.insert([{ ...first, id: 'another-id' }]), [], 'same key, another id: nothing')
    const got = await store.runs.get(first.id)
    t.match(got, { id: first.id, state: 'queued', target: first.target, dryRun: false, plan: { toRevision: 1 }, settings, attempts: 0 })
    t.equal(await store.runs.get('another-id'), undefined)
  })

  t.test('transitions are conditional and leave a timeline', async (t) => {
    const clock = manualClock(Date.parse('2024-05-01T10:00:00Z'))
    const store = await openTestStore(t, engine, { clock })
    const r = run()
    await store.runs.insert([r])
    clock.advance(1000)
    t.ok(await store.runs.transition(r.id, ['queued'], 'running', 'attempt 1', { attempts: 1, startedAt: clock.now() }))
    t.notOk(await store.runs.transition(r.id, ['queued'], 'running', 'attempt 1 again'), 'a second process does not take it from queued')
    clock.advance(2000)
    t.ok(await store.runs.transition(r.id, ['running'], 'succeeded', 'rolled back', { outcome: { status: 'succeeded', summary: 'done' } }))
    const view = await store.runs.view(r.id)
    t.match(view, { state: 'succeeded', attempts: 1, outcome: { status: 'succeeded', summary: 'done' }, createdAt: '2024-05-01T10:00:00.000Z', updatedAt: '2024-05-01T10:00:03.000Z' })
    t.same(view?.timeline, [
      { at: '2024-05-01T10:00:00.000Z', state: 'planned', note: 'planned: rule rollback matched' },
      { at: '2024-05-01T10:00:00.000Z', state: 'queued', note: 'queued' },
      { at: '2024-05-01T10:00:01.000Z', state: 'running', note: 'attempt 1' },
      { at: '2024-05-01T10:00:03.000Z', state: 'succeeded', note: 'rolled back' },
    ])
    const record = await store.runs.get(r.id)
    t.equal(record?.endedAt, clock.now(), 'a final state sets ended_at')
    await store.runs.update(r.id, { verification: { verdict: 'resolved', at: '2024-05-01T10:10:00.000Z', note: 'closed' } }, { state: 'succeeded', note: 'verified: resolved' })
    t.match(await store.runs.view(r.id), { verification: { verdict: 'resolved' }, timeline: { length: 5 } })
  })

  t.test('SPEC 8: a timeline starts with planned, then the state planning put the run in', async (t) => {
    const store = await openTestStore(t, engine)
    const queued = run({ stateNote: 'queued for the safety gates' })
    const skipped = run({ state: 'skipped', reason: 'no target', stateNote: 'skipped when planned: no target' })
    await store.runs.insert([queued, skipped])
    t.match((await store.runs.view(queued.id))?.timeline, [{ state: 'planned', note: 'planned: rule rollback matched' }, { state: 'queued', note: 'queued for the safety gates' }])
    t.match((await store.runs.view(skipped.id))?.timeline, [{ state: 'planned' }, { state: 'skipped', note: 'skipped when planned: no target' }])
  })

  t.test('the store refuses a move the state machine does not allow, whatever the row holds', async (t) => {
    const store = await openTestStore(t, engine)
    const r = run()
    await store.runs.insert([r])
    await t.rejects(store.runs.transition(r.id, ['queued'], 'expired', 'no'), { code: 'DTR_ERR_INTERNAL', message: /illegal run transition queued → expired/ }, 'queued never expires (only an approval does)')
    await t.rejects(store.runs.transition(r.id, ['queued', 'succeeded'], 'running', 'no'), /succeeded\|?.*→ running|illegal run transition/, 'one illegal source refuses the whole move')
    t.equal((await store.runs.get(r.id))?.state, 'queued', 'nothing written')
    t.match((await store.runs.view(r.id))?.timeline, { length: 2 })
    t.ok(await store.runs.transition(r.id, ['queued'], 'failed', 'action gone'), 'queued → failed: an action no longer registered')
    await t.rejects(store.runs.transition(r.id, ['failed'], 'queued', 'revive'), /illegal run transition failed → queued/, 'a final state is never left')
    await t.rejects(store.runs.insert([run({ state: 'running' })]), /illegal run transition planned → running/, 'a run is never inserted running')
  })

  t.test('list pages newest first by cursor, and filters by problem (PID or display id) and state', async (t) => {
    const clock = manualClock()
    const store = await openTestStore(t, engine, { clock })
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = run(i === 4 ? { problemId: 'P2', displayId: 'P-2', key: `k-${i}`, state: 'skipped' } : { key: `k-${i}` })
      ids.push(r.id)
      await store.runs.insert([r])
      clock.advance(10)
    }
    const page1 = await store.runs.list({ limit: 2 })
    t.same(page1.runs.map((r) => r.id), [ids[4], ids[3]])
    t.ok(page1.nextCursor)
    const page2 = await store.runs.list({ limit: 2, cursor: page1.nextCursor ?? undefined })
    t.same(page2.runs.map((r) => r.id), [ids[2], ids[1]])
    const page3 = await store.runs.list({ limit: 2, cursor: page2.nextCursor ?? undefined })
    t.same(page3.runs.map((r) => r.id), [ids[0]])
    t.equal(page3.nextCursor, null)
    t.same((await store.runs.list({ limit: 10, problemId: 'P-2' })).runs.map((r) => r.id), [ids[4]])
    t.same((await store.runs.list({ limit: 10, state: 'skipped' })).runs.map((r) => r.id), [ids[4]])
    t.same((await store.runs.byProblem('P1')).map((r) => r.id), ids.slice(0, 4), 'oldest first for a problem')
  })

  t.test('gate facts: the last live start of an action on a target, and live starts in a window', async (t) => {
    const clock = manualClock(1_000_000)
    const store = await openTestStore(t, engine, { clock })
    const shared = { kind: 'Deployment' as const, namespace: 'shop', name: 'checkout' }
    const a = run({ target: shared, key: 'a' })
    const b = run({ target: shared, key: 'b', dryRun: true })
    const c = run({ target: { kind: 'Deployment', namespace: 'pay', name: 'api' }, key: 'c', rule: 'other' })
    await store.runs.insert([a, b, c])
    await store.runs.transition(a.id, ['queued'], 'running', 'go', { startedAt: 1_000_000 })
    clock.advance(5000)
    await store.runs.transition(b.id, ['queued'], 'running', 'go', { startedAt: 1_005_000 })
    await store.runs.transition(c.id, ['queued'], 'running', 'go', { startedAt: 1_005_000 })
    t.same(await store.runs.lastStarted('kubernetes.rollback', { targetKey: 'Deployment/shop/checkout' }, 0), { id: a.id, startedAt: 1_000_000 }, 'dry runs use no cooldown')
    t.equal(await store.runs.lastStarted('kubernetes.rollback', { targetKey: 'Deployment/shop/checkout' }, 1_000_001), undefined, 'outside the window')
    t.equal(await store.runs.lastStarted('kubernetes.restart', { targetKey: 'Deployment/shop/checkout' }, 0), undefined, 'per action')
    t.equal(await store.runs.countStarted(0, 'global'), 2)
    t.equal(await store.runs.countStarted(0, { namespace: 'shop' }), 1)
    t.equal(await store.runs.countStarted(0, { rule: 'other' }), 1)
    t.equal(await store.runs.countStarted(1_000_001, 'global'), 1)
    t.equal(await store.runs.pending(), 3)
  })

  t.test('problems: occurrences open and close; the same occurrence keeps its start', async (t) => {
    const clock = manualClock(1000)
    const store = await openTestStore(t, engine, { clock })
    await store.problems.open({ kind: 'problem', problemId: 'P1', displayId: 'P-1', occurrence: 1, source: 'reconcile' })
    clock.advance(1000)
    await store.problems.open({ kind: 'problem', problemId: 'P1', displayId: null, occurrence: 1, source: 'webhook' })
    t.match(await store.problems.get('problem', 'P1'), { occurrence: 1, status: 'open', openedAt: 1000, displayId: 'P-1', source: 'reconcile' })
    clock.advance(1000)
    await store.problems.close({ kind: 'problem', problemId: 'P1', displayId: 'P-1', occurrence: 1, source: 'webhook' })
    t.match(await store.problems.get('problem', 'P1'), { status: 'closed', closedAt: 3000 })
    t.same(await store.problems.listOpen(10), [])
    clock.advance(1000)
    await store.problems.open({ kind: 'problem', problemId: 'P1', displayId: 'P-1', occurrence: 2, source: 'webhook' })
    t.match(await store.problems.get('problem', 'P1'), { occurrence: 2, status: 'open', openedAt: 4000, closedAt: null, source: 'webhook' })
    t.equal((await store.problems.listOpen(10)).length, 1)
    const locked = await store.transaction(async (tx) => tx.problems.lock('problem', 'P1'))
    t.match(locked, { occurrence: 2 })
  })

  t.test('the outbox adds a write-back once per key, with its delivery job, and keeps its backlog', async (t) => {
    const clock = manualClock(5000)
    const store = await openTestStore(t, engine, { clock })
    const item = { key: 'result:r1', runId: 'r1', kind: 'comment' as const, problemId: 'P1', payload: { message: 'm', context: 'dt-remediator' }, marker: 'dt-remediator run r1' }
    const id = await store.transaction(async (tx) => tx.outbox.add(item))
    t.ok(id)
    t.equal(await store.outbox.add(item), undefined, 'the same key again: nothing')
    t.equal(await store.jobs.pending('writeback'), 1)
    t.same(await store.outbox.backlog(), { pending: 1, oldestAt: 5000 })
    await store.outbox.attempted(id as string, '503')
    t.match(await store.outbox.get(id as string), { state: 'pending', attempts: 1, lastError: '503', payload: item.payload })
    clock.advance(10)
    await store.outbox.delivered(id as string)
    t.match(await store.outbox.get(id as string), { state: 'delivered', attempts: 2, deliveredAt: 5010 })
    t.same(await store.outbox.backlog(), { pending: 0, oldestAt: null })
    const other = await store.outbox.add({ ...item, key: 'verdict:r1' })
    await store.outbox.failed(other as string, '404 not found')
    t.same((await store.outbox.byRun('r1')).map((w) => w.state), ['delivered', 'failed'])
  })

  t.test('leases: one holder at a time, extended by its holder, free once expired or released', async (t) => {
    const clock = manualClock(0)
    const store = await openTestStore(t, engine, { clock })
    t.ok(await store.leases.acquire('target:Deployment/shop/checkout', 'run-a', 1000))
    t.notOk(await store.leases.acquire('target:Deployment/shop/checkout', 'run-b', 1000))
    t.ok(await store.leases.acquire('target:Deployment/shop/checkout', 'run-a', 1000), 'the holder extends it')
    t.equal(await store.leases.holder('target:Deployment/shop/checkout'), 'run-a')
    clock.advance(1001)
    t.equal(await store.leases.holder('target:Deployment/shop/checkout'), undefined)
    t.ok(await store.leases.acquire('target:Deployment/shop/checkout', 'run-b', 1000), 'expired: another takes it')
    await store.leases.release('target:Deployment/shop/checkout', 'run-a')
    t.equal(await store.leases.holder('target:Deployment/shop/checkout'), 'run-b', 'only the holder releases')
    await store.leases.release('target:Deployment/shop/checkout', 'run-b')
    t.ok(await store.leases.acquire('target:Deployment/shop/checkout', 'run-c', 1000))
  })

  t.test('retention: finished runs of closed problems go with their timelines and delivered write-backs; nothing else', async (t) => {
    const DAY = 86_400_000
    const clock = manualClock(0)
    const store = await openTestStore(t, engine, { clock })
    const closed = run({ problemId: 'PC', key: 'closed' })
    const open = run({ problemId: 'PO', key: 'open' })
    const pending = run({ problemId: 'PC', key: 'pending' })
    const unfinished = run({ problemId: 'PC', key: 'unfinished' })
    await store.problems.open({ kind: 'problem', problemId: 'PO', displayId: null, occurrence: 1, source: 'webhook' })
    await store.runs.insert([closed, open, pending, unfinished])
    for (const r of [closed, open, pending]) {
      await store.runs.transition(r.id, ['queued'], 'running', 'go')
      await store.runs.transition(r.id, ['running'], 'succeeded', 'done')
    }
    const delivered = await store.outbox.add({ key: `result:${closed.id}`, runId: closed.id, kind: 'comment', problemId: 'PC', payload: {}, marker: 'm1' })
    await store.outbox.delivered(delivered as string)
    await store.outbox.add({ key: `result:${pending.id}`, runId: pending.id, kind: 'comment', problemId: 'PC', payload: {}, marker: 'm2' })
    await store.problems.close({ kind: 'problem', problemId: 'PC', displayId: null, occurrence: 1, source: 'webhook' })
    clock.advance(40 * DAY)
    const young = run({ problemId: 'PC', key: 'young' })
    await store.runs.insert([young])
    await store.runs.transition(young.id, ['queued'], 'running', 'go')
    await store.runs.transition(young.id, ['running'], 'succeeded', 'done')
    const result = await store.retention.pruneBatch(clock.now() - 30 * DAY, 100)
    t.equal(result.runs, 1, 'only the finished run of the closed problem')
    t.equal(await store.runs.get(closed.id), undefined)
    t.same(await store.outbox.byRun(closed.id), [], 'its delivered write-back went with it')
    t.same((await store.runs.view(open.id))?.state, 'succeeded', 'a run of a problem still open stays')
    t.ok(await store.runs.get(pending.id), 'a run whose write-back is still pending stays')
    t.ok(await store.runs.get(unfinished.id), 'a run not finished stays')
    t.ok(await store.runs.get(young.id), 'a run younger than the retention stays')
    t.ok(await store.problems.get('problem', 'PC'), 'the closed problem stays while some of its runs do')
  })
})
