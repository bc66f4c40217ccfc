/**
 * deploy/kubernetes/ without a cluster: the manifests parse as kubectl parses them (YAML 1.1),
 * kustomization.yaml lists them all, and the Deployment agrees with rbac.yaml, with the service's
 * own configuration parser (src/config.ts), with the Secret, the ConfigMap, the claim and the
 * Service, and runs under a restrictive security context.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { ConfigError, loadConfig, SECRET_VARIABLES, type Env } from '../../src/config.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dir = 'deploy/kubernetes'
const read = (path: string): string => readFileSync(join(root, path), 'utf8')

interface Metadata { name: string, namespace?: string, labels?: Record<string, string> }
interface K8sObject { apiVersion: string, kind: string, metadata: Metadata, [key: string]: unknown }

interface EnvVar {
  name: string
  value?: string
  valueFrom?: { secretKeyRef?: { name: string, key: string, optional?: boolean }, configMapKeyRef?: { name: string, key: string } }
}
interface Probe { httpGet?: { path: string, port: number | string } }
interface SecurityContext {
  runAsNonRoot?: boolean
  runAsUser?: number
  runAsGroup?: number
  fsGroup?: number
  readOnlyRootFilesystem?: boolean
  allowPrivilegeEscalation?: boolean
  privileged?: boolean
  capabilities?: { drop?: string[], add?: string[] }
  seccompProfile?: { type: string }
}
interface Container {
  name: string
  ports?: Array<{ name?: string, containerPort: number }>
  env?: EnvVar[]
  envFrom?: unknown[]
  livenessProbe?: Probe
  readinessProbe?: Probe
  startupProbe?: Probe
  resources?: { requests?: Record<string, string>, limits?: Record<string, string> }
  securityContext?: SecurityContext
  volumeMounts?: Array<{ name: string, mountPath: string, readOnly?: boolean, subPath?: string }>
}
interface Volume {
  name: string
  persistentVolumeClaim?: { claimName: string }
  emptyDir?: Record<string, unknown>
  configMap?: { name: string, items?: Array<{ key: string, path: string }> }
  secret?: { secretName: string, items?: Array<{ key: string, path: string }>, defaultMode?: number }
}
interface Deployment extends K8sObject {
  spec: {
    replicas?: number
    strategy?: { type: string }
    selector: { matchLabels: Record<string, string> }
    template: {
      metadata: { labels: Record<string, string> }
      spec: {
        serviceAccountName?: string
        automountServiceAccountToken?: boolean
        terminationGracePeriodSeconds?: number
        hostNetwork?: boolean
        hostPID?: boolean
        hostIPC?: boolean
        securityContext?: SecurityContext
        containers: Container[]
        volumes?: Volume[]
      }
    }
  }
}

/** Every document of every manifest, parsed the way kubectl does (YAML 1.1: 0440 is octal). */
function loadFolder (): Map<string, K8sObject[]> {
  const files = new Map<string, K8sObject[]>()
  for (const file of readdirSync(join(root, dir)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const docs = parseAllDocuments(read(`${dir}/${file}`), { version: '1.1', prettyErrors: false })
    const list = Array.isArray(docs) ? docs : [docs]
    const errors = list.flatMap((d) => d.errors.map((e) => e.message))
    if (errors.length > 0) throw new Error(`${dir}/${file}: ${errors.join('; ')}`)
    files.set(file, list.map((d) => d.toJS() as K8sObject).filter((o) => o !== null))
  }
  return files
}

const files = loadFolder()
const objects = [...files.entries()].filter(([file]) => file !== 'kustomization.yaml').flatMap(([, docs]) => docs)
const find = <T extends K8sObject>(kind: string): T[] => objects.filter((o) => o.kind === kind) as T[]

const [deployment] = find<Deployment>('Deployment')
if (deployment === undefined) throw new Error('deploy/kubernetes has no Deployment')
const pod = deployment.spec.template.spec
const [container] = pod.containers
if (container === undefined) throw new Error('the Deployment has no container')
const env = container.env ?? []
const volumeOf = (mountName: string): Volume | undefined => pod.volumes?.find((v) => v.name === mountName)

const [secret] = find<K8sObject & { stringData?: Record<string, string>, data?: Record<string, string> }>('Secret')
const secretKeys = new Set(Object.keys({ ...secret?.data, ...secret?.stringData }))

/**
 * The files the pod sees from Secret and ConfigMap mounts: path → where its content comes from.
 * Mirrors kubelet: the whole object's keys as files, or only `items`, under the mount path.
 */
function mountedFiles (): Map<string, { kind: 'Secret' | 'ConfigMap', name: string, key: string }> {
  const mounted = new Map<string, { kind: 'Secret' | 'ConfigMap', name: string, key: string }>()
  for (const mount of container?.volumeMounts ?? []) {
    const volume = volumeOf(mount.name)
    const source = volume?.secret !== undefined
      ? { kind: 'Secret' as const, name: volume.secret.secretName, items: volume.secret.items }
      : volume?.configMap !== undefined ? { kind: 'ConfigMap' as const, name: volume.configMap.name, items: volume.configMap.items } : undefined
    if (source === undefined || mount.subPath !== undefined) continue
    const object = objects.find((o) => o.kind === source.kind && o.metadata.name === source.name) as
      (K8sObject & { data?: Record<string, string>, stringData?: Record<string, string> }) | undefined
    const keys = Object.keys({ ...object?.data, ...object?.stringData })
    const items = source.items ?? keys.map((key) => ({ key, path: key }))
    for (const item of items) mounted.set(posix.join(mount.mountPath, item.path), { kind: source.kind, name: source.name, key: item.key })
  }
  return mounted
}

/** Variable names src/config.ts reads, and the secrets it also reads as `X_FILE`. */
function configVariables (): { names: Set<string>, secrets: Set<string> } {
  const source = read('src/config.ts')
  const names = new Set(source.match(/\bDTR_[A-Z_]+\b/g) ?? [])
  return { names, secrets: new Set(SECRET_VARIABLES) }
}

/** The Deployment's literal env, as loadConfig sees it. */
const literalEnv: Env = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]))

