/**
 * The real kubectl against `dt-remediator sim kubernetes`: every command of issue 8 answers as it
 * does against an API server, and what it changed is what an API server would hold. Skipped, with
 * the reason, where kubectl is not installed.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { stringify } from 'yaml'
import { createRollbackAction } from '../../../actions/index.js'
import type { Obj } from '../../../sim/kubernetes/patch.js'
import { runAction } from '../../../src/sdk/testing.js'
import { findKubectl, KUBECTL_MISSING, kubectlFor, type Kubectl } from '../../helpers/kubectl.js'
import { deployment, imageOf, revisionOf, startKubernetesSim } from '../../helpers/kubernetes.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const binary = findKubectl()

const manifest = (name: string, image: string, replicas: number): string => stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image, ports: [{ containerPort: 8080 }] }] } },
  },
})

/** What the assertions read of `kubectl … -o json`. */
interface Printed {
  metadata: { name: string, uid: string, generation: number, annotations: Record<string, string>, managedFields?: unknown, ownerReferences?: unknown }
  spec: { replicas: number, template: { metadata: { annotations?: Record<string, string> }, spec: { containers: Array<{ name: string, image: string }> } } }
  status: { conditions: Array<{ type: string }> }
  items: Printed[]
  serverVersion: unknown
}

