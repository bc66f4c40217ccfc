/**
 * A problem with thousands of impacted entities (issue 19 item 6): its runs are inserted in
 * chunks, within SQLite's bound-variable limit and PostgreSQL's 65,535 parameters, on both engines.
 */
import t from 'tap'
import { chunked, MAX_BOUND_PARAMETERS, type NewRun } from '../../src/store/runs.js'
import { eachEngine, openTestStore } from '../helpers/store.js'

const settings = { timeoutMs: 120_000, verifyAfterMs: 600_000, cooldownMs: 1_800_000, approvalTimeoutMs: 3_600_000, approval: false, steps: 1 }
const run = (i: number): NewRun => ({
  id: `run-${i}`,
  key: `problem|P1|1|restart|0|SERVICE-${i}`,
  kind: 'problem',
  problemId: 'P1',
  displayId: 'P-1',
  occurrence: 1,
  notificationId: 'n-1',
  rule: 'restart',
  step: 0,
  entityId: `SERVICE-${i}`,
  action: 'kubernetes.restart',
  target: null,
  state: 'skipped',
  reason: 'no target',
  skipSource: 'target',
  dryRun: false,
  params: {},
  plan: null,
  facts: { entity: { id: `SERVICE-${i}` } },
  settings,
  note: 'skipped when planned: no target',
})

t.test('chunked keeps each statement within the parameter budget', async (t) => {
  const rows = Array.from({ length: 10 }, (_, i) => ({ a: i, b: i, c: i }))
  t.same(chunked(rows, 9).map((c) => c.length), [3, 3, 3, 1])
  t.same(chunked([], 9), [])
  t.same(chunked(rows, 1).length, 10, 'at least one row per chunk')
})

eachEngine(t, async (t, engine) => {
  t.test('5,000 runs of one notification are inserted in one transaction, and a resend inserts none', async (t) => {
    const store = await openTestStore(t, engine)
    const runs = Array.from({ length: 5000 }, (_, i) => run(i))
    const ids = await store.transaction(async (tx) => tx.runs.insert(runs))
    t.equal(ids.length, 5000)
    t.equal((await store.runs.list({ limit: 10, problemId: 'P1' })).runs.length, 10)
    const again = await store.transaction(async (tx) => tx.runs.insert(runs.map((r) => ({ ...r, id: `${r.id}-again` }))))
    t.equal(again.length, 0, 'every key is taken already')
    t.ok(MAX_BOUND_PARAMETERS < 32_766)
  })
})