t.test('every manifest parses into Kubernetes objects', async (t) => {
  t.ok(files.size >= 8, 'namespace, rbac, secret, configmap, pvc, deployment, service, kustomization')
  const seen = new Set<string>()
  for (const [file, docs] of files) {
    t.ok(docs.length > 0, `${file} has a document`)
    for (const doc of docs) {
      t.type(doc.apiVersion, 'string', `${file}: apiVersion`)
      t.type(doc.kind, 'string', `${file}: kind`)
      if (doc.kind === 'Kustomization') continue
      t.type(doc.metadata?.name, 'string', `${file}: ${doc.kind} has a name`)
      const id = `${doc.kind}/${doc.metadata.namespace ?? ''}/${doc.metadata.name}`
      t.notOk(seen.has(id), `${id} is defined once`)
      seen.add(id)
    }
  }
})

t.test('kustomization.yaml lists every manifest in the folder, and only those', async (t) => {
  const kustomization = files.get('kustomization.yaml')?.[0] as (K8sObject & { resources?: string[] }) | undefined
  if (kustomization === undefined) return t.fail('kustomization.yaml exists')
  const manifests = [...files.keys()].filter((f) => f !== 'kustomization.yaml').sort()
  t.same([...(kustomization.resources ?? [])].sort(), manifests)
  t.ok(manifests.includes('rbac.yaml'), 'including rbac.yaml')
})

t.test('everything namespaced lives in the namespace namespace.yaml creates, under restricted Pod Security', async (t) => {
  const [namespace] = find('Namespace')
  if (namespace === undefined) return t.fail('a Namespace is defined')
  t.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted')
  const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding'])
  for (const o of objects.filter((o) => !clusterScoped.has(o.kind))) {
    t.equal(o.metadata.namespace, namespace.metadata.name, `${o.kind} ${o.metadata.name}`)
  }
})

