import t from 'tap'
import { createScaleAction } from '../../../actions/index.js'
import type { Target } from '../../../src/domain/target.js'
import { executeAction, planAction } from '../../../src/sdk/index.js'
import { planInputs, runAction } from '../../../src/sdk/testing.js'
import { daemonSet, deployment, hpa, startKubernetesSim, statefulSet } from '../../helpers/kubernetes.js'

const checkout: Target = { kind: 'Deployment', namespace: 'shop', name: 'checkout' }

function replicas (object: Record<string, unknown> | undefined): number | undefined {
  return (object?.spec as { replicas?: number } | undefined)?.replicas
}

t.test('kubernetes.scale', async (t) => {
  t.test('scales by a number through the scale subresource', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    const { outcome, plan } = await runAction(createScaleAction(kube), { target: checkout, params: { by: 2, max: 10 } })
    t.same(plan, { via: 'scale', from: 2, to: 4, bound: null })
    t.match(outcome, { status: 'succeeded', summary: 'Scaled Deployment shop/checkout from 2 to 4 replicas' })
    t.equal(replicas(sim.get('Deployment', 'shop', 'checkout')), 4)
    t.match(sim.requests.find((r) => r.method === 'PATCH'), { subresource: 'scale', contentType: 'application/merge-patch+json', body: { spec: { replicas: 4 } } })
  })

  t.test('bounds a factor by max and a scale-down by min', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    const up = await runAction(createScaleAction(kube), { target: checkout, params: { factor: 3, max: 5 } })
    t.match(up.outcome, { status: 'succeeded', summary: 'Scaled Deployment shop/checkout from 2 to 5 replicas (bounded by max 5)' })
    const down = await runAction(createScaleAction(kube), { target: checkout, params: { to: 0, max: 5 } })
    t.match(down.outcome, { status: 'succeeded', summary: 'Scaled Deployment shop/checkout from 5 to 1 replicas (bounded by min 1)' })
    t.equal(replicas(sim.get('Deployment', 'shop', 'checkout')), 1)
  })

  t.test('skips when the bound leaves nothing to change', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 10 }))
    const { outcome } = await runAction(createScaleAction(kube), { target: checkout, params: { by: 2, max: 10 } })
    t.match(outcome, { status: 'skipped', reason: 'Deployment shop/checkout already has 10 replicas (bounded by max 10)' })
    t.equal(sim.requests.filter((r) => r.method === 'PATCH').length, 0)
  })

  t.test('raises the HPA minReplicas instead of scaling when an HPA targets the workload', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    sim.apply(hpa('checkout', { kind: 'Deployment', name: 'checkout' }, 2, 8))
    const { outcome } = await runAction(createScaleAction(kube), { target: checkout, params: { by: 3, max: 10 } })
    t.match(outcome, { status: 'succeeded', summary: 'Raised HorizontalPodAutoscaler shop/checkout minReplicas from 2 to 5, since it scales Deployment shop/checkout' })
    t.equal((sim.get('HorizontalPodAutoscaler', 'shop', 'checkout')?.spec as { minReplicas: number }).minReplicas, 5)
    t.equal(replicas(sim.get('Deployment', 'shop', 'checkout')), 2, 'the Deployment itself is left to the HPA')
    t.notOk(sim.requests.some((r) => r.subresource === 'scale'), 'no direct scale')
  })

  t.test('the HPA write carries the resourceVersion read: an HPA changed in between is read and decided again, not overwritten', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    sim.apply(hpa('checkout', { kind: 'Deployment', name: 'checkout' }, 2, 8))
    let raced = false
    // Someone (a person, a GitOps sync) sets minReplicas 3 after our read, before our write.
    const racing: typeof kube = Object.assign(Object.create(kube) as typeof kube, {
      patch: (async (...args: Parameters<typeof kube.patch>) => {
        if (!raced && args[0].kind === 'HorizontalPodAutoscaler') {
          raced = true
          sim.apply(hpa('checkout', { kind: 'Deployment', name: 'checkout' }, 3, 8))
        }
        return kube.patch(...args)
      }) as typeof kube.patch,
    })
    const { outcome } = await runAction(createScaleAction(racing), { target: checkout, params: { by: 3, max: 10 } })
    t.ok(raced, 'the HPA changed between the read and the write')
    t.same(sim.requests.filter((r) => r.method === 'PATCH').map((r) => r.statusCode), [409], 'the stale write was refused')
    t.match(outcome, { status: 'skipped', reason: 'target changed since plan: HorizontalPodAutoscaler shop/checkout has minReplicas 3, the change was planned from 2' })
    t.equal((sim.get('HorizontalPodAutoscaler', 'shop', 'checkout')?.spec as { minReplicas: number }).minReplicas, 3, 'the other change stands')
  })

  t.test('bounds the HPA minReplicas by the HPA maxReplicas', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    sim.apply(hpa('checkout-hpa', { kind: 'Deployment', name: 'checkout' }, 2, 8))
    const { outcome } = await runAction(createScaleAction(kube), { target: checkout, params: { factor: 10, max: 50 } })
    t.match(outcome, { status: 'succeeded', summary: /minReplicas from 2 to 8 \(bounded by HPA maxReplicas 8\)/ })
  })

  t.test('a retry finds the count in place and sends nothing more', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    const { outcomes } = await runAction(createScaleAction(kube), { target: checkout, params: { by: 2, max: 10 }, attempts: 2 })
    t.same(outcomes.map((o) => o.status), ['succeeded', 'succeeded'])
    t.match(outcomes[1], { summary: 'Deployment shop/checkout has 4; scaled by an earlier attempt' })
    t.equal(sim.requests.filter((r) => r.method === 'PATCH').length, 1, 'one patch')
    t.equal(replicas(sim.get('Deployment', 'shop', 'checkout')), 4, 'scaled once, not twice')
  })

  t.test('skips with "target changed since plan" when the count moved after planning', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    const action = createScaleAction(kube)
    const planned = await planAction(action, planInputs({ target: checkout, params: { by: 2, max: 10 } }))
    t.match(planned, { status: 'planned', plan: { via: 'scale', from: 2, to: 4 } })
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 3 }))
    const outcome = await executeAction(action, { ...planInputs({ target: checkout, params: { by: 2, max: 10 } }), plan: planned.status === 'planned' ? planned.plan : undefined, dryRun: false, attempt: 1, runId: 'r' })
    t.match(outcome, { status: 'skipped', reason: 'target changed since plan: Deployment shop/checkout has 3, the change was planned from 2' })
    t.equal(replicas(sim.get('Deployment', 'shop', 'checkout')), 3, 'left as someone set it')
  })

  t.test('on a first attempt, a count someone else already set is a skip, not a success', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    const action = createScaleAction(kube)
    const planned = await planAction(action, planInputs({ target: checkout, params: { to: 4, max: 10 } }))
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 4 }))
    const outcome = await executeAction(action, { ...planInputs({ target: checkout, params: { to: 4, max: 10 } }), plan: planned.status === 'planned' ? planned.plan : undefined, dryRun: false, attempt: 1, runId: 'r' })
    t.match(outcome, { status: 'skipped', reason: 'Deployment shop/checkout already has 4 replicas' })
  })

  t.test('scales a StatefulSet and refuses a DaemonSet', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(statefulSet('cart-db', 'postgres:16.3'))
    sim.apply(daemonSet('log-agent', 'fluent-bit:3.1'))
    const sts = await runAction(createScaleAction(kube), { target: { kind: 'StatefulSet', namespace: 'shop', name: 'cart-db' }, params: { to: 5, max: 5 } })
    t.match(sts.outcome, { status: 'succeeded', summary: 'Scaled StatefulSet shop/cart-db from 3 to 5 replicas' })
    const ds = await runAction(createScaleAction(kube), { target: { kind: 'DaemonSet', namespace: 'shop', name: 'log-agent' }, params: { to: 5, max: 5 } })
    t.match(ds.outcome, { status: 'skipped', reason: /DaemonSet shop\/log-agent cannot be scaled/ })
  })

  t.test('dry run leaves the cluster unchanged and reports the change', async (t) => {
    const { sim, kube } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
    sim.apply(hpa('checkout', { kind: 'Deployment', name: 'checkout' }, 2, 8))
    const before = sim.snapshot()
    const { outcome } = await runAction(createScaleAction(kube), { target: checkout, params: { to: 4, max: 10 }, dryRun: true })
    t.match(outcome, { status: 'succeeded', summary: 'Dry run: would raise HorizontalPodAutoscaler shop/checkout minReplicas from 2 to 4, since it scales Deployment shop/checkout' })
    t.same(sim.snapshot(), before)
  })

  t.test('skips a missing workload', async (t) => {
    const { kube } = await startKubernetesSim(t)
    const { outcome } = await runAction(createScaleAction(kube), { target: checkout, params: { to: 3, max: 5 } })
    t.match(outcome, { status: 'skipped', reason: 'Deployment shop/checkout not found' })
  })

  t.test('rejects parameters without exactly one of to, by, factor, or without max', async (t) => {
    const { kube } = await startKubernetesSim(t)
    const action = createScaleAction(kube)
    await t.rejects(runAction(action, { target: checkout, params: { to: 3, by: 1, max: 5 } }), { code: 'DTR_ERR_ACTION_PARAMS', message: /exactly one of to, by or factor/ })
    await t.rejects(runAction(action, { target: checkout, params: { max: 5 } }), { code: 'DTR_ERR_ACTION_PARAMS' })
    await t.rejects(runAction(action, { target: checkout, params: { to: 3 } }), { code: 'DTR_ERR_ACTION_PARAMS', message: /max/ })
    await t.rejects(runAction(action, { target: checkout, params: { to: 3, max: 5, min: 6 } }), { code: 'DTR_ERR_ACTION_PARAMS', message: /min must not exceed max/ })
  })
})
