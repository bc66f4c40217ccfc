/**
 * What `kubectl kustomize` makes of deploy/kubernetes (the base) and deploy/overlays/production,
 * as `kubectl apply -k` would send it: the probes, the restrictive security context and the RBAC
 * survive the overlay unchanged (the RBAC is rbac.yaml's, which test/actions/rbac.test.ts proves
 * is exactly what the actions use); the overlay runs two replicas on PostgreSQL with no volume, a
 * PodDisruptionBudget that lets a drain proceed one pod at a time, an Ingress that exposes only
 * the webhooks over TLS, a NetworkPolicy that lets the ingress controller and Prometheus in and
 * Dynatrace out, and alerts on the metrics SPEC 11 names. Skipped, saying so, without kubectl.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { parseAllDocuments } from 'yaml'
import { loadConfig } from '../../src/config.js'
import { root } from '../helpers/build.js'

const run = promisify(execFile)
const kubectl = await run('kubectl', ['version', '--client']).then(() => true, () => false)
const skip = kubectl ? false : 'kubectl not found on PATH: deploy/kubernetes and its overlays are not rendered (CI has kubectl)'

interface Obj { apiVersion: string, kind: string, metadata: { name: string, namespace?: string, labels?: Record<string, string>, annotations?: Record<string, string> }, [key: string]: unknown }
interface Probe { httpGet?: { path: string, port: number | string } }
interface Container {
  name: string
  ports?: Array<{ name?: string, containerPort: number }>
  env?: Array<{ name: string, value?: string }>
  livenessProbe?: Probe
  readinessProbe?: Probe
  startupProbe?: Probe
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } }
  volumeMounts?: Array<{ name: string, mountPath: string }>
}
interface PodSpec { securityContext?: Record<string, unknown>, containers: Container[], volumes?: Array<{ name: string, persistentVolumeClaim?: unknown, secret?: { secretName: string } }> }
interface Deployment extends Obj { spec: { replicas?: number, strategy?: { type: string, rollingUpdate?: { maxUnavailable?: number | string } }, template: { metadata: { labels: Record<string, string> }, spec: PodSpec } } }

async function render (dir: string): Promise<Obj[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(root, dir)], { maxBuffer: 16 * 1024 * 1024 })
  return parseAllDocuments(stdout, { version: '1.1' }).map((d) => d.toJS() as Obj)
}
const one = <T extends Obj>(objects: Obj[], kind: string): T => {
  const found = objects.filter((o) => o.kind === kind)
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`)
  return found[0] as T
}
const rbacRules = (objects: Obj[]): unknown => objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').map((o) => o.rules)
const shippedRbac = parseAllDocuments(readFileSync(join(root, 'deploy/kubernetes/rbac.yaml'), 'utf8')).map((d) => d.toJS() as Obj)
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)

/** Probes, security context and RBAC: what every rendering must keep. */
function checkInvariants (t: Test, objects: Obj[]): void {
  const deployment = one<Deployment>(objects, 'Deployment')
  const pod = deployment.spec.template.spec
  const [container] = pod.containers
  if (container === undefined) {
    t.fail('a container')
    return
  }
  const port = (p: Probe | undefined): number | undefined => {
    const v = p?.httpGet?.port
    return typeof v === 'number' ? v : container.ports?.find((cp) => cp.name === v)?.containerPort
  }
  t.equal(container.livenessProbe?.httpGet?.path, '/healthz', 'liveness probe: /healthz')
  t.equal(container.readinessProbe?.httpGet?.path, '/readyz', 'readiness probe: /readyz')
  t.equal(container.startupProbe?.httpGet?.path, '/healthz', 'startup probe: /healthz')
  for (const p of [container.livenessProbe, container.readinessProbe, container.startupProbe]) t.equal(port(p), 8080, 'on the service\'s port')
  const effective = { ...pod.securityContext, ...container.securityContext }
  t.match(effective, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } }, 'non-root, RuntimeDefault seccomp')
  t.match(container.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }, 'read-only root, no privilege escalation')
  t.same(container.securityContext?.capabilities?.drop, ['ALL'], 'all capabilities dropped')
  t.same(rbacRules(objects), rbacRules(shippedRbac), 'the RBAC is rbac.yaml\'s, verb for verb')
  const verbs = (rbacRules(objects) as Array<Array<{ verbs: string[], resources: string[] }>>).flat()
  t.notOk(verbs.some((r) => r.verbs.includes('*') || r.resources.includes('*') || r.resources.includes('secrets')), 'no wildcard, no secrets')
  const namespace = one(objects, 'Namespace')
  t.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted')
}