t.test('the Deployment runs as the ServiceAccount rbac.yaml binds', async (t) => {
  const rbac = files.get('rbac.yaml') ?? []
  const account = rbac.find((o) => o.kind === 'ServiceAccount')
  if (account === undefined) return t.fail('rbac.yaml defines a ServiceAccount')
  t.equal(pod.serviceAccountName, account.metadata.name)
  t.equal(deployment.metadata.namespace, account.metadata.namespace)
  t.not(pod.automountServiceAccountToken, false, 'the token is mounted: the actions call the API with it')
  const binding = rbac.find((o) => o.kind === 'ClusterRoleBinding') as (K8sObject & { subjects: Array<{ kind: string, name: string, namespace: string }> }) | undefined
  t.ok(binding?.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === pod.serviceAccountName && s.namespace === deployment.metadata.namespace),
    'and that account is the one bound to the ClusterRole')
  t.same(deployment.spec.selector.matchLabels, Object.fromEntries(Object.keys(deployment.spec.selector.matchLabels).map((k) => [k, deployment.spec.template.metadata.labels[k]])),
    'the selector matches the pod template')
})

t.test('the Deployment sets only variables the service reads', async (t) => {
  const { names, secrets } = configVariables()
  // The rules file may read other variables through ${env:NAME} placeholders (SPEC 5).
  const rulesVariables = new Set([...read('config/remediation.yaml').matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string))
  t.ok(env.length > 0)
  t.same(container.envFrom ?? [], [], 'no envFrom: every variable is named here, where this test can see it')
  for (const { name, value } of env) {
    const known = names.has(name) || (name.endsWith('_FILE') && secrets.has(name.slice(0, -'_FILE'.length))) || rulesVariables.has(name)
    t.ok(known, `${name} is read by src/config.ts (or is a secret's _FILE, or a \${env:} of the rules)`)
    t.notOk(secrets.has(name) && value !== undefined, `${name} is a secret: not a literal value`)
  }
  t.notOk(env.some((e) => e.name === 'DTR_MODE'), 'DTR_MODE is unset: the rules file decides the mode')
  t.equal(new Set(env.map((e) => e.name)).size, env.length, 'no variable is set twice')
})

t.test('every secret the Deployment references exists in secret.yaml', async (t) => {
  if (secret === undefined) return t.fail('secret.yaml defines a Secret')
  for (const key of ['webhook-tokens', 'dynatrace-token', 'admin-tokens']) t.ok(secretKeys.has(key), `secret.yaml has ${key}`)
  for (const e of env.filter((e) => e.valueFrom?.secretKeyRef !== undefined)) {
    const ref = e.valueFrom?.secretKeyRef
    t.equal(ref?.name, secret.metadata.name, `${e.name} reads the Secret`)
    t.ok(secretKeys.has(ref?.key ?? ''), `${e.name}: key ${ref?.key ?? ''} is in secret.yaml`)
  }
  const mounted = mountedFiles()
  const { secrets } = configVariables()
  const fileVars = env.filter((e) => e.name.endsWith('_FILE') && secrets.has(e.name.slice(0, -'_FILE'.length)))
  t.ok(fileVars.length >= 3, 'the secrets come in as files')
  for (const e of fileVars) {
    const file = mounted.get(e.value ?? '')
    t.equal(file?.kind, 'Secret', `${e.name}=${e.value ?? ''} is a file of the Secret mount`)
    t.ok(secretKeys.has(file?.key ?? ''), `${e.name}: its key ${file?.key ?? ''} is in secret.yaml`)
  }
  for (const volume of (pod.volumes ?? []).filter((v) => v.secret !== undefined)) {
    t.equal(volume.secret?.secretName, secret.metadata.name, `volume ${volume.name} mounts secret.yaml's Secret`)
    // Files are root-owned with the pod's fsGroup as group: the group must be able to read them.
    t.equal(((volume.secret?.defaultMode ?? 0o644) & 0o040), 0o040, 'its files are group-readable (fsGroup)')
    t.equal(((volume.secret?.defaultMode ?? 0o644) & 0o007), 0, 'and not world-readable')
  }
})

