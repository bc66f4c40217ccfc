/**
 * Certificates for TLS tests, made by the machine's `openssl` (P-256 keys: fast): a CA, a server
 * certificate it signed for `kubernetes.default` only (no IP address, so a client that does not set
 * the server name fails), one it signed for 127.0.0.1, a client certificate it signed, and a second CA that signed nothing we
 * trust. Undefined, with the reason, where openssl is absent.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import { join } from 'node:path'

export interface TestCertificates {
  readonly dir: string
  readonly ca: Buffer
  readonly serverCert: Buffer
  readonly serverKey: Buffer
  /** Signed by the CA for 127.0.0.1, as an in-cluster API server's names its service IP. */
  readonly serverIpCert: Buffer
  readonly serverIpKey: Buffer
  readonly clientCert: Buffer
  readonly clientKey: Buffer
  /** Self-signed by another key: what an impostor presents. */
  readonly strangerCert: Buffer
  readonly strangerKey: Buffer
}

export function opensslMissing (): string | false {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' })
  return probe.status === 0 ? false : 'openssl is not installed: the TLS tests need it to make certificates'
}

function openssl (dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`)
}

export function makeCertificates (dir: string): TestCertificates {
  const key = (name: string): void => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`])
  const selfSigned = (name: string, cn: string): void => {
    key(name)
    openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '2', '-out', `${name}.crt`])
  }
  const signed = (name: string, cn: string, ext: string): void => {
    key(name)
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`])
    writeFileSync(join(dir, `${name}.ext`), ext)
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`])
  }
  selfSigned('ca', 'dt-remediator test CA')
  signed('server', 'kubernetes', 'subjectAltName=DNS:kubernetes.default\nextendedKeyUsage=serverAuth\n')
  signed('server-ip', 'kubernetes', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  signed('client', 'system:serviceaccount:dt-remediator:dt-remediator', 'extendedKeyUsage=clientAuth\n')
  selfSigned('stranger', 'kubernetes.default')
  const read = (file: string): Buffer => readFileSync(join(dir, file))
  return {
    dir,
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    serverIpCert: read('server-ip.crt'),
    serverIpKey: read('server-ip.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    strangerCert: read('stranger.crt'),
    strangerKey: read('stranger.key'),
  }
}

export interface SeenRequest { method: string, url: string, authorization: string | undefined, clientCertificate: string | undefined }

/**
 * An HTTPS stand-in for the API server: answers every request with an empty DeploymentList and
 * records what reached it (a request refused during the handshake never does).
 */
export async function startHttpsApi (options: { cert: Buffer, key: Buffer, requireClientCertificate?: Buffer }): Promise<{ url: string, seen: SeenRequest[], server: Server }> {
  const seen: SeenRequest[] = []
  const server = createServer({
    cert: options.cert,
    key: options.key,
    ...(options.requireClientCertificate === undefined ? {} : { ca: options.requireClientCertificate, requestCert: true, rejectUnauthorized: true }),
  }, (req, res) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate()
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, clientCertificate: typeof peer?.subject?.CN === 'string' ? peer.subject.CN : undefined })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ kind: 'DeploymentList', apiVersion: 'apps/v1', items: [] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return { url: `https://127.0.0.1:${address.port}`, seen, server }
}
