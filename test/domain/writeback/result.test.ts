import t from 'tap'
import { resultComment, resultEvent, resultMarker, verdictComment, verdictMarker, type CommentRun } from '../../../src/domain/writeback/result.js'

const run: CommentRun = {
  id: '6f1c2d3e-0000-4000-8000-000000000001',
  state: 'succeeded',
  reason: null,
  kind: 'problem',
  problemId: '-7079974447799175602_1752266005311V2',
  displayId: 'P-240733',
  entityId: 'SERVICE-52AC624D70C377BC',
  rule: 'rollback-bad-deploy',
  action: 'kubernetes.rollback',
  step: 0,
  target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
  dryRun: false,
  approvedBy: null,
  attempts: 1,
  outcome: { status: 'succeeded', summary: 'Rolled back Deployment shop/checkout from revision 2 to revision 1: checkout:1.4.2 → checkout:1.4.1' },
  occurrence: 1,
}
const ctx = { steps: 2, trigger: { title: 'checkout 1.4.2', beforeProblemMs: 10 * 60_000 }, durationMs: 1_400, next: 'verifying in 10 min' }

t.test('a result comment leads with outcome, action and target, and ends with its marker', async (t) => {
  const text = resultComment(run, ctx)
  t.equal(text.split('\n')[0], '✅ kubernetes.rollback succeeded on Deployment shop/checkout')
  t.equal(text.split('\n').at(-1), resultMarker(run.id))
  t.matchSnapshot(text, 'live rollback')
})

t.test('dry runs, skips, failures, approvals and reconciliation say so', async (t) => {
  t.matchSnapshot(resultComment({ ...run, state: 'dry_run', dryRun: true, outcome: { status: 'succeeded', summary: 'Dry run: would roll back Deployment shop/checkout from revision 2 to revision 1: checkout:1.4.2 → checkout:1.4.1' } }, ctx), 'dry run')
  t.matchSnapshot(resultComment({ ...run, state: 'skipped', target: null, outcome: null, reason: 'no target: rule target: none given; tags: no k8s.namespace.name' }, { steps: 1, entityName: 'checkout-service', next: 'the ladder stops: it had no target' }), 'no target')
  t.matchSnapshot(resultComment({ ...run, state: 'failed', attempts: 3, approvedBy: 'alice', outcome: { status: 'failed', summary: 'forbidden: cannot patch deployments.apps' } }, { steps: 2, durationMs: 65_000, foundBy: 'reconcile' }), 'failed after approval, found by reconciliation')
  t.matchSnapshot(resultComment({ ...run, action: 'notify.slack', entityId: '*', target: null, kind: 'security', displayId: 'S-17', occurrence: 2, outcome: { status: 'succeeded', summary: 'Posted to Slack (200)' } }, { steps: 1 }), 'untargeted action on a re-opened security problem')
})

t.test('a verdict comment has its own marker, so it is never mistaken for the result', async (t) => {
  const text = verdictComment(run, { verdict: 'unresolved', at: '2024-05-01T10:25:00.000Z', note: 'the problem is still open 10 min after the action: escalating to the next step' }, { steps: 2, next: 'kubernetes.scale (step 2)' })
  t.equal(text.split('\n')[0], '⚠️ Not resolved after kubernetes.rollback on Deployment shop/checkout')
  t.notOk(text.includes(resultMarker(run.id)), 'the result marker is not a substring of the verdict')
  t.ok(text.endsWith(verdictMarker(run.id)))
  t.matchSnapshot(text, 'unresolved, escalating')
})

t.test('a security run becomes a CUSTOM_INFO event carrying the run id', async (t) => {
  const event = resultEvent({ ...run, kind: 'security', displayId: 'S-17', outcome: { status: 'succeeded', summary: 'x'.repeat(5000) } }, ctx)
  t.equal(event.title, 'dt-remediator: kubernetes.rollback succeeded')
  t.equal(event.properties['dt-remediator.run'], run.id)
  t.equal(event.properties['dt-remediator.target'], 'Deployment shop/checkout')
  t.equal(event.properties['dt-remediator.summary']?.length, 4096, 'cut to Dynatrace\'s property limit')
})
