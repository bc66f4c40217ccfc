/**
 * examples/configmap-action: a single-file action mounted from a ConfigMap. The overlay is
 * rendered with `kubectl kustomize`, its ConfigMaps are laid out as the kubelet mounts them (the
 * keys as links through `..data` to a timestamped directory), and the action is loaded through
 * the rules file at the Deployment's DTR_RULES_FILE — by the built CLI, as `kubectl exec … check-config`
 * runs in the pod, and by the service's runner, which plans and runs it against the simulators.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { ensureBuilt, root } from '../helpers/build.js'
import { deployment } from '../helpers/kubernetes.js'
import { startLoop } from '../helpers/runner.js'

const run = promisify(execFile)

interface Rendered { kind: string, metadata: { name: string }, data?: Record<string, string>, spec?: unknown }
interface Pod {
  containers: Array<{ env?: Array<{ name: string, value?: string }>, volumeMounts?: Array<{ name: string, mountPath: string, readOnly?: boolean }> }>
  volumes?: Array<{ name: string, configMap?: { name: string } }>
}

const kubectl = await run('kubectl', ['version', '--client']).then(() => true, () => false)

async function render (): Promise<Rendered[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(root, 'examples/configmap-action')], { maxBuffer: 16 * 1024 * 1024 })
  return parseAllDocuments(stdout, { version: '1.1' }).map((d) => d.toJS() as Rendered)
}

/**
 * The pod's ConfigMap mounts under `base`, as the kubelet writes them: the data in a timestamped
 * directory, `..data` linking to it, and each key a link through `..data`. Returns the pod's env.
 */
function mount (objects: Rendered[], base: string): Record<string, string> {
  const pod = (objects.find((o) => o.kind === 'Deployment')?.spec as { template: { spec: Pod } }).template.spec
  const [container] = pod.containers
  for (const m of container?.volumeMounts ?? []) {
    const source = pod.volumes?.find((v) => v.name === m.name)?.configMap
    if (source === undefined) continue
    const data = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === source.name)?.data ?? {}
    const dir = join(base, m.mountPath)
    mkdirSync(join(dir, '..2025_01_01_00_00_00.000000001'), { recursive: true })
    symlinkSync('..2025_01_01_00_00_00.000000001', join(dir, '..data'))
    for (const [key, value] of Object.entries(data)) {
      writeFileSync(join(dir, '..2025_01_01_00_00_00.000000001', key), value)
      symlinkSync(posix.join('..data', key), join(dir, key))
    }
  }
  return Object.fromEntries((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]))
}

t.before(ensureBuilt)

t.test('the overlay mounts the action beside the rules, read-only, and the rules load it', { skip: kubectl ? false : 'kubectl not found on PATH: the kustomize example is not rendered (CI has it)' }, async (t) => {
  const objects = await render()
  const actions = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'dt-remediator-actions')
  t.ok(actions?.data?.['flush-cache.mjs']?.includes("name: 'acme.flush-cache'"), 'the action file is a ConfigMap')
  const rules = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'dt-remediator-rules')
  t.match(rules?.data?.['remediation.yaml'], /- \.\.\/actions\/flush-cache\.mjs/, 'the rules ConfigMap is the example\'s')
  const pod = (objects.find((o) => o.kind === 'Deployment')?.spec as { template: { spec: Pod } }).template.spec
  const mounts = pod.containers[0]?.volumeMounts ?? []
  t.match(mounts.find((m) => m.mountPath === '/etc/dt-remediator/actions'), { readOnly: true }, 'mounted read-only')
  t.ok(mounts.some((m) => m.mountPath === '/etc/dt-remediator/rules'), 'the base\'s rules mount is kept')

  const base = t.testdir()
  const env = mount(objects, base)
  const rulesFile = join(base, env.DTR_RULES_FILE ?? '')
  t.equal(env.DTR_RULES_FILE, '/etc/dt-remediator/rules/remediation.yaml')

  t.test('check-config in the pod: the built CLI, DTR_RULES_FILE from the Deployment', async (t) => {
    const { stdout } = await run(process.execPath, [join(root, 'dist/src/cli.js'), 'check-config', '--strict'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', DTR_RULES_FILE: rulesFile, DTR_LOG_LEVEL: 'silent' },
    })
    t.match(stdout, /: OK\n/)
    t.match(stdout, /custom actions loaded: acme\.flush-cache/)
    t.match(stdout, /actions used: acme\.flush-cache, kubernetes\.restart/)
  })

  t.test('the runner plans and runs it: an opted-in workload is flushed (dry run, as the rules say)', async (t) => {
    const loop = await startLoop(t, { rulesFile })
    loop.k8s.sim.apply(deployment('checkout', 'checkout:1.4.2', { annotations: { 'acme.io/cache-flush': 'true' } }))
    t.equal(await loop.notify(), 202)
    await loop.settle()
    const [comment = ''] = loop.comments()
    t.match(comment, /acme\.flush-cache .*Deployment shop\/checkout/)
    t.match(comment, /Dry run: would POST http:\/\/checkout\.shop\.svc:8080\/admin\/cache\/flush/)
    const [run] = (await loop.store.runs.list({ limit: 5 })).runs
    t.match(run, { action: 'acme.flush-cache', state: 'dry_run', rule: 'flush-stale-cache' })
  })

  t.test('a workload that has not opted in is skipped at plan time, and the ladder goes on to the restart', async (t) => {
    const loop = await startLoop(t, { rulesFile })
    await loop.notify()
    await loop.settle()
    const runs = (await loop.store.runs.list({ limit: 5 })).runs
    t.match(runs.find((r) => r.action === 'acme.flush-cache'), { state: 'skipped', reason: /has not opted in/ })
    t.match(runs.find((r) => r.action === 'kubernetes.restart'), { state: 'dry_run' })
  })
})