t.test('loadConfig accepts the Deployment\'s environment once the Secret is filled in', async (t) => {
  const mounted = mountedFiles()
  const podFiles = (content: (key: string) => string) => ({
    readFile (path: string): string {
      const file = mounted.get(path)
      if (file === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
      return content(file.key)
    },
  })
  const token = 'f3a9c1d27b4e86a0c5d1e9f2b7a34c68'
  const config = loadConfig(literalEnv, podFiles(() => `${token}\n`))
  t.same(config.webhookTokens, [token], 'webhook tokens from the mounted file')
  t.same(config.adminTokens, [{ name: 'admin', token }], 'admin tokens from the mounted file (a bare token is named admin)')
  t.equal(config.mode, undefined, 'no DTR_MODE')
  t.equal(config.databaseUrl, undefined, 'the embedded store')

  // As shipped, the placeholders are empty: the service refuses to start rather than accept them.
  const shipped = secret?.stringData ?? {}
  t.throws(() => loadConfig(literalEnv, podFiles((key) => shipped[key] ?? '')), ConfigError, 'empty placeholders stop start-up')
  try {
    loadConfig(literalEnv, podFiles((key) => shipped[key] ?? ''))
  } catch (err) {
    t.match((err as Error).message, /_FILE: ".*" is empty/, 'naming the empty file')
  }
})

t.test('probes check /healthz and /readyz on the port the service listens on', async (t) => {
  const config = loadConfig(literalEnv, { readFile: () => 'placeholder-token' })
  const port = container.ports?.find((p) => p.containerPort === config.port)
  t.ok(port, `a container port is ${config.port}, where DTR_PORT makes the service listen`)
  const probePort = (probe: Probe | undefined): number | undefined => {
    const p = probe?.httpGet?.port
    return typeof p === 'number' ? p : container.ports?.find((cp) => cp.name === p)?.containerPort
  }
  t.equal(container.livenessProbe?.httpGet?.path, '/healthz', 'liveness: /healthz')
  t.equal(probePort(container.livenessProbe), config.port)
  t.equal(container.readinessProbe?.httpGet?.path, '/readyz', 'readiness: /readyz (store reachable)')
  t.equal(probePort(container.readinessProbe), config.port)
  if (container.startupProbe !== undefined) {
    t.equal(container.startupProbe.httpGet?.path, '/healthz', 'startup: /healthz')
    t.equal(probePort(container.startupProbe), config.port)
  }
})

t.test('the security context is restrictive', async (t) => {
  const effective = { ...pod.securityContext, ...container.securityContext }
  t.equal(effective.runAsNonRoot, true, 'runAsNonRoot')
  t.type(effective.runAsUser, 'number', 'runAsUser is numeric')
  t.not(effective.runAsUser, 0, 'and not root')
  t.type(effective.runAsGroup, 'number', 'runAsGroup is numeric')
  t.not(effective.runAsGroup, 0, 'and not root')
  t.equal(container.securityContext?.readOnlyRootFilesystem, true, 'readOnlyRootFilesystem')
  t.equal(container.securityContext?.allowPrivilegeEscalation, false, 'allowPrivilegeEscalation: false')
  t.not(container.securityContext?.privileged, true, 'not privileged')
  t.ok(container.securityContext?.capabilities?.drop?.includes('ALL'), 'drops ALL capabilities')
  t.same(container.securityContext?.capabilities?.add ?? [], [], 'adds none back')
  t.equal(effective.seccompProfile?.type, 'RuntimeDefault', 'seccomp RuntimeDefault')
  t.notOk(pod.hostNetwork === true || pod.hostPID === true || pod.hostIPC === true, 'no host namespaces')
})

t.test('the data directory is a writable, persistent, single-writer volume', async (t) => {
  const config = loadConfig(literalEnv, { readFile: () => 'placeholder-token' })
  const mount = container.volumeMounts?.find((m) => m.mountPath === config.dataDir)
  if (mount === undefined) return t.fail(`a volume is mounted at DTR_DATA_DIR (${config.dataDir})`)
  t.not(mount.readOnly, true, 'writable')
  t.equal(mount.subPath, undefined)
  const [claim] = find<K8sObject & { spec: { accessModes: string[] } }>('PersistentVolumeClaim')
  t.equal(volumeOf(mount.name)?.persistentVolumeClaim?.claimName, claim?.metadata.name, 'backed by the claim in pvc.yaml')
  t.same(claim?.spec.accessModes, ['ReadWriteOnce'], 'one node at a time')
  t.type(pod.securityContext?.fsGroup, 'number', 'fsGroup makes the volume writable for the non-root user')
  t.equal(pod.securityContext?.fsGroup, { ...pod.securityContext, ...container.securityContext }.runAsGroup, 'the user\'s group')

  const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp')
  t.ok(tmp !== undefined && volumeOf(tmp.name)?.emptyDir !== undefined, '/tmp is a writable emptyDir on the read-only root')

  // The embedded store serves one process: one replica, and the old pod gone before the new
  // one opens the directory.
  t.equal(config.databaseUrl, undefined)
  t.notOk(env.some((e) => e.name.startsWith('DTR_DATABASE_URL')), 'no shared database configured')
  t.equal(deployment.spec.replicas ?? 1, 1, 'so one replica')
  t.equal(deployment.spec.strategy?.type, 'Recreate', 'replaced with Recreate, never two at once')
})

t.test('the ConfigMap holds config/remediation.yaml byte for byte, mounted at DTR_RULES_FILE', async (t) => {
  const config = loadConfig(literalEnv, { readFile: () => 'placeholder-token' })
  const file = mountedFiles().get(config.rulesFile)
  if (file === undefined) return t.fail(`DTR_RULES_FILE (${config.rulesFile}) is a file of a mount`)
  t.equal(file.kind, 'ConfigMap')
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === file.name) as (K8sObject & { data?: Record<string, string> }) | undefined
  t.equal(configMap?.data?.[file.key], read('config/remediation.yaml'), 'identical to config/remediation.yaml')
  const mount = container.volumeMounts?.find((m) => config.rulesFile.startsWith(`${m.mountPath}/`))
  t.equal(mount?.readOnly, true, 'mounted read-only')
  t.equal(mount?.subPath, undefined, 'as a directory, so that ConfigMap updates reach the file')
})

