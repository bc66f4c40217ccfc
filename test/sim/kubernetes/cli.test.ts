import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { loadKubernetesClient } from '../../../src/kubernetes/client.js'
import { resources, type Workload } from '../../../src/kubernetes/resources.js'
import { parseManifests } from '../../../sim/kubernetes/cli.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const state = join(root, 'test/fixtures/kubernetes/shop.yaml')

t.test('parseManifests reads multi-document YAML and Lists', async (t) => {
  const objects = parseManifests('---\nkind: List\nitems: [{kind: Deployment}, {kind: StatefulSet}]\n---\n---\nkind: DaemonSet\n')
  t.same(objects.map((o) => o.kind), ['Deployment', 'StatefulSet', 'DaemonSet'])
  t.throws(() => parseManifests('- a\n- b\n'), /must be a Kubernetes object/)
})

t.test('dt-remediator sim kubernetes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-k8s-sim-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const kubeconfig = join(dir, 'kubeconfig')
  // Same Node flags as this test process, so the TypeScript loader tap uses applies to the child.
  const child = spawn(process.execPath, [...process.execArgv, join(root, 'src/cli.ts'), 'sim', 'kubernetes', '--port', '0', '--state', state, '--kubeconfig-out', kubeconfig], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const first = (await lines.next()).value as string
  t.match(first, /^http:\/\/127\.0\.0\.1:\d+$/, 'prints its URL first')
  const second = (await lines.next()).value as string
  t.match(second, /kubeconfig written/)

  const kube = await loadKubernetesClient({ kubeconfigPath: kubeconfig })
  t.equal(kube.server, first, 'the kubeconfig points at the simulator')
  const checkout = await kube.get<Workload>(resources.Deployment, 'shop', 'checkout')
  t.equal(checkout.spec.template.spec?.containers?.[0]?.image, 'checkout:1.4.2')
  t.equal(checkout.metadata.annotations?.['deployment.kubernetes.io/revision'], '2', 'seeded documents applied in order')

  child.kill('SIGTERM')
  const [code] = await exited
  t.equal(code, 0, 'stops cleanly on SIGTERM')
})
