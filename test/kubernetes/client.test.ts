import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadKubernetesClient } from '../../src/kubernetes/client.js'
import { kubernetesReader } from '../../src/kubernetes/reader.js'
import { KubernetesApiError } from '../../src/kubernetes/errors.js'
import { resources } from '../../src/kubernetes/resources.js'
import { deployment, startKubernetesSim } from '../helpers/kubernetes.js'

t.test('loadKubernetesClient uses an explicit kubeconfig path first', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1.4.2'))
  const dir = mkdtempSync(join(tmpdir(), 'dtr-kubeconfig-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'config'), sim.kubeconfig())
  // An env that looks in-cluster must not win over the explicit path.
  const kube = await loadKubernetesClient({ kubeconfigPath: join(dir, 'config'), env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } })
  t.equal(kube.server, url)
  const list = await kube.list<{ metadata: { name: string } }>(resources.Deployment, 'shop')
  t.same(list.map((d) => d.metadata.name), ['checkout'])
  t.match(sim.requests.at(-1), { verb: 'list', resource: 'deployments', namespace: 'shop' })
})

t.test('the client turns Status answers into KubernetesApiError', async (t) => {
  const { kube } = await startKubernetesSim(t)
  const error = await kube.get(resources.Deployment, 'shop', 'nope').then(() => undefined, (err: unknown) => err)
  t.ok(error instanceof KubernetesApiError)
  t.match(error, { responseStatus: 404, status: { reason: 'NotFound', message: 'deployments.apps "nope" not found' }, verb: 'get', objectName: 'nope' })
})

t.test('kubernetesReader: the read-only ctx.kubernetes helper', async (t) => {
  const { sim, kube } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1.4.2'))
  const reader = kubernetesReader(kube)
  const found = await reader.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'checkout' })
  t.match(found, { kind: 'Deployment', metadata: { name: 'checkout' } })
  t.equal(await reader.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'nope' }), undefined, 'undefined for 404')
  await t.rejects(reader.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'shop', name: 'x' }), /not readable/)
  t.notOk(sim.requests.some((r) => r.method !== 'GET'), 'reads only')
})
