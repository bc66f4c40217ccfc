/**
 * Issue 18, defect 2: the action re-checks `dt-remediator.io/skip` on the object it reads in the
 * same step as its change (for a scale through an HPA: the workload the HPA targets), and writes
 * with the resourceVersion it read as precondition — the runner's earlier gate read may have
 * failed, or the annotation been added since.
 */
import t from 'tap'
import { restartWorkload, planRestart } from '../../src/kubernetes/restart.js'
import { planScale, scaleWorkload } from '../../src/kubernetes/scale.js'
import { deployment, hpa, startKubernetesSim } from '../helpers/kubernetes.js'

const target = { kind: 'Deployment' as const, namespace: 'shop', name: 'checkout' }
const SKIPPED = /^skipped by scope: Deployment shop\/checkout is annotated dt-remediator.io\/skip: "true"$/

t.test('restart: an annotated workload is skipped, no patch', async (t) => {
  const k8s = await startKubernetesSim(t)
  k8s.sim.apply(deployment('checkout', 'checkout:1.0', { annotations: { 'dt-remediator.io/skip': 'true' } }))
  k8s.sim.clearRequests()
  const outcome = await restartWorkload(k8s.kube, target, planRestart(1_700_000_000_000), { dryRun: false, gitops: 'skip' })
  t.match(outcome, { status: 'skipped', reason: SKIPPED })
  t.equal(k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0)
})

t.test('restart: the patch carries the resourceVersion read, so a change in between is re-read and checked', async (t) => {
  const k8s = await startKubernetesSim(t)
  k8s.sim.apply(deployment('checkout', 'checkout:1.0'))
  k8s.sim.clearRequests()
  const outcome = await restartWorkload(k8s.kube, target, planRestart(1_700_000_000_000), { dryRun: false, gitops: 'skip' })
  t.match(outcome, { status: 'succeeded' })
  const patch = k8s.sim.requests.find((r) => r.method === 'PATCH')
  t.match(patch?.body, { metadata: { resourceVersion: /./ } })
})

t.test('scale through an HPA: the HPA\'s target workload is checked', async (t) => {
  const k8s = await startKubernetesSim(t)
  k8s.sim.apply(deployment('checkout', 'checkout:1.0', { replicas: 2 }))
  k8s.sim.apply(hpa('checkout', { kind: 'Deployment', name: 'checkout' }, 2, 10))
  const plan = await planScale(k8s.kube, target, { by: 2, max: 10, min: 1 })
  t.match(plan, { via: 'hpa' })
  const live = k8s.sim.get('Deployment', 'shop', 'checkout')
  k8s.sim.apply({ ...live, metadata: { ...live?.metadata, annotations: { 'dt-remediator.io/skip': 'true' } } } as never)
  k8s.sim.clearRequests()
  const outcome = await scaleWorkload(k8s.kube, target, plan, { dryRun: false, gitops: 'skip', attempt: 1 })
  t.match(outcome, { status: 'skipped', reason: SKIPPED })
  t.equal(k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0)
})
