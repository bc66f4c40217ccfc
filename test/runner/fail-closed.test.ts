/**
 * Issue 18: every check that reads something fails closed. A workload that cannot be read for its
 * opt-out annotation is never acted on; a rule removed by a reload starts nothing; an approved run
 * is timed from its approval.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { QUEUES } from '../../src/runner/queues.js'
import { startLoop, type Loop } from '../helpers/runner.js'

const CHECKOUT = '/apis/apps/v1/namespaces/shop/deployments/checkout'
const admin = { authorization: 'Bearer alice-admin-token' }
const patches = (loop: Loop): number => loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length
const runsOf = async (loop: Loop) => (await loop.store.runs.list({ limit: 10 })).runs

const RESTART = 'mode: live\ndefaults: { timeout: 2m }\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n'
const APPROVED_RESTART = 'mode: live\ndefaults: { timeout: 2m, cooldown: 0s }\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    approval: true\n    actions: [{ use: kubernetes.restart }]\n'

function annotate (loop: Loop): void {
  const live = loop.k8s.sim.get('Deployment', 'shop', 'checkout')
  loop.k8s.sim.apply({ ...live, metadata: { ...live?.metadata, annotations: { ...live?.metadata.annotations, 'dt-remediator.io/skip': 'true' } } } as never)
  loop.k8s.sim.clearRequests()
}

t.test('one 503 in front of the first GET of an annotated Deployment: it is not restarted', async (t) => {
  const loop = await startLoop(t, { rules: RESTART })
  annotate(loop)
  loop.k8s.sim.injectFault({ method: 'GET', path: CHECKOUT, status: 503, count: 1 })
  await loop.notify()
  await loop.settle()
  for (let i = 0; i < 10 && (await runsOf(loop))[0]?.state === 'queued'; i++) await loop.advance(15_000)
  t.equal(patches(loop), 0, 'never patched')
  t.match(await runsOf(loop), [{ state: 'skipped', reason: /^skipped by scope: Deployment shop\/checkout is annotated dt-remediator.io\/skip: "true"$/ }])
})

t.test('a workload that stays unreadable: the run waits within its timeout, then is skipped saying so', async (t) => {
  const loop = await startLoop(t, { rules: RESTART })
  loop.k8s.sim.injectFault({ method: 'GET', path: CHECKOUT, status: 503, count: 1_000 })
  await loop.notify()
  await loop.settle()
  t.match(await runsOf(loop), [{ state: 'queued' }], 'waiting, not acting')
  for (let i = 0; i < 20 && (await runsOf(loop))[0]?.state === 'queued'; i++) await loop.advance(15_000)
  t.match(await runsOf(loop), [{ state: 'skipped', reason: /^skipped by scope: Deployment shop\/checkout could not be read for its dt-remediator.io\/skip annotation .*for longer than the run's timeout; not acting without it$/ }])
  t.equal(patches(loop), 0)
  t.match(loop.comments().at(-1), /skipped by scope: Deployment shop\/checkout could not be read/)
})

t.test('a rule removed by a reload: its run awaiting approval is cancelled at once, and approving it answers 409', async (t) => {
  const file = join(t.testdir(), 'remediation.yaml')
  writeFileSync(file, APPROVED_RESTART)
  const loop = await startLoop(t, { rulesFile: file })
  await loop.notify()
  await loop.settle()
  const [waiting] = await runsOf(loop)
  t.match(waiting, { state: 'awaiting_approval' })
  writeFileSync(file, 'mode: live\nrules: []\n')
  const reloaded = await loop.app.rules.reload()
  t.ok(reloaded.ok, 'reloaded')
  t.match(await runsOf(loop), [{ state: 'cancelled', reason: /^rule removed by a reload: rule restart is no longer in the rules file$/ }])
  const res = await loop.app.inject({ method: 'POST', url: `/api/runs/${waiting?.id ?? ''}/approve`, headers: admin, payload: {} })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { message: /is cancelled, not awaiting_approval/, state: 'cancelled' }, 'the answer says its state: cancelled')
  await loop.settle()
  t.equal(patches(loop), 0)
})

t.test('admission checks the rule again: a run queued by a replica with the old rules is cancelled, not run', async (t) => {
  const file = join(t.testdir(), 'remediation.yaml')
  writeFileSync(file, APPROVED_RESTART)
  const loop = await startLoop(t, { rulesFile: file })
  await loop.notify()
  await loop.settle()
  const [waiting] = await runsOf(loop)
  const record = await loop.store.runs.get(waiting?.id ?? '')
  if (record === undefined) throw new Error('no run')
  // Another replica, not yet reloaded, planned and queued a run of a rule this one no longer has.
  writeFileSync(file, 'mode: live\nrules:\n  - name: other\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    approval: true\n    actions: [{ use: kubernetes.restart }]\n')
  t.ok((await loop.app.rules.reload()).ok)
  const [id] = await loop.store.runs.insert([{ ...record, id: '00000000-0000-4000-8000-000000000018', key: `${record.key}:stale`, state: 'queued', approvedBy: 'alice', note: 'queued by a replica with the old rules' } as never])
  t.ok(id, 'inserted')
  await loop.store.jobs.enqueue(QUEUES.run, 'stale-run', { runId: '00000000-0000-4000-8000-000000000018' })
  loop.app.runner.wake()
  await loop.settle()
  t.match(await loop.store.runs.get('00000000-0000-4000-8000-000000000018'), { state: 'cancelled', reason: /^rule removed by a reload: rule restart is no longer in the rules file$/ })
  t.equal(patches(loop), 0)
})

t.test('a run approved after its timeout passed runs normally: timed from its approval', async (t) => {
  const loop = await startLoop(t, { rules: APPROVED_RESTART })
  await loop.notify()
  await loop.settle()
  const [waiting] = await runsOf(loop)
  t.match(waiting, { state: 'awaiting_approval' })
  await loop.advance(10 * 60_000)
  // The first status read after the approval fails (every client retry): a wait, not a skip.
  const fault = loop.dt.sim.addFault({ operation: 'getProblem', status: 500, count: 5 })
  const res = await loop.app.inject({ method: 'POST', url: `/api/runs/${waiting?.id ?? ''}/approve`, headers: admin, payload: {} })
  t.equal(res.statusCode, 200)
  await loop.settle()
  t.ok(fault.hits >= 1, 'the fault was met')
  for (let i = 0; i < 5 && (await runsOf(loop))[0]?.state === 'queued'; i++) await loop.advance(15_000)
  t.match(await runsOf(loop), [{ state: 'succeeded' }])
  t.equal(patches(loop), 1, 'restarted once')
})
