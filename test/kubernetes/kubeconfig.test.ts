/**
 * Which configurations the direct transport reads, and which it leaves to @kubernetes/client-node
 * (./transport.test.ts tests the direct one's TLS and tokens). The library is loaded only for the
 * latter: a process that runs a Kubernetes action with a token kubeconfig never loads it.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { stringify } from 'yaml'
import { loadKubernetesClient } from '../../src/kubernetes/client.js'
import { parseKubeconfig, resolveKubeconfig } from '../../src/kubernetes/kubeconfig.js'
import { resources } from '../../src/kubernetes/resources.js'
import { deployment, startKubernetesSim } from '../helpers/kubernetes.js'

const config = (cluster: Record<string, unknown>, user: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): string => stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'c', cluster }],
  users: user === undefined ? [] : [{ name: 'u', user }],
  contexts: [{ name: 'x', context: { cluster: 'c', ...(user === undefined ? {} : { user: 'u' }) } }],
  'current-context': 'x',
  ...extra,
})
const https = { server: 'https://api.example:6443/', 'certificate-authority-data': Buffer.from('CA').toString('base64') }

t.test('parseKubeconfig: a token, a token file or a client certificate is read directly', async (t) => {
  const dir = t.testdir({ 'ca.pem': 'CA FILE', 'client.pem': 'CERT FILE' })
  t.match(parseKubeconfig(config(https, { token: 'abc' }), dir), {
    direct: { server: 'https://api.example:6443', token: 'abc', tls: { ca: Buffer.from('CA') } },
  }, 'the trailing slash goes, the -data is base64')
  t.notOk('rejectUnauthorized' in (parseKubeconfig(config(https, { token: 'abc' }), dir) as { direct: { tls: object } }).direct.tls, 'verification is never turned off unless asked')
  t.match(parseKubeconfig(config({ ...https, 'certificate-authority': 'ca.pem' }, { 'client-certificate': 'client.pem', 'client-key-data': Buffer.from('KEY').toString('base64') }), dir), {
    direct: { tls: { ca: Buffer.from('CA FILE'), cert: Buffer.from('CERT FILE'), key: Buffer.from('KEY') } },
  }, 'a file wins over -data, relative to the kubeconfig\'s directory')
  t.match(parseKubeconfig(config({ server: 'http://127.0.0.1:8080', 'insecure-skip-tls-verify': true }, { 'token-file': '/run/token' }), dir), {
    direct: { server: 'http://127.0.0.1:8080', tokenFile: '/run/token', tls: { rejectUnauthorized: false } },
  })
  t.match(parseKubeconfig(config({ ...https, 'tls-server-name': 'kubernetes.default' }, undefined), dir), {
    direct: { tls: { servername: 'kubernetes.default' } },
  }, 'a context without a user sends no credentials')
  t.throws(() => parseKubeconfig(config({ server: 'http://10.0.0.1:8080' }, { token: 'abc' }), dir), /HTTP protocol is not allowed/,
    'plain HTTP without insecure-skip-tls-verify is refused, as the library refuses it: the token is never sent in the clear by default')
})

t.test('parseKubeconfig: what it does not read goes to the library, with the reason', async (t) => {
  const dir = t.testdir()
  const cases: Array<[string, string, RegExp]> = [
    ['an exec plugin', config(https, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } }), /user field "exec"/],
    ['an auth provider', config(https, { 'auth-provider': { name: 'oidc', config: {} } }), /user field "auth-provider"/],
    ['basic auth', config(https, { username: 'admin', password: 'secret' }), /user field "username"/],
    ['impersonation', config(https, { token: 'abc', as: 'someone' }), /user field "as"/],
    ['a proxy', config({ ...https, 'proxy-url': 'http://proxy:3128' }, { token: 'abc' }), /cluster field "proxy-url"/],
    ['no current context', config(https, { token: 'abc' }, { 'current-context': 'other' }), /no current context/],
    ['no server', config({ 'certificate-authority-data': 'Q0E=' }, { token: 'abc' }), /no server/],
    ['not YAML', ': : :\n\t- [', /not YAML|not a mapping/],
  ]
  for (const [what, text, reason] of cases) {
    const choice = parseKubeconfig(text, dir)
    t.ok('library' in choice, what)
    if ('library' in choice) t.match(choice.library, reason, what)
  }
})

t.test('resolveKubeconfig: DTR_KUBECONFIG, else in-cluster, else KUBECONFIG, else ~/.kube/config', async (t) => {
  const dir = t.testdir({
    explicit: config({ ...https, server: 'https://explicit:6443' }, { token: 'a' }),
    env1: config({ ...https, server: 'https://env:6443' }, { token: 'b' }),
    home: { '.kube': { config: config({ ...https, server: 'https://home:6443' }, { token: 'c' }) } },
    sa: { token: 'sa-token', 'ca.crt': 'SA CA' },
    nosa: {},
  })
  const serverOf = (choice: ReturnType<typeof resolveKubeconfig>): string => 'direct' in choice ? choice.direct.server : `library: ${choice.library}`
  const inClusterEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }
  t.equal(serverOf(resolveKubeconfig({ kubeconfigPath: join(dir, 'explicit'), env: inClusterEnv, serviceAccountDir: join(dir, 'sa') })), 'https://explicit:6443', 'an explicit path wins over in-cluster')
  const sa = resolveKubeconfig({ env: { ...inClusterEnv, KUBECONFIG: join(dir, 'env1') }, serviceAccountDir: join(dir, 'sa') })
  t.match(sa, { direct: { server: 'https://10.96.0.1:443', tokenFile: join(dir, 'sa', 'token'), tls: { ca: Buffer.from('SA CA') }, source: 'in-cluster service account' } })
  t.equal(serverOf(resolveKubeconfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: join(dir, 'sa') })), 'https://[fd00::1]:443', 'an IPv6 host in brackets')
  t.equal(serverOf(resolveKubeconfig({ env: { ...inClusterEnv, KUBECONFIG: join(dir, 'env1') }, serviceAccountDir: join(dir, 'nosa') })), 'https://env:6443', 'no token file: not in a cluster')
  t.equal(serverOf(resolveKubeconfig({ env: { HOME: join(dir, 'home') }, serviceAccountDir: join(dir, 'nosa') })), 'https://home:6443')
  t.match(resolveKubeconfig({ env: { KUBECONFIG: `${join(dir, 'env1')}:${join(dir, 'explicit')}` }, serviceAccountDir: join(dir, 'nosa') }), { library: /several files/ })
  t.match(resolveKubeconfig({ env: { HOME: join(dir, 'nosa') }, serviceAccountDir: join(dir, 'nosa') }), { library: /no kubeconfig/ })
  t.throws(() => resolveKubeconfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '8080' }, serviceAccountDir: join(dir, 'sa') }), /HTTP protocol is not allowed/,
    'in-cluster on an HTTP port is refused (no skip-verify there)')
  t.throws(() => resolveKubeconfig({ kubeconfigPath: join(dir, 'missing'), env: {} }), { code: 'ENOENT' }, 'a named file that is missing fails loudly')
})

t.test('the library reads what the direct transport leaves to it: an exec plugin against the simulator', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1.4.2'))
  const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } })
  const dir = t.testdir({
    config: config({ server: url, 'insecure-skip-tls-verify': true }, {
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`], interactiveMode: 'Never' },
    }),
  })
  const kube = await loadKubernetesClient({ kubeconfigPath: join(dir, 'config'), env: {} })
  t.equal(kube.transport, 'library')
  t.equal(kube.server, url)
  const list = await kube.list<{ metadata: { name: string } }>(resources.Deployment, 'shop')
  t.same(list.map((d) => d.metadata.name), ['checkout'])
})

t.test('a Kubernetes call with a token kubeconfig never loads @kubernetes/client-node; an exec plugin does', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1.4.2'))
  const preload = fileURLToPath(new URL('../helpers/loaded-modules.mjs', import.meta.url))
  const script = fileURLToPath(new URL('../fixtures/kubernetes/list-deployments.ts', import.meta.url))
  const dir = t.testdir()
  const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } })
  const configs = {
    token: config({ server: url, 'insecure-skip-tls-verify': true }, { token: 'simulator' }),
    exec: config({ server: url, 'insecure-skip-tls-verify': true }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`], interactiveMode: 'Never' } }),
  }
  const loadedBy = async (name: keyof typeof configs): Promise<{ out: { transport: string, names: string[] }, modules: string[] }> => {
    const sub = join(dir, name)
    mkdirSync(sub)
    writeFileSync(join(sub, 'config'), configs[name])
    const child = spawn(process.execPath, [`--import=${preload}`, ...process.execArgv, script, join(sub, 'config')], {
      env: { ...process.env, LOADED_MODULES_FILE: join(sub, 'modules.txt') },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const [code] = await once(child, 'exit')
    t.equal(code, 0, `${name}: the child listed the deployments`)
    return { out: JSON.parse(out), modules: readFileSync(join(sub, 'modules.txt'), 'utf8').split('\n').filter((l) => l !== '') }
  }
  const library = /\/node_modules\/@kubernetes\/client-node\//
  const direct = await loadedBy('token')
  t.same(direct.out, { transport: 'direct', names: ['checkout'] })
  t.ok(direct.modules.some((m) => /\/node_modules\/undici\//.test(m)), 'the list is real: undici, which carried the call, is in it')
  t.same(direct.modules.filter((m) => library.test(m)), [], 'no module of @kubernetes/client-node')
  const viaLibrary = await loadedBy('exec')
  t.same(viaLibrary.out, { transport: 'library', names: ['checkout'] })
  t.ok(viaLibrary.modules.some((m) => library.test(m)), 'the exec plugin loaded the library')
})
