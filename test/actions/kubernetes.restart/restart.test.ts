import t from 'tap'
import { createRestartAction } from '../../../actions/index.js'
import type { Target } from '../../../src/domain/target.js'
import { runAction } from '../../../src/sdk/testing.js'
import { daemonSet, deployment, revisionOf, startKubernetesSim, statefulSet } from '../../helpers/kubernetes.js'

const checkout: Target = { kind: 'Deployment', namespace: 'shop', name: 'checkout' }
const plannedAt = Date.parse('2024-05-01T10:15:42.123Z')

function restartedAt (object: Record<string, unknown> | undefined): string | undefined {
  const spec = object?.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined
  return spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']
}

t.test('kubernetes.restart', async (t) => {
  t.test('stamps restartedAt from the planned time, which rolls a new ReplicaSet', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2'))
    const { outcome, plan } = await runAction(createRestartAction(kube), { target: checkout, plannedAt })
    t.same(plan, { restartedAt: '2024-05-01T10:15:42Z' })
    t.match(outcome, { status: 'succeeded', summary: 'Restarted Deployment shop/checkout (kubectl.kubernetes.io/restartedAt=2024-05-01T10:15:42Z)' })
    const live = sim.get('Deployment', 'shop', 'checkout')
    t.equal(restartedAt(live), '2024-05-01T10:15:42Z')
    t.equal(revisionOf(live), '2', 'the template changed, so the controller rolled a new revision')
    t.match(sim.requests.find((r) => r.method === 'PATCH'), { contentType: 'application/strategic-merge-patch+json' })
  })

  t.test('retries send the identical change (each with the resourceVersion it read as precondition) and restart only once', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2'))
    const { outcomes } = await runAction(createRestartAction(kube), { target: checkout, plannedAt, attempts: 3 })
    t.same(outcomes.map((o) => o.status), ['succeeded', 'succeeded', 'succeeded'])
    const patches = sim.requests.filter((r) => r.method === 'PATCH')
    t.equal(patches.length, 3)
    const change = (body: unknown): unknown => (body as { spec?: unknown }).spec
    t.same(change(patches[1]?.body), change(patches[0]?.body))
    t.same(change(patches[2]?.body), change(patches[0]?.body))
    t.equal(sim.list('ReplicaSet', 'shop').length, 2, 'one restart: one new ReplicaSet')
  })

  t.test('skips a paused Deployment', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2'))
    sim.apply(deployment('checkout', 'checkout:1.4.2', { paused: true }))
    const { outcome } = await runAction(createRestartAction(kube), { target: checkout, plannedAt })
    t.match(outcome, { status: 'skipped', reason: /paused; cannot restart a paused Deployment/ })
  })

  t.test('restarts a StatefulSet and a DaemonSet', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(statefulSet('cart-db', 'postgres:16.3'))
    sim.apply(daemonSet('log-agent', 'fluent-bit:3.1'))
    const sts = await runAction(createRestartAction(kube), { target: { kind: 'StatefulSet', namespace: 'shop', name: 'cart-db' }, plannedAt })
    const ds = await runAction(createRestartAction(kube), { target: { kind: 'DaemonSet', namespace: 'shop', name: 'log-agent' }, plannedAt })
    t.equal(sts.outcome.status, 'succeeded')
    t.equal(ds.outcome.status, 'succeeded')
    t.equal(restartedAt(sim.get('StatefulSet', 'shop', 'cart-db')), '2024-05-01T10:15:42Z')
    t.equal(restartedAt(sim.get('DaemonSet', 'shop', 'log-agent')), '2024-05-01T10:15:42Z')
    t.equal(sim.list('ControllerRevision', 'shop').length, 4, 'a new ControllerRevision each')
  })

  t.test('dry run leaves the cluster unchanged and reports the change', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2'))
    const before = sim.snapshot()
    const { outcome } = await runAction(createRestartAction(kube), { target: checkout, plannedAt, dryRun: true })
    t.match(outcome, { status: 'succeeded', summary: 'Dry run: would restart Deployment shop/checkout (kubectl.kubernetes.io/restartedAt=2024-05-01T10:15:42Z)' })
    t.same(sim.snapshot(), before)
    t.match(sim.requests.at(-1), { method: 'PATCH', dryRun: true, query: { dryRun: 'All' } })
  })

  t.test('retries a 409 and succeeds', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2'))
    sim.injectFault({ method: 'PATCH', path: '/apis/apps/v1/namespaces/shop/deployments/checkout', count: 2 })
    const { outcome } = await runAction(createRestartAction(kube), { target: checkout, plannedAt })
    t.equal(outcome.status, 'succeeded')
    t.same(sim.requests.filter((r) => r.method === 'PATCH').map((r) => r.statusCode), [409, 409, 200])
  })

  t.test('skips a GitOps-managed workload', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { labels: { 'helm.toolkit.fluxcd.io/name': 'checkout', 'helm.toolkit.fluxcd.io/namespace': 'shop' } }))
    const { outcome } = await runAction(createRestartAction(kube), { target: checkout, plannedAt })
    t.match(outcome, { status: 'skipped', reason: /managed by Flux \(HelmRelease shop\/checkout/ })
  })
})
