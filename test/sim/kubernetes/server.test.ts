/**
 * What the simulated API server answers outside its resources, as kubectl reads it: /version,
 * aggregated and legacy discovery, the OpenAPI documents; and Table answers for kubectl get.
 */
import t from 'tap'
import { humanDuration } from '../../../sim/kubernetes/table.js'
import { deployment, startKubernetesSim } from '../../helpers/kubernetes.js'

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'

/** The parts of discovery, OpenAPI and Table documents the assertions walk. */
interface Doc {
  items: Array<{ metadata: { name: string }, versions: Array<{ resources: Array<{ resource: string }> }> }>
  resources: Array<{ name: string }>
  paths: Record<string, Record<string, { serverRelativeURL: string, parameters: Array<{ name: string, in: string }>, requestBody: { content: Record<string, unknown> } }>> & Record<string, { serverRelativeURL: string }>
  components: { schemas: Record<string, object> }
  columnDefinitions: Array<{ name: string, priority: number }>
  rows: Array<{ cells: unknown[], object?: unknown }>
  [key: string]: unknown
}

async function get (url: string, path: string, accept?: string): Promise<{ status: number, type: string, body: Doc }> {
  const res = await fetch(url + path, { headers: accept === undefined ? {} : { accept } })
  const text = await res.text()
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (text.startsWith('{') ? JSON.parse(text) : {}) as Doc }
}

t.test('/version names a v1.32 server', async (t) => {
  const { url } = await startKubernetesSim(t)
  const { body } = await get(url, '/version')
  t.match(body, { major: '1', minor: '32', gitVersion: /^v1\.32\.\d+$/, platform: 'linux/amd64' })
})

