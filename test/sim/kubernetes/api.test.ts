import t from 'tap'
import { deployment, hpa, startKubernetesSim } from '../../helpers/kubernetes.js'

const DEPLOYMENTS = '/apis/apps/v1/namespaces/shop/deployments'

async function call (url: string, path: string, init: { method?: string, contentType?: string, body?: unknown } = {}): Promise<{ status: number, body: Record<string, unknown> }> {
  const response = await fetch(url + path, {
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body), headers: { 'content-type': init.contentType ?? 'application/json' } }),
  })
  return { status: response.status, body: await response.json() as Record<string, unknown> }
}

t.test('Kubernetes API simulator', async (t) => {
  t.test('lists with a label selector', async (t) => {
    const { sim, url } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1', { labels: { tier: 'web' } }))
    sim.apply(deployment('cart', 'cart:1', { labels: { tier: 'api' } }))
    const web = await call(url, `${DEPLOYMENTS}?labelSelector=${encodeURIComponent('tier=web')}`)
    t.equal(web.body.kind, 'DeploymentList')
    t.same((web.body.items as Array<{ metadata: { name: string } }>).map((d) => d.metadata.name), ['checkout'])
    const notWeb = await call(url, `${DEPLOYMENTS}?labelSelector=${encodeURIComponent('tier!=web,app')}`)
    t.same((notWeb.body.items as Array<{ metadata: { name: string } }>).map((d) => d.metadata.name), ['cart'])
  })

  t.test('answers a missing object with a NotFound Status', async (t) => {
    const { url } = await startKubernetesSim(t)
    const missing = await call(url, `${DEPLOYMENTS}/nope`)
    t.equal(missing.status, 404)
    t.match(missing.body, { kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'deployments.apps "nope" not found', code: 404, details: { name: 'nope', group: 'apps', kind: 'deployments' } })
    const unknown = await call(url, '/apis/batch/v1/namespaces/shop/jobs')
    t.equal(unknown.status, 404)
  })

  t.test('refuses a patch content type it does not implement with 415', async (t) => {
    const { sim, url } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1'))
    const cbor = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'PATCH', contentType: 'application/apply-patch+cbor', body: 'x' })
    t.equal(cbor.status, 415)
    t.match(cbor.body, { kind: 'Status', reason: 'UnsupportedMediaType' })
    const plain = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'PATCH', contentType: 'application/json', body: { spec: { replicas: 3 } } })
    t.equal(plain.status, 415, 'a PATCH with application/json is refused, as by the API server')
  })

  t.test('merges containers by name in a strategic merge patch', async (t) => {
    const { sim, url } = await startKubernetesSim(t)
    const manifest = deployment('checkout', 'checkout:1')
    const spec = manifest.spec as { template: { spec: { containers: Array<{ name: string, image: string }> } } }
    spec.template.spec.containers.push({ name: 'envoy', image: 'envoy:1.30' })
    sim.apply(manifest)
    const patched = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'PATCH', contentType: 'application/strategic-merge-patch+json', body: { spec: { template: { spec: { containers: [{ name: 'checkout', image: 'checkout:2' }] } } } } })
    t.equal(patched.status, 200)
    const images = (body: Record<string, unknown>): Array<{ name: string, image: string }> => (body.spec as typeof spec).template.spec.containers.map(({ name, image }) => ({ name, image }))
    t.same(images(patched.body), [{ name: 'checkout', image: 'checkout:2' }, { name: 'envoy', image: 'envoy:1.30' }])
    const merged = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { template: { spec: { containers: [{ name: 'checkout', image: 'checkout:3' }] } } } } })
    t.same((merged.body.spec as typeof spec).template.spec.containers, [{ name: 'checkout', image: 'checkout:3', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }], 'a merge patch replaces lists (and the API server defaults the new container)')
  })

  t.test('answers 409 to a write carrying a stale resourceVersion', async (t) => {
    const { sim, url } = await startKubernetesSim(t)
    const stored = sim.apply(deployment('checkout', 'checkout:1'))
    const stale = { ...stored, metadata: { ...stored.metadata, resourceVersion: '1' } }
    const put = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'PUT', body: stale })
    t.equal(put.status, 409)
    t.match(put.body, { reason: 'Conflict', message: 'Operation cannot be fulfilled on deployments.apps "checkout": the object has been modified; please apply your changes to the latest version and try again' })
    const fresh = await call(url, `${DEPLOYMENTS}/checkout`)
    const ok = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'PUT', body: { ...fresh.body, spec: { ...(fresh.body.spec as object), replicas: 5 } } })
    t.equal(ok.status, 200)
    t.equal((sim.get('Deployment', 'shop', 'checkout')?.spec as { replicas: number }).replicas, 5)
    const jsonPatch = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'PATCH', contentType: 'application/json-patch+json', body: [{ op: 'replace', path: '/metadata/resourceVersion', value: '1' }, { op: 'replace', path: '/spec/replicas', value: 1 }] })
    t.equal(jsonPatch.status, 409, 'a JSON patch setting a stale resourceVersion conflicts too')
  })

  t.test('dryRun=All validates and answers the result without storing it', async (t) => {
    const { sim, url } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1', { replicas: 2 }))
    const before = sim.snapshot()
    const scaled = await call(url, `${DEPLOYMENTS}/checkout/scale?dryRun=All`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { replicas: 7 } } })
    t.match(scaled.body, { kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 7 } })
    t.same(sim.snapshot(), before)
    const invalid = await call(url, `${DEPLOYMENTS}/checkout/scale?dryRun=All`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { replicas: -1 } } })
    t.equal(invalid.status, 422, 'dry run still validates')
    const wrong = await call(url, `${DEPLOYMENTS}/checkout?dryRun=Maybe`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: {} })
    t.equal(wrong.status, 400)
  })

  t.test('validates HPA bounds like the API server', async (t) => {
    const { sim, url } = await startKubernetesSim(t)
    sim.apply(hpa('checkout', { kind: 'Deployment', name: 'checkout' }, 2, 5))
    const tooHigh = await call(url, '/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/checkout', { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { minReplicas: 6 } } })
    t.equal(tooHigh.status, 422)
    t.match(tooHigh.body, { reason: 'Invalid', message: /spec\.minReplicas: Invalid value: 6: must be less than or equal to maxReplicas/ })
  })

  t.test('answers 403 from its RBAC table in the API server format', async (t) => {
    const { sim, url } = await startKubernetesSim(t, { rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }] })
    sim.apply(deployment('checkout', 'checkout:1'))
    t.equal((await call(url, `${DEPLOYMENTS}/checkout`)).status, 200)
    const patch = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: {} })
    t.equal(patch.status, 403)
    t.match(patch.body, { reason: 'Forbidden', message: 'deployments.apps "checkout" is forbidden: User "system:serviceaccount:dt-remediator:dt-remediator" cannot patch resource "deployments" in API group "apps" in the namespace "shop"' })
    const scale = await call(url, `${DEPLOYMENTS}/checkout/scale`)
    t.match(scale.body, { message: /cannot get resource "deployments\/scale" in API group "apps"/ })
    const list = await call(url, DEPLOYMENTS)
    t.match(list.body, { message: /^deployments\.apps is forbidden: User ".*" cannot list resource "deployments"/ })
  })

  t.test('injects faults for the next N matching requests and logs every request', async (t) => {
    const { sim, url } = await startKubernetesSim(t)
    sim.apply(deployment('checkout', 'checkout:1'))
    sim.injectFault({ path: `${DEPLOYMENTS}/checkout`, method: 'GET', status: 500, count: 2 })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await call(url, `${DEPLOYMENTS}/checkout`)).status)
    t.same(statuses, [500, 500, 200])
    await call(url, `${DEPLOYMENTS}/checkout/scale`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { replicas: 3 } } })
    t.match(sim.requests.at(-1), { method: 'PATCH', verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'shop', name: 'checkout', contentType: 'application/merge-patch+json', body: { spec: { replicas: 3 } }, statusCode: 200, dryRun: false })
    t.equal(sim.requests.length, 4)
  })
})
