/**
 * The direct transport against a real HTTPS server: it verifies the server as the kubeconfig says
 * (its CA, its server name), presents the client certificate, and sends the bearer token only to a
 * server it verified. Each attack is a test: an impostor's certificate, a certificate for another
 * name, a token file that vanished.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { loadKubernetesClient, type LoadedKubernetesClient } from '../../src/kubernetes/client.js'
import { resources } from '../../src/kubernetes/resources.js'
import { makeCertificates, opensslMissing, startHttpsApi, type TestCertificates } from '../helpers/tls.js'

const missing = opensslMissing()
if (missing !== false) {
  t.plan(0, missing)
} else {
  const certs = makeCertificates(t.testdir())
  run(certs)
}

const b64 = (b: Buffer): string => b.toString('base64')

function kubeconfig (cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  })
}

async function api (t: Test, options: Parameters<typeof startHttpsApi>[0]): Promise<Awaited<ReturnType<typeof startHttpsApi>>> {
  const started = await startHttpsApi(options)
  t.teardown(() => { started.server.closeAllConnections(); started.server.close() })
  return started
}

async function client (t: Test, text: string, files: Record<string, string> = {}): Promise<LoadedKubernetesClient> {
  const dir = t.testdir({ config: text, ...files })
  return loadKubernetesClient({ kubeconfigPath: join(dir, 'config'), env: {} })
}

const list = async (kube: LoadedKubernetesClient): Promise<unknown> => kube.list(resources.Deployment, 'shop')

/** A mounted service account's directory: its CA and its token. */
function serviceAccount (t: Test, ca: Buffer, token: string): string {
  const dir = join(t.testdir(), 'serviceaccount')
  mkdirSync(dir)
  writeFileSync(join(dir, 'ca.crt'), ca)
  writeFileSync(join(dir, 'token'), token)
  return dir
}

function run (certs: TestCertificates): void {
  const serverName = { 'tls-server-name': 'kubernetes.default' }

  t.test('verifies the server with the kubeconfig\'s CA and sends the token to it', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey })
    const kube = await client(t, kubeconfig({ server: url, 'certificate-authority-data': b64(certs.ca), ...serverName }, { token: 'sa-token' }))
    t.equal(kube.transport, 'direct')
    t.same(await list(kube), [])
    t.match(seen, [{ method: 'GET', url: '/apis/apps/v1/namespaces/shop/deployments', authorization: 'Bearer sa-token' }])
  })

  t.test('attack: an impostor\'s certificate is refused before the token is sent', async (t) => {
    const { url, seen } = await api(t, { cert: certs.strangerCert, key: certs.strangerKey })
    const kube = await client(t, kubeconfig({ server: url, 'certificate-authority-data': b64(certs.ca), ...serverName }, { token: 'sa-token' }))
    await t.rejects(list(kube), /self.signed|unable to verify|certificate/i)
    t.same(seen, [], 'the impostor saw no request, so no token')
  })

  t.test('attack: a certificate the CA signed for another name is refused', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey })
    // No tls-server-name: the client checks the certificate against 127.0.0.1, which it does not name.
    const kube = await client(t, kubeconfig({ server: url, 'certificate-authority-data': b64(certs.ca) }, { token: 'sa-token' }))
    await t.rejects(list(kube), /altnames|does not match|not in the cert/i)
    t.same(seen, [])
  })

  t.test('no CA in the kubeconfig: the system\'s CAs decide, and they do not know ours', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey })
    const kube = await client(t, kubeconfig({ server: url, ...serverName }, { token: 'sa-token' }))
    await t.rejects(list(kube), /certificate/i)
    t.same(seen, [])
  })

  t.test('insecure-skip-tls-verify: true is what the user asked for, and is obeyed', async (t) => {
    const { url, seen } = await api(t, { cert: certs.strangerCert, key: certs.strangerKey })
    const kube = await client(t, kubeconfig({ server: url, 'insecure-skip-tls-verify': true }, { token: 'sa-token' }))
    t.same(await list(kube), [])
    t.equal(seen.length, 1)
  })

  t.test('a CA file relative to the kubeconfig, and a client certificate from files', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey, requireClientCertificate: certs.ca })
    const dir = t.testdir({ 'ca.crt': certs.ca, 'client.crt': certs.clientCert, 'client.key': certs.clientKey })
    writeFileSync(join(dir, 'config'), kubeconfig({ server: url, 'certificate-authority': 'ca.crt', ...serverName }, { 'client-certificate': 'client.crt', 'client-key': 'client.key' }))
    const kube = await loadKubernetesClient({ kubeconfigPath: join(dir, 'config'), env: {} })
    t.same(await list(kube), [])
    t.match(seen, [{ clientCertificate: 'system:serviceaccount:dt-remediator:dt-remediator', authorization: undefined }])
  })

  t.test('a server that requires a client certificate refuses a client without one', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey, requireClientCertificate: certs.ca })
    const kube = await client(t, kubeconfig({ server: url, 'certificate-authority-data': b64(certs.ca), ...serverName }, { token: 'sa-token' }))
    await t.rejects(list(kube))
    t.same(seen, [])
  })

  t.test('a token file is read for every request: a rotated token is used at once', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey })
    const dir = t.testdirName
    const kube = await client(t, kubeconfig({ server: url, 'certificate-authority-data': b64(certs.ca), ...serverName }, { 'token-file': join(dir, 'token') }), { token: 'first-token\n' })
    await list(kube)
    writeFileSync(join(dir, 'token'), 'second-token')
    await list(kube)
    t.same(seen.map((s) => s.authorization), ['Bearer first-token', 'Bearer second-token'])
  })

  t.test('fault: a token file that vanished fails the request, which is not sent without it', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey })
    const dir = t.testdirName
    const kube = await client(t, kubeconfig({ server: url, 'certificate-authority-data': b64(certs.ca), ...serverName }, { 'token-file': join(dir, 'token') }), { token: 'first-token' })
    rmSync(join(dir, 'token'))
    await t.rejects(list(kube), { code: 'ENOENT' })
    t.same(seen, [])
  })

  t.test('fault: an empty token file fails the request too, rather than sending it anonymously', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey })
    const dir = t.testdirName
    const kube = await client(t, kubeconfig({ server: url, 'certificate-authority-data': b64(certs.ca), ...serverName }, { 'token-file': join(dir, 'token') }), { token: '\n' })
    await t.rejects(list(kube), /token file .* is empty/)
    t.same(seen, [])
  })

  t.test('in-cluster: the service account\'s CA and token, the server from the environment', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverCert, key: certs.serverKey })
    const sa = serviceAccount(t, certs.ca, 'bound-token')
    const port = new URL(url).port
    // In a cluster, KUBERNETES_SERVICE_HOST is an IP the API server's certificate names; this
    // certificate names kubernetes.default only.
    const kube = await loadKubernetesClient({ env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, serviceAccountDir: sa })
    t.equal(kube.transport, 'direct')
    t.equal(kube.server, `https://127.0.0.1:${port}`)
    // 127.0.0.1 is not in the certificate: refused, as a real client would refuse it.
    await t.rejects(list(kube), /altnames|does not match/i)
    t.same(seen, [])
  })

  t.test('in-cluster with a certificate that names the service host', async (t) => {
    const { url, seen } = await api(t, { cert: certs.serverIpCert, key: certs.serverIpKey })
    const sa = serviceAccount(t, certs.ca, 'bound-token')
    const kube = await loadKubernetesClient({ env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(url).port }, serviceAccountDir: sa })
    t.same(await list(kube), [])
    t.match(seen, [{ authorization: 'Bearer bound-token' }])
  })
}