t.test('aggregated discovery, when the Accept header asks for it', async (t) => {
  const { url } = await startKubernetesSim(t)
  const apis = await get(url, '/apis', AGGREGATED)
  t.equal(apis.type, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', 'the content type names the kind, as client-go checks')
  t.match(apis.body, { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2' })
  const apps = apis.body.items.find((g) => g.metadata.name === 'apps')
  const deployments = apps?.versions[0]?.resources.find((r) => r.resource === 'deployments')
  t.same(deployments, {
    resource: 'deployments',
    responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    scope: 'Namespaced',
    singularResource: 'deployment',
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: [{ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] }],
  })
  t.same(apis.body.items.map((g) => g.metadata.name), ['apps', 'autoscaling'])
  const core = await get(url, '/api', AGGREGATED)
  t.match(core.body.items, [{ metadata: { name: '' }, versions: [{ version: 'v1', resources: [{ resource: 'namespaces', scope: 'Cluster', shortNames: ['ns'] }], freshness: 'Current' }] }])
  const beta = await get(url, '/apis', 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList')
  t.match(beta.body, { apiVersion: 'apidiscovery.k8s.io/v2beta1' })
})

t.test('legacy discovery for clients that do not ask for the aggregated form', async (t) => {
  const { url } = await startKubernetesSim(t)
  t.match((await get(url, '/api')).body, { kind: 'APIVersions', versions: ['v1'] })
  t.match((await get(url, '/apis')).body, { kind: 'APIGroupList', groups: [{ name: 'apps', preferredVersion: { groupVersion: 'apps/v1' } }, { name: 'autoscaling', versions: [{ groupVersion: 'autoscaling/v2' }] }] })
  t.match((await get(url, '/apis/apps')).body, { kind: 'APIGroup', name: 'apps' })
  const apps = (await get(url, '/apis/apps/v1')).body
  t.match(apps, { kind: 'APIResourceList', groupVersion: 'apps/v1' })
  t.match(apps.resources.find((r) => r.name === 'deployments/scale'), { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }, 'the scale subresource names its kind, which the scale client resolves')
  t.match((await get(url, '/api/v1')).body.resources, [{ name: 'namespaces', namespaced: false }])
  t.equal((await get(url, '/apis/batch/v1')).status, 404)
  t.equal((await get(url, '/apis/batch')).status, 404)
})

t.test('OpenAPI: v3 as JSON with what kubectl reads; v2 JSON only', async (t) => {
  const { url } = await startKubernetesSim(t)
  const index = (await get(url, '/openapi/v3')).body
  t.same(Object.keys(index.paths), ['api/v1', 'apis/apps/v1', 'apis/autoscaling/v2'])
  const doc = (await get(url, index.paths['apis/apps/v1']?.serverRelativeURL ?? '')).body
  t.equal(doc.openapi, '3.0.0')
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.patch
  t.match(patch, { 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': { group: 'apps', version: 'v1', kind: 'Deployment' }, operationId: 'patchAppsV1NamespacedDeployment' })
  t.ok(patch?.parameters.some((p) => p.name === 'fieldValidation' && p.in === 'query'), 'fieldValidation: kubectl then leaves validation to the server')
  t.ok('application/strategic-merge-patch+json' in (patch?.requestBody.content ?? {}), 'strategic merge patch is accepted')
  t.match(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']?.patch, { 'x-kubernetes-group-version-kind': { group: 'autoscaling', version: 'v1', kind: 'Scale' } })
  t.notOk(Object.values(doc.components.schemas).some((s) => 'x-kubernetes-group-version-kind' in s), 'no field schemas claim a kind: kubectl uses its compiled-in patch metadata')
  t.equal((await get(url, '/openapi/v3/apis/batch/v1')).status, 404)
  const v2proto = await get(url, '/openapi/v2', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf')
  t.equal(v2proto.status, 406, 'protobuf, which kubectl asks for, is not acceptable')
  t.match((await get(url, '/openapi/v2', 'application/json')).body, { swagger: '2.0', paths: { '/apis/apps/v1/namespaces/{namespace}/deployments/{name}': { patch: { consumes: ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'] } } } })
})

t.test('Table answers for kubectl get', async (t) => {
  const { sim, url, clock } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 2 }))
  sim.apply(deployment('cart', 'cart:1.0', { namespace: 'basket', replicas: 1 }))
  clock.now += 5 * 60_000 + 7_000
  const table = (await get(url, '/apis/apps/v1/deployments?limit=500', TABLE)).body
  t.match(table, { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: /^\d+$/ } })
  t.same(table.columnDefinitions.map((c) => [c.name, c.priority]), [['Name', 0], ['Ready', 0], ['Up-to-date', 0], ['Available', 0], ['Age', 0], ['Containers', 1], ['Images', 1], ['Selector', 1]])
  t.same(table.rows.map((r) => r.cells), [['cart', '1/1', 1, 1, '5m7s', 'cart', 'cart:1.0', 'app=cart'], ['checkout', '2/2', 2, 2, '5m7s', 'checkout', 'checkout:1.4.2', 'app=checkout']], 'all namespaces, ages from the simulator clock')
  t.match(table.rows[0]?.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'cart', namespace: 'basket' } }, 'rows carry the metadata kubectl reads the namespace from')
  const one = (await get(url, '/apis/apps/v1/namespaces/shop/replicasets?includeObject=None', TABLE)).body
  t.match(one.rows, [{ cells: [/^checkout-/, 2, 2, 2, '5m7s'] }])
  t.notOk('object' in (one.rows[0] ?? {}), 'includeObject=None')
  t.match((await get(url, '/apis/apps/v1/namespaces/shop/deployments/checkout')).body, { kind: 'Deployment' }, 'JSON unless a Table is asked for')
  t.same([0, 119_000, 120_000, 9 * 60_000 + 1000, 3 * 3_600_000 + 60_000, 2 * 86_400_000 + 3_600_000, 800 * 86_400_000].map(humanDuration), ['0s', '119s', '2m', '9m1s', '3h1m', '2d1h', '2y70d'])
})