t.test('the Service sends port 80 to the container\'s http port', async (t) => {
  const [service] = find<K8sObject & { spec: { type?: string, selector: Record<string, string>, ports: Array<{ name: string, port: number, targetPort: string | number }> } }>('Service')
  if (service === undefined) return t.fail('service.yaml defines a Service')
  t.equal(service.spec.type ?? 'ClusterIP', 'ClusterIP')
  const port = service.spec.ports.find((p) => p.port === 80)
  t.equal(port?.name, 'http')
  t.equal(port?.targetPort, 'http', 'by name')
  t.equal(container.ports?.find((p) => p.name === 'http')?.containerPort, 8080)
  for (const [key, value] of Object.entries(service.spec.selector)) {
    t.equal(deployment.spec.template.metadata.labels[key], value, `the pods carry ${key}=${value}`)
  }
})

t.test('Kubernetes waits for the graceful shutdown and bounds the resources', async (t) => {
  const delay = /closeWithGrace\(\s*\{[^}]*delay:\s*([\d_]+)/.exec(read('src/server.ts'))?.[1]
  if (delay === undefined) return t.fail('src/server.ts passes closeWithGrace a delay; update this test if that moved')
  const drainSeconds = Number(delay.replaceAll('_', '')) / 1000
  t.ok((pod.terminationGracePeriodSeconds ?? 30) > drainSeconds,
    `terminationGracePeriodSeconds (${pod.terminationGracePeriodSeconds ?? 30}) leaves the ${drainSeconds} s drain time to finish before SIGKILL`)
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory']) t.ok(container.resources?.[kind]?.[resource], `${kind}.${resource} is set`)
  }
})
