/**
 * Writes as kubectl makes them: create (JSON, or protobuf from its typed clients), delete with
 * garbage collection, server-side apply; lists across namespaces and with field selectors; the
 * namespaces the simulator makes on first use.
 */
import t from 'tap'
import { decodeKubernetesProtobuf } from '../../../sim/kubernetes/protobuf.js'
import { deployment, startKubernetesSim } from '../../helpers/kubernetes.js'

const DEPLOYMENTS = '/apis/apps/v1/namespaces/shop/deployments'

interface Listed { items: Array<{ metadata: { name: string, namespace: string } }>, metadata: { managedFields: Array<{ manager: string }> } }

async function call (url: string, path: string, init: { method?: string, contentType?: string, body?: unknown } = {}): Promise<{ status: number, body: Record<string, unknown> & Listed }> {
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : init.body instanceof Uint8Array ? Buffer.from(init.body) : JSON.stringify(init.body)
  const res = await fetch(url + path, { method: init.method ?? 'GET', ...(body === undefined ? {} : { body, headers: { 'content-type': init.contentType ?? 'application/json' } }) })
  return { status: res.status, body: await res.json() as Record<string, unknown> & Listed }
}

t.test('create answers 201 with the stored object, 409 AlreadyExists the second time', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  const created = await call(url, `${DEPLOYMENTS}?fieldManager=kubectl-create&fieldValidation=Strict`, { method: 'POST', body: deployment('checkout', 'checkout:1') })
  t.equal(created.status, 201)
  t.match(created.body, { kind: 'Deployment', metadata: { name: 'checkout', namespace: 'shop', generation: 1, uid: /^[0-9a-f-]{36}$/ }, spec: { replicas: 2, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } } }, 'with the API server\'s defaults')
  t.match(created.body, { spec: { template: { metadata: { creationTimestamp: null }, spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', containers: [{ resources: {}, imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File' }] } } } })
  t.match(sim.get('Namespace', '', 'shop'), { kind: 'Namespace', status: { phase: 'Active' } }, 'the namespace exists from the first write into it')
  const again = await call(url, DEPLOYMENTS, { method: 'POST', body: deployment('checkout', 'checkout:1') })
  t.equal(again.status, 409)
  t.match(again.body, { kind: 'Status', reason: 'AlreadyExists', message: 'deployments.apps "checkout" already exists', details: { name: 'checkout', group: 'apps', kind: 'deployments' } })
  const withVersion = await call(url, DEPLOYMENTS, { method: 'POST', body: { ...deployment('cart', 'cart:1'), metadata: { name: 'cart', resourceVersion: '5' } } })
  t.match(withVersion, { status: 400, body: { message: 'resourceVersion should not be set on objects to be created' } })
  const invalid = await call(url, DEPLOYMENTS, { method: 'POST', body: { ...deployment('Bad_Name', 'x:1') } })
  t.match(invalid, { status: 422, body: { reason: 'Invalid', message: /metadata\.name: Invalid value: "Bad_Name"/ } })
  const elsewhere = await call(url, '/apis/apps/v1/namespaces/basket/deployments', { method: 'POST', body: deployment('checkout', 'checkout:1') })
  t.equal(elsewhere.status, 400, 'the namespace in the body must be the one in the path')
})

t.test('delete removes the object and, in the background, what it owns; Orphan keeps them', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  for (const image of ['checkout:1', 'checkout:2']) sim.apply(deployment('checkout', image))
  sim.apply(deployment('cart', 'cart:1'))
  const gone = await call(url, `${DEPLOYMENTS}/checkout`, { method: 'DELETE', body: { propagationPolicy: 'Background' } })
  t.match(gone, { status: 200, body: { kind: 'Status', status: 'Success', details: { name: 'checkout', group: 'apps', kind: 'deployments' } } })
  t.equal(sim.get('Deployment', 'shop', 'checkout'), undefined)
  t.same(sim.list('ReplicaSet', 'shop').map((rs) => rs.metadata.labels?.app), ['cart'], 'its ReplicaSets went with it')
  const orphaned = await call(url, `${DEPLOYMENTS}/cart?propagationPolicy=Orphan`, { method: 'DELETE' })
  t.equal(orphaned.status, 200)
  t.match(sim.list('ReplicaSet', 'shop'), [{ metadata: { labels: { app: 'cart' } } }], 'an orphan stays')
  t.notOk('ownerReferences' in (sim.list('ReplicaSet', 'shop')[0]?.metadata ?? {}), 'without its owner reference')
  t.equal((await call(url, `${DEPLOYMENTS}/cart`, { method: 'DELETE' })).status, 404)
  sim.apply(deployment('orders', 'orders:1'))
  const stale = await call(url, `${DEPLOYMENTS}/orders`, { method: 'DELETE', body: { preconditions: { resourceVersion: '1' } } })
  t.match(stale, { status: 409, body: { reason: 'Conflict' } }, 'a stale precondition conflicts')
})

