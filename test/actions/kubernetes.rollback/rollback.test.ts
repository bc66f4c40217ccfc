import t from 'tap'
import { createRollbackAction } from '../../../actions/index.js'
import type { Target } from '../../../src/domain/target.js'
import { TerminalError } from '../../../src/errors.js'
import type { KubernetesClient } from '../../../src/kubernetes/client.js'
import { runAction } from '../../../src/sdk/testing.js'
import { daemonSet, deployment, imageOf, revisionOf, startKubernetesSim, statefulSet } from '../../helpers/kubernetes.js'

const checkout: Target = { kind: 'Deployment', namespace: 'shop', name: 'checkout' }
const HOUR = 3_600_000

/** checkout:1.4.0 (revision 1) → 1.4.1 (2) → 1.4.2 (3), one hour apart. */
async function withHistory (t: Parameters<typeof startKubernetesSim>[0], extra: Parameters<typeof deployment>[2] = {}) {
  const fixture = await startKubernetesSim(t)
  for (const version of ['1.4.0', '1.4.1', '1.4.2']) {
    fixture.sim.apply(deployment('checkout', `checkout:${version}`, extra))
    fixture.clock.now += HOUR
  }
  fixture.sim.clearRequests()
  return fixture
}

t.test('kubernetes.rollback on a Deployment', async (t) => {
  t.test('returns the template to the previous image and the controller reuses the old ReplicaSet', async (t) => {
    const { sim, kube } = await withHistory(t)
    const before = sim.list('ReplicaSet', 'shop').find((rs) => imageOf(rs) === 'checkout:1.4.1')
    const { outcome, plan } = await runAction(createRollbackAction(kube), { target: checkout })
    t.equal(outcome.status, 'succeeded')
    t.match(outcome, { summary: 'Rolled back Deployment shop/checkout from revision 3 to revision 2: checkout:1.4.2 → checkout:1.4.1' })
    t.match(plan, { toRevision: 2, fromRevision: 3, chosenBy: 'previous', source: { kind: 'ReplicaSet', name: before?.metadata.name } })
    const live = sim.get('Deployment', 'shop', 'checkout')
    t.equal(imageOf(live), 'checkout:1.4.1')
    t.notOk((live?.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels['pod-template-hash'], 'pod-template-hash is stripped')
    t.equal(revisionOf(live), '4')
    const sets = sim.list('ReplicaSet', 'shop')
    t.equal(sets.length, 3, 'no new ReplicaSet')
    const reused = sets.find((rs) => rs.metadata.name === before?.metadata.name)
    t.equal(revisionOf(reused), '4', 'the old ReplicaSet got the next revision')
    const patches = sim.requests.filter((r) => r.method === 'PATCH')
    t.equal(patches.length, 1)
    t.equal(patches[0]?.contentType, 'application/json-patch+json')
    t.match(patches[0]?.body, [{ op: 'replace', path: '/metadata/resourceVersion' }, { op: 'replace', path: '/spec/template' }, { op: 'add', path: '/metadata/annotations' }])
  })

  t.test('goes to toRevision', async (t) => {
    const { sim, kube } = await withHistory(t)
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout, params: { toRevision: 1 } })
    t.match(outcome, { status: 'succeeded', summary: /from revision 3 to revision 1: checkout:1\.4\.2 → checkout:1\.4\.0/ })
    t.equal(imageOf(sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.0')
  })

  t.test('goes to the revision live before the deployment event', async (t) => {
    const { sim, kube, clock } = await withHistory(t)
    // Revision 3 was created at 12:00; the pipeline posted its event a minute later.
    const revision3 = Date.parse('2024-05-01T12:00:00Z')
    const { outcome, plan } = await runAction(createRollbackAction(kube), {
      target: checkout,
      deploymentEvent: { eventId: 'e-1', startTime: revision3 + 60_000, title: 'Deploy checkout 1.4.2', properties: {} },
      plannedAt: clock.now,
    })
    t.match(plan, { toRevision: 2, chosenBy: 'deploymentEvent' })
    t.match(outcome, { status: 'succeeded', summary: /to revision 2: checkout:1\.4\.2 → checkout:1\.4\.1/ })
    t.equal(imageOf(sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1')
  })

  t.test('picks an older revision when the event came before a later release', async (t) => {
    const { kube } = await withHistory(t)
    const revision2 = Date.parse('2024-05-01T11:00:00Z')
    const { plan } = await runAction(createRollbackAction(kube), {
      target: checkout,
      deploymentEvent: { eventId: 'e-1', startTime: revision2 - 60_000, title: 'Deploy checkout 1.4.1', properties: {} },
    })
    t.match(plan, { toRevision: 1 })
  })

  t.test('lets toRevision win over the deployment event', async (t) => {
    const { kube } = await withHistory(t)
    const { plan } = await runAction(createRollbackAction(kube), {
      target: checkout,
      params: { toRevision: 2 },
      deploymentEvent: { eventId: 'e-1', startTime: Date.parse('2024-05-01T10:30:00Z'), title: 'x', properties: {} },
    })
    t.match(plan, { toRevision: 2, chosenBy: 'toRevision' })
  })

  t.test('skips a paused Deployment', async (t) => {
    const { sim, kube } = await withHistory(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { paused: true }))
    sim.clearRequests()
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout })
    t.match(outcome, { status: 'skipped', reason: /Deployment shop\/checkout is paused/ })
    t.equal(sim.requests.filter((r) => r.method === 'PATCH').length, 0)
  })

  t.test('skips a Deployment without history', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.0'))
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout })
    t.match(outcome, { status: 'skipped', reason: /no rollout history to go back to \(only revision 1\)/ })
  })

  t.test('skips when revisionHistoryLimit 0 left nothing', async (t) => {
    const { kube } = await withHistory(t, { revisionHistoryLimit: 0 })
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout })
    t.match(outcome, { status: 'skipped', reason: /no rollout history/ })
  })

  t.test('skips a revision that does not exist, listing the ones that do', async (t) => {
    const { kube } = await withHistory(t)
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout, params: { toRevision: 7 } })
    t.match(outcome, { status: 'skipped', reason: 'Deployment shop/checkout has no revision 7 (revisions: 1, 2, 3)' })
  })

  t.test('skips when the template already matches the revision', async (t) => {
    const { sim, kube } = await withHistory(t)
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout, params: { toRevision: 3 } })
    t.match(outcome, { status: 'skipped', reason: /current template already matches revision 3 \(checkout:1\.4\.2\)/ })
    t.equal(sim.requests.filter((r) => r.method === 'PATCH').length, 0)
  })

  t.test('skips a Deployment managed by Argo CD unless kubernetes.gitops is allow', async (t) => {
    const { sim, kube } = await withHistory(t, { annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/checkout' } })
    const skipped = await runAction(createRollbackAction(kube), { target: checkout })
    t.match(skipped.outcome, { status: 'skipped', reason: /managed by Argo CD \(Application shop; annotation argocd\.argoproj\.io\/tracking-id/ })
    t.equal(imageOf(sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.2')
    const allowed = await runAction(createRollbackAction(kube), { target: checkout, settings: { gitops: 'allow' } })
    t.equal(allowed.outcome.status, 'succeeded')
  })

  t.test('skips a Deployment managed by Flux', async (t) => {
    const { kube } = await withHistory(t, { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } })
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout })
    t.match(outcome, { status: 'skipped', reason: /managed by Flux \(Kustomization flux-system\/apps/ })
  })

  t.test('skips a missing Deployment, naming it', async (t) => {
    const { kube } = await startKubernetesSim(t)
    const { outcome } = await runAction(createRollbackAction(kube), { target: { ...checkout, name: 'gone' } })
    t.match(outcome, { status: 'skipped', reason: 'Deployment shop/gone not found' })
  })

  t.test('dry run leaves the cluster unchanged and reports the change', async (t) => {
    const { sim, kube } = await withHistory(t)
    const before = sim.snapshot()
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout, dryRun: true })
    t.match(outcome, { status: 'succeeded', summary: 'Dry run: would roll back Deployment shop/checkout from revision 3 to revision 2: checkout:1.4.2 → checkout:1.4.1', details: { dryRun: true } })
    t.same(sim.snapshot(), before)
    t.match(sim.requests.filter((r) => r.method === 'PATCH'), [{ dryRun: true, statusCode: 200 }])
  })

  t.test('re-reads and retries after a 409 Conflict', async (t) => {
    const { sim, kube } = await withHistory(t)
    sim.injectFault({ method: 'PATCH', path: '/apis/apps/v1/namespaces/shop/deployments/checkout', status: 409, count: 1 })
    const { outcome } = await runAction(createRollbackAction(kube), { target: checkout })
    t.equal(outcome.status, 'succeeded')
    t.same(sim.requests.filter((r) => r.method === 'PATCH').map((r) => r.statusCode), [409, 200])
    t.equal(imageOf(sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1')
  })

  t.test('decides again when the Deployment changed between read and write', async (t) => {
    const { sim, kube } = await withHistory(t)
    const action = createRollbackAction(kube)
    const { plan } = await runAction(action, { target: checkout, dryRun: true })
    // A competing writer changes the Deployment after the plan was made.
    sim.apply(deployment('checkout', 'checkout:1.4.2', { labels: { team: 'payments' } }))
    // And again between the action's read and its write, so that its patch carries a stale
    // resourceVersion: the precondition must refuse it (409) and the action read and decide again.
    let competed = false
    const racing: KubernetesClient = {
      ...kube,
      patch: async <T>(...args: Parameters<KubernetesClient['patch']>): Promise<T> => {
        if (!competed) {
          competed = true
          sim.apply(deployment('checkout', 'checkout:1.4.2', { labels: { team: 'checkout' } }))
        }
        return kube.patch<T>(...args)
      },
    }
    sim.clearRequests()
    const { outcome } = await runAction({ ...createRollbackAction(racing), plan: async () => plan }, { target: checkout })
    t.equal(outcome.status, 'succeeded')
    t.same(sim.requests.filter((r) => r.method === 'PATCH').map((r) => r.statusCode), [409, 200], 'the stale write was refused, the re-decided one applied')
    t.equal(imageOf(sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1')
  })

  t.test('skips with "target changed since plan" when a release went out after planning', async (t) => {
    const { sim, kube } = await withHistory(t)
    const action = createRollbackAction(kube)
    const { plan } = await runAction(action, { target: checkout, dryRun: true })
    t.match(plan, { fromRevision: 3, toRevision: 2 })
    sim.apply(deployment('checkout', 'checkout:1.4.3'))
    sim.clearRequests()
    const { outcome } = await runAction({ ...action, plan: async () => plan }, { target: checkout })
    t.match(outcome, { status: 'skipped', reason: 'target changed since plan: Deployment shop/checkout is at revision 4, the rollback was planned from revision 3' })
    t.same(sim.requests.filter((r) => r.method === 'PATCH'), [], 'the new release is left alone')
    t.equal(imageOf(sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.3')
  })

  t.test('fails terminally on 403, naming the verb and the resource', async (t) => {
    const { sim, kube } = await withHistory(t)
    sim.setRules([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] },
    ])
    const error = await runAction(createRollbackAction(kube), { target: checkout }).then(() => undefined, (err: unknown) => err)
    t.ok(error instanceof TerminalError, 'a terminal error')
    t.match((error as Error).message, /^forbidden: cannot patch deployments\.apps in namespace shop — grant/)
    t.match((error as TerminalError).details, { code: 'DTR_ERR_KUBERNETES_FORBIDDEN', verb: 'patch', resource: 'deployments.apps', namespace: 'shop' })
    t.match(sim.requests.at(-1), { statusCode: 403, verb: 'patch' })
  })

  t.test('a retried run after success reports the rollback once and sends no second patch', async (t) => {
    const { sim, kube } = await withHistory(t)
    const { outcomes } = await runAction(createRollbackAction(kube), { target: checkout, attempts: 2 })
    t.match(outcomes, [{ status: 'succeeded' }, { status: 'succeeded', details: { alreadyApplied: true } }])
    t.equal(sim.requests.filter((r) => r.method === 'PATCH').length, 1)
    t.equal(sim.list('ReplicaSet', 'shop').length, 3)
  })
})

t.test('kubernetes.rollback on a StatefulSet and a DaemonSet', async (t) => {
  t.test('restores the previous ControllerRevision and the controller reuses it', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(statefulSet('cart-db', 'postgres:16.2'))
    sim.apply(statefulSet('cart-db', 'postgres:16.3'))
    sim.clearRequests()
    const old = sim.list('ControllerRevision', 'shop').find((cr) => cr.revision === 1)
    const { outcome } = await runAction(createRollbackAction(kube), { target: { kind: 'StatefulSet', namespace: 'shop', name: 'cart-db' } })
    t.match(outcome, { status: 'succeeded', summary: 'Rolled back StatefulSet shop/cart-db from revision 2 to revision 1: postgres:16.3 → postgres:16.2' })
    t.equal(imageOf(sim.get('StatefulSet', 'shop', 'cart-db')), 'postgres:16.2')
    const revisions = sim.list('ControllerRevision', 'shop')
    t.equal(revisions.length, 2, 'no new ControllerRevision')
    t.equal(revisions.find((cr) => cr.metadata.name === old?.metadata.name)?.revision, 3)
    t.match(sim.requests.find((r) => r.method === 'PATCH'), { contentType: 'application/strategic-merge-patch+json', body: { spec: { template: { $patch: 'replace' } } } })
  })

  t.test('restores a DaemonSet revision', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(daemonSet('log-agent', 'fluent-bit:3.0'))
    sim.apply(daemonSet('log-agent', 'fluent-bit:3.1'))
    const { outcome } = await runAction(createRollbackAction(kube), { target: { kind: 'DaemonSet', namespace: 'shop', name: 'log-agent' } })
    t.match(outcome, { status: 'succeeded', summary: /fluent-bit:3\.1 → fluent-bit:3\.0/ })
    t.equal(imageOf(sim.get('DaemonSet', 'shop', 'log-agent')), 'fluent-bit:3.0')
  })
})