async function json (kubectl: Kubectl, ...args: string[]): Promise<Printed> {
  const { code, stdout, stderr } = await kubectl.run(...args, '-o', 'json')
  if (code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${stderr}`)
  return JSON.parse(stdout) as Printed
}

t.test('kubectl against sim kubernetes', { skip: binary === undefined ? KUBECTL_MISSING : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-sim-kubectl-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const kubeconfig = join(dir, 'kubeconfig')
  // Same Node flags as this test process, so the TypeScript loader tap uses applies to the child.
  const sim = spawn(process.execPath, [...process.execArgv, join(root, 'src/cli.ts'), 'sim', 'kubernetes', '--port', '0', '--kubeconfig-out', kubeconfig], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  const simExited = once(sim, 'exit')
  t.teardown(() => { if (sim.exitCode === null) sim.kill('SIGKILL') })
  const lines = createInterface({ input: sim.stdout })[Symbol.asyncIterator]()
  await lines.next()
  await lines.next()
  const kubectl = kubectlFor(t, binary as string, { path: kubeconfig })
  const run = async (...args: string[]): Promise<string> => {
    const { code, stdout, stderr } = await kubectl.run(...args)
    t.equal(code, 0, `kubectl ${args.join(' ')} exits 0${code === 0 ? '' : `: ${stderr}`}`)
    return stdout
  }

  t.test('version: the server is a v1.32 API server', async (t) => {
    const version = await json(kubectl, 'version')
    t.match(version.serverVersion, { major: '1', minor: '32', gitVersion: /^v1\.32\.\d+$/ })
  })

  t.test('create, set image, history, undo, restart, scale, status, get', async (t) => {
    t.match(await run('create', 'deployment', 'checkout', '--image=checkout:1.4.1', '-n', 'shop'), /^deployment\.apps\/checkout created$/m)
    t.match(await run('set', 'image', 'deployment/checkout', 'checkout=checkout:1.4.2', '-n', 'shop'), /^deployment\.apps\/checkout image updated$/m)
    const history = await run('rollout', 'history', 'deployment/checkout', '-n', 'shop')
    t.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/, 'two revisions')

    t.match(await run('rollout', 'undo', 'deployment/checkout', '-n', 'shop'), /^deployment\.apps\/checkout rolled back$/m)
    const undone = await json(kubectl, 'get', 'deployment', 'checkout', '-n', 'shop')
    t.equal(undone.spec.template.spec.containers[0]?.image, 'checkout:1.4.1', 'the old image is back')
    t.equal(undone.metadata.annotations['deployment.kubernetes.io/revision'], '3', 'as revision 3')
    t.match(await run('rollout', 'history', 'deployment/checkout', '-n', 'shop'), /\n2\s+<none>\n3\s+<none>/, 'revision 1 became 3')

    t.match(await run('rollout', 'restart', 'deployment/checkout', '-n', 'shop'), /^deployment\.apps\/checkout restarted$/m)
    const restarted = await json(kubectl, 'get', 'deployment', 'checkout', '-n', 'shop')
    t.match(restarted.spec.template.metadata.annotations, { 'kubectl.kubernetes.io/restartedAt': /^\d{4}-\d\d-\d\dT/ })

    t.match(await run('scale', '--replicas=3', 'deployment/checkout', '-n', 'shop'), /^deployment\.apps\/checkout scaled$/m)
    t.match(await run('rollout', 'status', 'deployment/checkout', '-n', 'shop', '--timeout=30s'), /deployment "checkout" successfully rolled out/)
    const scaled = await json(kubectl, 'get', 'deployment', 'checkout', '-n', 'shop')
    t.match(scaled, { spec: { replicas: 3 }, status: { observedGeneration: scaled.metadata.generation, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 } })
    const condition = (type: string): unknown => scaled.status.conditions.find((c) => c.type === type)
    t.match(condition('Available'), { status: 'True', reason: 'MinimumReplicasAvailable' })
    t.match(condition('Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable' })

    const all = await run('get', 'deploy', '-A')
    t.match(all, /^NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/, 'the Table columns')
    t.match(all, /^shop\s+checkout\s+3\/3\s+3\s+3\s+\S+$/m)
    const sets = await json(kubectl, 'get', 'replicasets', '-n', 'shop', '-l', 'app=checkout')
    t.equal(sets.items.length, 3, 'one ReplicaSet per template: 1.4.1, 1.4.2, restarted')
    for (const rs of sets.items) {
      t.match(rs.metadata.ownerReferences, [{ kind: 'Deployment', name: 'checkout', uid: scaled.metadata.uid, controller: true }], `${String(rs.metadata.name)} is owned by the Deployment`)
    }
  })

  t.test('apply -f: create, configure, unchanged', async (t) => {
    const file = join(dir, 'cart.yaml')
    writeFileSync(file, manifest('cart', 'cart:2.0', 2))
    t.match(await run('apply', '-f', file), /^deployment\.apps\/cart created$/m)
    writeFileSync(file, manifest('cart', 'cart:2.1', 2))
    t.match(await run('apply', '-f', file), /^deployment\.apps\/cart configured$/m)
    t.match(await run('apply', '-f', file), /^deployment\.apps\/cart unchanged$/m)
    const cart = await json(kubectl, 'get', 'deployment', 'cart', '-n', 'shop')
    t.equal(cart.spec.template.spec.containers[0]?.image, 'cart:2.1')
    t.match(JSON.parse(cart.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] ?? '{}'), { spec: { template: { spec: { containers: [{ image: 'cart:2.1' }] } } } })
  })

  t.test('apply --server-side: create, then change', async (t) => {
    const file = join(dir, 'orders.yaml')
    writeFileSync(file, manifest('orders', 'orders:1.0', 1))
    t.match(await run('apply', '--server-side', '-f', file), /^deployment\.apps\/orders serverside-applied$/m)
    writeFileSync(file, manifest('orders', 'orders:1.1', 2))
    t.match(await run('apply', '--server-side', '-f', file), /^deployment\.apps\/orders serverside-applied$/m)
    const orders = await json(kubectl, 'get', 'deployment', 'orders', '-n', 'shop', '--show-managed-fields')
    t.match(orders, { spec: { replicas: 2, template: { spec: { containers: [{ name: 'orders', image: 'orders:1.1' }] } } }, status: { updatedReplicas: 2 } })
    t.match(orders.metadata.managedFields, [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }])
  })

  t.test('the simulator stops cleanly on SIGTERM', async (t) => {
    sim.kill('SIGTERM')
    const [code] = await simExited
    t.equal(code, 0)
  })
})

t.test('kubectl rollout status follows a stepped rollout through the watch', { skip: binary === undefined ? KUBECTL_MISSING : false }, async (t) => {
  const { sim } = await startKubernetesSim(t, { rollouts: 'stepped', objects: [deployment('checkout', 'checkout:1.4.1', { replicas: 4 })] })
  sim.settle()
  const kubectl = kubectlFor(t, binary as string, { yaml: sim.kubeconfig() })
  sim.apply(deployment('checkout', 'checkout:1.4.2', { replicas: 4 }))
  const status = kubectl.start('rollout', 'status', 'deployment/checkout', '-n', 'shop', '--timeout=60s')
  await sim.untilWatched({ resource: 'deployments', namespace: 'shop' })
  // One controller sync at a time; each change reaches kubectl as a watch event.
  let steps = 0
  while (sim.step()) steps++
  const { code, stdout } = await status.exited
  t.equal(code, 0, 'rollout status exits 0')
  t.ok(steps >= 4, `the rollout took ${steps} controller syncs`)
  t.match(stdout, /Waiting for deployment spec update to be observed\.\.\./, 'it saw the unobserved generation')
  t.match(stdout, /Waiting for deployment "checkout" rollout to finish: \d+ (out of 4 new replicas have been updated|old replicas are pending termination|of 4 updated replicas are available)\.\.\./, 'it saw the rollout in progress')
  t.match(stdout, /deployment "checkout" successfully rolled out\n$/, 'and its end')
})

t.test('kubernetes.rollback leaves the same pod template as kubectl rollout undo', { skip: binary === undefined ? KUBECTL_MISSING : false }, async (t) => {
  // Three revisions that differ in image, env and a template annotation, with a change-cause.
  const history = ['1.4.0', '1.4.1', '1.4.2'].map((v, i) => {
    const d = deployment('checkout', `checkout:${v}`, { annotations: { 'kubernetes.io/change-cause': `deploy ${v}` } })
    const template = (d.spec as { template: { metadata: Record<string, unknown>, spec: { containers: Array<Record<string, unknown>> } } }).template
    template.metadata.annotations = { 'prometheus.io/scrape': String(i % 2 === 0) }
    const first = template.spec.containers[0] as Record<string, unknown>
    first.env = [{ name: 'VERSION', value: v }]
    return d
  })
  for (const [what, undo, params] of [['previous revision', [], {}], ['--to-revision=1', ['--to-revision=1'], { toRevision: 1 }]] as const) {
    const kubectlWorld = await startKubernetesSim(t, { objects: history })
    const actionWorld = await startKubernetesSim(t, { objects: history })
    const kubectl = kubectlFor(t, binary as string, { yaml: kubectlWorld.sim.kubeconfig() })
    const undone = await kubectl.run('rollout', 'undo', 'deployment/checkout', '-n', 'shop', ...undo)
    t.equal(undone.code, 0, `kubectl rollout undo ${undo.join(' ')}: ${undone.stderr}`)
    const { outcome } = await runAction(createRollbackAction(actionWorld.kube), { target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, params })
    t.equal(outcome.status, 'succeeded', `kubernetes.rollback to the ${what}`)
    const viaKubectl = kubectlWorld.sim.get('Deployment', 'shop', 'checkout')
    const viaAction = actionWorld.sim.get('Deployment', 'shop', 'checkout')
    t.same((viaAction?.spec as Obj).template, (viaKubectl?.spec as Obj).template, `${what}: the same pod template`)
    t.same(viaAction?.metadata.annotations, viaKubectl?.metadata.annotations, `${what}: the same annotations`)
    t.equal(imageOf(viaAction), what === 'previous revision' ? 'checkout:1.4.1' : 'checkout:1.4.0')
    t.same(actionWorld.sim.list('ReplicaSet', 'shop').map((rs) => [rs.metadata.name, revisionOf(rs)]), kubectlWorld.sim.list('ReplicaSet', 'shop').map((rs) => [rs.metadata.name, revisionOf(rs)]), `${what}: the same ReplicaSets and revisions`)
  }
})
