import t from 'tap'
import type { Obj } from '../../../sim/kubernetes/patch.js'
import { deployment, imageOf, revisionOf, startKubernetesSim } from '../../helpers/kubernetes.js'

t.test('Deployment controller', async (t) => {
  t.test('creates a ReplicaSet with the next revision for each new template', async (t) => {
    const { sim } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.0'))
    sim.apply(deployment('checkout', 'checkout:1.4.1'))
    sim.apply(deployment('checkout', 'checkout:1.4.2'))
    const sets = sim.list('ReplicaSet', 'shop').sort((a, b) => Number(revisionOf(a)) - Number(revisionOf(b)))
    t.same(sets.map((rs) => [revisionOf(rs), imageOf(rs), (rs.spec as { replicas: number }).replicas]), [['1', 'checkout:1.4.0', 0], ['2', 'checkout:1.4.1', 0], ['3', 'checkout:1.4.2', 2]])
    t.equal(revisionOf(sim.get('Deployment', 'shop', 'checkout')), '3')
    const hashes = sets.map((rs) => (rs.metadata.labels ?? {})['pod-template-hash'])
    t.equal(new Set(hashes).size, 3, 'each ReplicaSet has its own pod-template-hash')
  })

  t.test('reuses the matching old ReplicaSet and bumps its revision when the template returns to it', async (t) => {
    const { sim } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.0'))
    sim.apply(deployment('checkout', 'checkout:1.4.1'))
    const first = sim.list('ReplicaSet', 'shop').find((rs) => imageOf(rs) === 'checkout:1.4.0')
    sim.apply(deployment('checkout', 'checkout:1.4.0'))
    const sets = sim.list('ReplicaSet', 'shop')
    t.equal(sets.length, 2, 'no third ReplicaSet')
    const reused = sets.find((rs) => imageOf(rs) === 'checkout:1.4.0')
    t.equal(reused?.metadata.name, first?.metadata.name)
    t.equal(revisionOf(reused), '3')
    t.equal(reused?.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1')
    t.equal(revisionOf(sim.get('Deployment', 'shop', 'checkout')), '3')
  })

  t.test('keeps no old ReplicaSets with revisionHistoryLimit 0', async (t) => {
    const { sim } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.0', { revisionHistoryLimit: 0 }))
    sim.apply(deployment('checkout', 'checkout:1.4.1', { revisionHistoryLimit: 0 }))
    t.same(sim.list('ReplicaSet', 'shop').map(imageOf), ['checkout:1.4.1'])
  })
})

interface Status { observedGeneration?: number, replicas?: number, updatedReplicas?: number, readyReplicas?: number, availableReplicas?: number, unavailableReplicas?: number, conditions?: Array<{ type: string, status: string, reason: string, message: string, lastUpdateTime: string, lastTransitionTime: string }> }
const statusOf = (o: Obj | undefined): Status => (o?.status ?? {}) as Status
const conditionOf = (o: Obj | undefined, type: string): NonNullable<Status['conditions']>[number] | undefined => statusOf(o).conditions?.find((c) => c.type === type)
const specReplicas = (o: Obj): number => (o.spec as { replicas: number }).replicas

t.test('a stepped RollingUpdate moves within maxSurge and maxUnavailable, as the Deployment controller does', async (t) => {
  const { sim } = await startKubernetesSim(t, { rollouts: 'stepped', objects: [deployment('checkout', 'checkout:1', { replicas: 4 })] })
  sim.settle()
  t.match(statusOf(sim.get('Deployment', 'shop', 'checkout')), { observedGeneration: 1, replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4 })
  sim.apply(deployment('checkout', 'checkout:2', { replicas: 4 }))
  const before = sim.get('Deployment', 'shop', 'checkout')
  t.equal(before?.metadata.generation, 2)
  t.equal(statusOf(before).observedGeneration, 1, 'nothing is observed before the controller runs')

  const reasons: string[] = []
  let steps = 0
  while (sim.step()) {
    steps++
    const d = sim.get('Deployment', 'shop', 'checkout')
    const sets = sim.list('ReplicaSet', 'shop')
    const total = sets.reduce((n, rs) => n + specReplicas(rs), 0)
    const available = sets.reduce((n, rs) => n + (statusOf(rs).availableReplicas ?? 0), 0)
    t.ok(total <= 5, `step ${steps}: at most replicas + maxSurge (25% of 4 → 1) pods (${total})`)
    t.ok(available >= 3, `step ${steps}: at least replicas - maxUnavailable (25% of 4 → 1) available (${available})`)
    t.equal(statusOf(d).observedGeneration, 2, `step ${steps}: the new generation is observed`)
    const reason = conditionOf(d, 'Progressing')?.reason ?? ''
    if (reasons.at(-1) !== reason) reasons.push(reason)
  }
  t.same(reasons, ['NewReplicaSetCreated', 'ReplicaSetUpdated', 'NewReplicaSetAvailable'], 'Progressing moves through the real reasons')
  const after = sim.get('Deployment', 'shop', 'checkout')
  t.match(statusOf(after), { observedGeneration: 2, replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4 })
  t.notOk('unavailableReplicas' in statusOf(after), 'zero counts are left out, as the API server does')
  t.match(conditionOf(after, 'Progressing'), { status: 'True', message: /^ReplicaSet "checkout-[0-9a-f]+" has successfully progressed\.$/ })
  t.match(conditionOf(after, 'Available'), { status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' })
  const sets = sim.list('ReplicaSet', 'shop').sort((a, b) => Number(revisionOf(a)) - Number(revisionOf(b)))
  t.same(sets.map((rs) => [revisionOf(rs), specReplicas(rs), rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas']]), [['1', 0, '4', '5'], ['2', 4, '4', '5']])
  t.match(sets[1]?.status, { replicas: 4, readyReplicas: 4, availableReplicas: 4, fullyLabeledReplicas: 4, observedGeneration: sets[1]?.metadata.generation })
})

t.test('Recreate scales the old ReplicaSet to zero before the new one starts', async (t) => {
  const recreate = (image: string): ReturnType<typeof deployment> => {
    const d = deployment('db', image, { replicas: 2 })
    ;(d.spec as Record<string, unknown>).strategy = { type: 'Recreate' }
    return d
  }
  const { sim } = await startKubernetesSim(t, { rollouts: 'stepped', objects: [recreate('db:1')] })
  sim.settle()
  sim.apply(recreate('db:2'))
  let sawGap = false
  while (sim.step()) {
    const running = sim.list('ReplicaSet', 'shop').filter((rs) => (statusOf(rs).replicas ?? 0) > 0 || specReplicas(rs) > 0)
    t.ok(running.length <= 1, 'never two templates running')
    if (conditionOf(sim.get('Deployment', 'shop', 'db'), 'Available')?.status === 'False') sawGap = true
  }
  t.ok(sawGap, 'the Deployment is unavailable in between (Recreate allows no availability)')
  t.equal(imageOf(sim.list('ReplicaSet', 'shop').find((rs) => specReplicas(rs) > 0)), 'db:2')
})

t.test('a scale is a scaling event: the new ReplicaSet takes the replicas, Progressing stays complete', async (t) => {
  const { sim, url } = await startKubernetesSim(t, { rollouts: 'stepped', objects: [deployment('checkout', 'checkout:1', { replicas: 4 })] })
  sim.settle()
  const scaled = await fetch(`${url}/apis/apps/v1/namespaces/shop/deployments/checkout/scale`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"spec":{"replicas":6}}' })
  t.equal(scaled.status, 200)
  const progressing = conditionOf(sim.get('Deployment', 'shop', 'checkout'), 'Progressing')
  sim.step()
  const rs = sim.list('ReplicaSet', 'shop')[0]
  t.equal(rs === undefined ? 0 : specReplicas(rs), 6)
  t.match(rs?.metadata.annotations, { 'deployment.kubernetes.io/desired-replicas': '6', 'deployment.kubernetes.io/max-replicas': '8' })
  t.match(statusOf(sim.get('Deployment', 'shop', 'checkout')), { replicas: 4, updatedReplicas: 4, availableReplicas: 4 }, 'pods come a sync later')
  sim.settle()
  t.match(statusOf(sim.get('Deployment', 'shop', 'checkout')), { replicas: 6, updatedReplicas: 6, availableReplicas: 6 })
  t.same(conditionOf(sim.get('Deployment', 'shop', 'checkout'), 'Progressing'), progressing, 'a scale does not touch Progressing')
})

t.test('pausing and resuming set the Progressing condition; a paused Deployment gets no new ReplicaSet', async (t) => {
  const { sim } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1'))
  sim.apply(deployment('checkout', 'checkout:2', { paused: true }))
  t.match(conditionOf(sim.get('Deployment', 'shop', 'checkout'), 'Progressing'), { status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' })
  t.equal(sim.list('ReplicaSet', 'shop').length, 1)
  sim.apply(deployment('checkout', 'checkout:2', { paused: false }))
  const resumed = sim.get('Deployment', 'shop', 'checkout')
  t.equal(sim.list('ReplicaSet', 'shop').length, 2, 'resumed, it rolls out')
  t.match(conditionOf(resumed, 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable' })
})

t.test('a release that never becomes ready stalls and exceeds its progress deadline', async (t) => {
  const { sim, clock } = await startKubernetesSim(t, { brokenImages: ['checkout:bad'] })
  sim.apply(deployment('checkout', 'checkout:good', { replicas: 4 }))
  const stalled = deployment('checkout', 'checkout:bad', { replicas: 4 })
  ;(stalled.spec as Record<string, unknown>).progressDeadlineSeconds = 60
  sim.apply(stalled)
  const d = sim.get('Deployment', 'shop', 'checkout')
  t.match(statusOf(d), { updatedReplicas: 2, availableReplicas: 3, unavailableReplicas: 2 }, 'stuck at maxSurge with the old pods down to minimum availability')
  t.match(conditionOf(d, 'Progressing'), { status: 'True', reason: 'ReplicaSetUpdated' })
  clock.now += 61_000
  sim.settle()
  t.match(conditionOf(sim.get('Deployment', 'shop', 'checkout'), 'Progressing'), { status: 'False', reason: 'ProgressDeadlineExceeded', message: /^ReplicaSet "checkout-[0-9a-f]+" has timed out progressing\.$/ })
  sim.setBrokenImages([])
  t.match(conditionOf(sim.get('Deployment', 'shop', 'checkout'), 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable' }, 'fixed, it completes')
})
