import t from 'tap'
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