t.test('lists across namespaces and by field; namespaces are listed too', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1'))
  sim.apply(deployment('checkout', 'checkout:1', { namespace: 'staging' }))
  const all = await call(url, '/apis/apps/v1/deployments')
  t.same(all.body.items.map((d) => d.metadata.namespace), ['shop', 'staging'])
  const one = await call(url, `/apis/apps/v1/deployments?fieldSelector=${encodeURIComponent('metadata.namespace=staging,metadata.name==checkout')}`)
  t.same(one.body.items.map((d) => d.metadata.namespace), ['staging'])
  const none = await call(url, `/apis/apps/v1/deployments?fieldSelector=${encodeURIComponent('metadata.name!=checkout')}`)
  t.same(none.body.items, [])
  t.match(await call(url, `${DEPLOYMENTS}?fieldSelector=spec.replicas%3D1`), { status: 400, body: { message: 'field label not supported: spec.replicas' } })
  const set = await call(url, `${DEPLOYMENTS}?labelSelector=${encodeURIComponent('app in (checkout,cart),tier notin (db)')}`)
  t.equal(set.body.items.length, 1, 'set-based label selectors')
  const namespaces = await call(url, '/api/v1/namespaces')
  t.same(namespaces.body.items.map((n) => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system', 'shop', 'staging'])
  t.equal((await call(url, '/apis/apps/v1/deployments/checkout')).status, 404, 'a namespaced object needs its namespace')
  t.equal((await call(url, `${DEPLOYMENTS}/checkout/status`)).status, 404, 'an unserved subresource')
  t.equal((await call(url, `${DEPLOYMENTS}/checkout`, { method: 'POST', body: {} })).status, 405)
})

t.test('server-side apply: create, merge, record the manager', async (t) => {
  const { sim, url, clock } = await startKubernetesSim(t)
  const applied = (image: string, replicas: number): string => JSON.stringify({ ...deployment('orders', image, { replicas }), metadata: { name: 'orders', namespace: 'shop', labels: { app: 'orders' } } })
  const created = await call(url, `${DEPLOYMENTS}/orders?fieldManager=kubectl&force=false`, { method: 'PATCH', contentType: 'application/apply-patch+yaml', body: applied('orders:1', 1) })
  t.equal(created.status, 201, 'an apply to a missing object creates it')
  t.match(created.body.metadata, { managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: new Date(clock.now).toISOString().replace(/\.\d{3}Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"orders"}': { '.': {}, 'f:image': {} } } } } } } }] })
  await call(url, `${DEPLOYMENTS}/orders/scale`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { replicas: 5 } } })
  const yaml = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: orders}\nspec:\n  template:\n    spec:\n      containers: [{name: orders, image: "orders:2"}]\n'
  const merged = await call(url, `${DEPLOYMENTS}/orders?fieldManager=ci`, { method: 'PATCH', contentType: 'application/apply-patch+yaml', body: yaml })
  t.equal(merged.status, 200)
  t.match(merged.body.spec, { replicas: 5, template: { spec: { containers: [{ name: 'orders', image: 'orders:2' }] } } }, 'YAML merged in; fields it does not name are left as they are')
  t.same(merged.body.metadata.managedFields.map((m) => m.manager), ['kubectl', 'ci'])
  t.equal(sim.list('ReplicaSet', 'shop').length, 2, 'the controller rolled the new template out')
  t.match(await call(url, `${DEPLOYMENTS}/orders`, { method: 'PATCH', contentType: 'application/apply-patch+yaml', body: yaml }), { status: 422, body: { message: /fieldManager: Required value: is required for apply patch/ } })
  t.match(await call(url, `${DEPLOYMENTS}/orders?fieldManager=x`, { method: 'PATCH', contentType: 'application/apply-patch+yaml', body: 'apiVersion: v1\nkind: Pod\nmetadata: {name: orders}\n' }), { status: 400 })
})