t.test('the base renders with its probes, security context and RBAC', { skip }, async (t) => {
  const objects = await render('deploy/kubernetes')
  checkInvariants(t, objects)
  t.equal(one<Deployment>(objects, 'Deployment').spec.replicas, 1, 'one replica on the embedded store')
  t.ok(objects.some((o) => o.kind === 'PersistentVolumeClaim'))
})

t.test('the production overlay', { skip }, async (t) => {
  const objects = await render('deploy/overlays/production')
  const deployment = one<Deployment>(objects, 'Deployment')
  const pod = deployment.spec.template.spec
  const container = pod.containers[0] as Container
  const podLabels = deployment.spec.template.metadata.labels

  t.test('keeps the base\'s probes, security context and RBAC', async (t) => checkInvariants(t, objects))

  t.test('runs two replicas on PostgreSQL, rolling one at a time, with no volume for an embedded store', async (t) => {
    t.equal(deployment.spec.replicas, 2)
    t.equal(deployment.spec.strategy?.type, 'RollingUpdate')
    t.equal(deployment.spec.strategy?.rollingUpdate?.maxUnavailable, 0, 'a ready pod always answers the webhook')
    t.notOk(objects.some((o) => o.kind === 'PersistentVolumeClaim'), 'no claim')
    t.notOk(pod.volumes?.some((v) => v.persistentVolumeClaim !== undefined), 'no claim mounted')
    const env = Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]))
    t.notOk('DTR_DATA_DIR' in env, 'no data directory')
    const file = env.DTR_DATABASE_URL_FILE ?? ''
    const mount = container.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`))
    const secretName = pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === secretName) as (Obj & { stringData?: Record<string, string> }) | undefined
    t.ok(secret?.stringData !== undefined && posix.basename(file) in secret.stringData, `DTR_DATABASE_URL_FILE (${file}) is a key of the mounted Secret`)
    const config = loadConfig(env, { readFile: (path) => path === file ? 'postgres://dtr:secret@postgres.databases.svc:5432/dtr\n' : 'f3a9c1d27b4e86a0c5d1e9f2b7a34c68' })
    t.equal(config.databaseUrl, 'postgres://dtr:secret@postgres.databases.svc:5432/dtr', 'the service reads the URL from the file')
  })

  t.test('a PodDisruptionBudget lets a drain take one pod at a time', async (t) => {
    const pdb = one<Obj & { spec: { minAvailable?: number, selector: { matchLabels: Record<string, string> } } }>(objects, 'PodDisruptionBudget')
    t.ok(matches(pdb.spec.selector.matchLabels, podLabels), 'it selects the pods')
    t.ok((pdb.spec.minAvailable ?? 0) >= 1 && (pdb.spec.minAvailable ?? 0) < (deployment.spec.replicas ?? 1), 'at least one stays, and a drain can still proceed')
  })

  t.test('an Ingress exposes only /webhooks, over TLS, to the Service\'s http port', async (t) => {
    type Path = { path: string, pathType: string, backend: { service: { name: string, port: { name?: string, number?: number } } } }
    const ingress = one<Obj & { spec: { tls?: Array<{ hosts: string[], secretName: string }>, rules: Array<{ host: string, http: { paths: Path[] } }> } }>(objects, 'Ingress')
    const service = one<Obj & { spec: { selector: Record<string, string>, ports: Array<{ name: string, port: number, targetPort: string | number }> } }>(objects, 'Service')
    for (const rule of ingress.spec.rules) {
      t.ok(ingress.spec.tls?.some((tls) => tls.hosts.includes(rule.host) && tls.secretName !== ''), `${rule.host} has a TLS certificate`)
      t.same(rule.http.paths.map((p) => `${p.pathType} ${p.path}`), ['Prefix /webhooks'], 'only the webhooks: not /api, /metrics or the probes')
      for (const p of rule.http.paths) {
        t.equal(p.backend.service.name, service.metadata.name)
        t.ok(service.spec.ports.some((sp) => sp.name === p.backend.service.port.name || sp.port === p.backend.service.port.number), 'a port of the Service')
      }
    }
    t.equal(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/force-ssl-redirect'], 'true', 'plain HTTP is redirected')
    t.ok(matches(service.spec.selector, podLabels))
  })

  t.test('the NetworkPolicy lets the ingress controller and Prometheus in on the http port, and Dynatrace, DNS, PostgreSQL out', async (t) => {
    type Peer = { namespaceSelector?: { matchLabels?: Record<string, string> }, podSelector?: unknown, ipBlock?: { cidr: string, except?: string[] } }
    type Rule = { from?: Peer[], to?: Peer[], ports?: Array<{ port: number | string, protocol?: string }> }
    const policy = one<Obj & { spec: { podSelector: { matchLabels: Record<string, string> }, policyTypes: string[], ingress: Rule[], egress: Rule[] } }>(objects, 'NetworkPolicy')
    t.ok(matches(policy.spec.podSelector.matchLabels, podLabels), 'it selects the pods')
    t.same([...policy.spec.policyTypes].sort(), ['Egress', 'Ingress'], 'both directions are restricted')
    const httpPort = container.ports?.find((p) => p.name === 'http')
    const allowsIn = (namespace: string): boolean => policy.spec.ingress.some((r) =>
      (r.from ?? []).some((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === namespace) &&
      (r.ports ?? []).some((p) => p.port === httpPort?.name || p.port === httpPort?.containerPort))
    t.ok(allowsIn('ingress-nginx'), 'the ingress controller (the Ingress\'s class, nginx) reaches the http port: Dynatrace\'s webhooks')
    t.ok(allowsIn('monitoring'), 'Prometheus reaches /metrics')
    t.ok(policy.spec.ingress.every((r) => (r.from ?? []).length > 0 && (r.ports ?? []).length > 0), 'no rule lets everyone in, or on every port')
    const allowsOut = (port: number, peer: (p: Peer) => boolean): boolean => policy.spec.egress.some((r) => (r.to ?? []).some(peer) && (r.ports ?? []).some((p) => p.port === port))
    t.ok(allowsOut(443, (p) => p.ipBlock?.cidr === '0.0.0.0/0'), 'HTTPS out of the cluster: Dynatrace SaaS, Slack')
    t.ok(allowsOut(53, (p) => p.namespaceSelector !== undefined), 'DNS')
    t.ok(allowsOut(5432, (p) => p.namespaceSelector !== undefined), 'PostgreSQL')
    t.ok(allowsOut(443, (p) => /\/32$/.test(p.ipBlock?.cidr ?? '')) || allowsOut(6443, (p) => /\/32$/.test(p.ipBlock?.cidr ?? '')), 'the Kubernetes API server')
  })

  t.test('Prometheus scrapes the pods and alerts on the outbox, failed write-backs and reconciliation errors, by SPEC 11\'s names', async (t) => {
    const monitor = one<Obj & { spec: { selector: { matchLabels: Record<string, string> }, endpoints: Array<{ port: string, path: string }> } }>(objects, 'ServiceMonitor')
    const service = one(objects, 'Service')
    t.ok(matches(monitor.spec.selector.matchLabels, service.metadata.labels ?? {}), 'the ServiceMonitor selects the Service')
    t.match(monitor.spec.endpoints, [{ port: 'http', path: '/metrics' }])
    const rule = one<Obj & { spec: { groups: Array<{ rules: Array<{ alert: string, expr: string, for?: string, labels: { severity: string }, annotations: { summary: string } }> }> } }>(objects, 'PrometheusRule')
    const alerts = rule.spec.groups.flatMap((g) => g.rules)
    const spec11 = /## 11\.[\s\S]*?## 12\./.exec(readFileSync(join(root, '../shared/SPEC.md'), 'utf8'))?.[0] ?? ''
    const metricsSource = readFileSync(join(root, 'src/metrics.ts'), 'utf8')
    const used = new Set(alerts.flatMap((a) => a.expr.match(/\bdtr_[a-z_]+/g) ?? []))
    for (const name of used) t.ok(spec11.includes(`\`${name}`) || spec11.includes(`${name}\``), `${name} is a metric SPEC 11 names`)
    for (const name of ['dtr_writeback_pending', 'dtr_writeback_oldest_seconds', 'dtr_writeback_failed_total', 'dtr_reconcile_total']) t.ok(used.has(name), `an alert reads ${name}`)
    for (const name of ['dtr_writeback_pending', 'dtr_writeback_oldest_seconds', 'dtr_writeback_failed_total']) t.ok(metricsSource.includes(`'${name}'`), `${name} is exported by src/metrics.ts`)
    t.ok(alerts.some((a) => /dtr_reconcile_total\{outcome="error"\}/.test(a.expr)), 'reconciliation errors by outcome="error"')
    for (const a of alerts) {
      t.equal([...a.expr].filter((c) => c === '(').length, [...a.expr].filter((c) => c === ')').length, `${a.alert}: balanced parentheses`)
      t.ok(a.for === undefined || /^\d+[smh]$/.test(a.for), `${a.alert}: a Prometheus duration`)
      t.ok(['warning', 'critical'].includes(a.labels.severity) && a.annotations.summary !== '', `${a.alert}: severity and summary`)
    }
  })
})