// A minimal protobuf encoder, to send what kubectl's typed clients send.
const varint = (n: number): number[] => { const out: number[] = []; do { out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0)); n >>>= 7 } while (n > 0); return out }
const bytes = (field: number, value: Uint8Array | string | number[]): number[] => { const b = typeof value === 'string' ? [...Buffer.from(value)] : [...value]; return [...varint((field << 3) | 2), ...varint(b.length), ...b] }
const int = (field: number, value: number): number[] => [...varint(field << 3), ...varint(value)]
const entry = (field: number, key: string, value: string): number[] => bytes(field, [...bytes(1, key), ...bytes(2, value)])

function protobufDeployment (): Uint8Array {
  const meta = (name?: string): number[] => [...(name === undefined ? [] : [...bytes(1, name), ...bytes(3, 'shop')]), ...bytes(8, []), ...entry(11, 'app', 'checkout'), ...int(7, 0)]
  const container = [...bytes(1, 'checkout'), ...bytes(2, 'checkout:1.4.1'), ...bytes(8, []), ...bytes(13, ''), ...bytes(14, ''), ...int(16, 0), ...int(17, 0), ...int(18, 0), ...bytes(20, ''), ...bytes(6, [...int(3, 8080), ...bytes(4, 'TCP'), ...int(2, 0)])]
  const podSpec = [...bytes(2, container), ...bytes(3, ''), ...bytes(6, ''), ...bytes(8, ''), ...bytes(9, ''), ...bytes(10, ''), ...int(11, 0), ...int(12, 0), ...int(13, 0), ...bytes(16, ''), ...bytes(17, ''), ...bytes(19, ''), ...bytes(24, '')]
  const spec = [...int(1, 3), ...bytes(2, entry(1, 'app', 'checkout')), ...bytes(3, [...bytes(1, meta()), ...bytes(2, podSpec)]), ...bytes(4, bytes(1, '')), ...int(5, 0), ...int(7, 0)]
  const object = [...bytes(1, meta('checkout')), ...bytes(2, spec), ...bytes(3, int(2, 0))]
  const unknown = [...bytes(1, [...bytes(1, 'apps/v1'), ...bytes(2, 'Deployment')]), ...bytes(2, object), ...bytes(3, ''), ...bytes(4, '')]
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...unknown])
}

t.test('protobuf bodies from kubectl\'s typed clients decode into the JSON Go would write', async (t) => {
  t.same(decodeKubernetesProtobuf(protobufDeployment()), {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'checkout', namespace: 'shop', creationTimestamp: null, labels: { app: 'checkout' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'checkout' } },
      template: { metadata: { creationTimestamp: null, labels: { app: 'checkout' } }, spec: { containers: [{ name: 'checkout', image: 'checkout:1.4.1', resources: {}, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] } },
      strategy: {},
    },
  })
  const { sim, url } = await startKubernetesSim(t)
  const created = await call(url, DEPLOYMENTS, { method: 'POST', contentType: 'application/vnd.kubernetes.protobuf', body: protobufDeployment() })
  t.equal(created.status, 201)
  t.match(sim.get('Deployment', 'shop', 'checkout'), { spec: { replicas: 3, template: { spec: { containers: [{ image: 'checkout:1.4.1' }] } } } })
  const odd = [0x6b, 0x38, 0x73, 0x00, ...bytes(1, [...bytes(1, 'apps/v1'), ...bytes(2, 'Deployment')]), ...bytes(2, [...bytes(2, int(42, 1))])]
  const refused = await call(url, DEPLOYMENTS, { method: 'POST', contentType: 'application/vnd.kubernetes.protobuf', body: new Uint8Array(odd) })
  t.match(refused, { status: 415, body: { kind: 'Status', message: /does not decode field 42 of DeploymentSpec/ } }, 'a field it cannot decode is refused, not dropped')
  const pod = [0x6b, 0x38, 0x73, 0x00, ...bytes(1, [...bytes(1, 'v1'), ...bytes(2, 'Pod')]), ...bytes(2, [])]
  t.match(await call(url, DEPLOYMENTS, { method: 'POST', contentType: 'application/vnd.kubernetes.protobuf', body: new Uint8Array(pod) }), { status: 415, body: { message: /not v1 Pod/ } })
})
