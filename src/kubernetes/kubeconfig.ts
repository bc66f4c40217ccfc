/**
 * Where the Kubernetes API is and how to authenticate to it, read without
 * @kubernetes/client-node for the configurations a service account or a plain kubeconfig gives:
 * the in-cluster service account, and a kubeconfig whose current context names a cluster (server,
 * CA, `insecure-skip-tls-verify`, `tls-server-name`) and a user with a bearer token, a token file
 * or a client certificate. Loading that library costs ~73 MB of RSS and ~0.5 s (its generated API
 * is 21 MB of JavaScript, pulled in by its KubeConfig), which is what kept a big outage's peak
 * above 200 MB (issue 23).
 *
 * Anything else (exec plugins, auth providers, basic auth, impersonation, proxies, several
 * KUBECONFIG files, a field this reader does not know) is left to the library, which reads the
 * same configuration as before: `{ library: reason }`. The order is SPEC section 3's: DTR_KUBECONFIG,
 * else the in-cluster service account, else `$KUBECONFIG`, else `~/.kube/config`.
 *
 * The choices mirror the library's, so that both read one file the same way: certificate files
 * win over `-data`, relative paths are relative to the kubeconfig's directory, a plain-HTTP server
 * is refused unless `insecure-skip-tls-verify: true`, in-cluster ports 80, 8080 and 8001 mean
 * HTTP, a `token-file` path is taken as given. Two differ. A token file is read on every request
 * (bound service-account tokens rotate), not once a minute. Certificate and CA files are read
 * once, when the client is first used, where the library read them for every request: a rotated
 * cluster CA then fails verification (closed) until the service restarts.
 */
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'
import { isIPv6 } from 'node:net'
import { parse } from 'yaml'

/** How to reach one API server without the library. */
export interface DirectConnection {
  /** The server URL without a trailing slash. */
  readonly server: string
  /** TLS options for every connection to `server` (ignored for `http:`). */
  readonly tls: {
    readonly ca?: Buffer
    readonly cert?: Buffer
    readonly key?: Buffer
    /** false only with `insecure-skip-tls-verify: true`; unset means Node's default (verify). */
    readonly rejectUnauthorized?: boolean
    readonly servername?: string
  }
  /** A bearer token given in the configuration. */
  readonly token?: string
  /** A file holding the bearer token, read on every request. */
  readonly tokenFile?: string
  /** What the configuration came from, for logs: a path or "in-cluster service account". */
  readonly source: string
}

export type KubeconfigChoice =
  | { readonly direct: DirectConnection }
  /** Read by @kubernetes/client-node: `kubeconfigPath` undefined means its default order. */
  | { readonly library: string, readonly kubeconfigPath?: string }

export interface ResolveOptions {
  /** DTR_KUBECONFIG: a kubeconfig file; wins over everything else. */
  readonly kubeconfigPath?: string | undefined
  /** KUBERNETES_SERVICE_HOST/PORT, KUBECONFIG, HOME: the service passes the process environment. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Where the service account is mounted; tests point it at a directory of their own. */
  readonly serviceAccountDir?: string
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

/** Reads the configuration SPEC section 3 points at, and says who should use it. */
export function resolveKubeconfig (options: ResolveOptions): KubeconfigChoice {
  const { env } = options
  const serviceAccountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR
  if (options.kubeconfigPath !== undefined && options.kubeconfigPath !== '') return fromFile(options.kubeconfigPath)
  if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(join(serviceAccountDir, 'token'))) return { direct: inCluster(env, serviceAccountDir) }
  const kubeconfigEnv = (env.KUBECONFIG ?? '').split(':').filter((f) => f !== '')
  if (kubeconfigEnv.length > 1) return { library: 'KUBECONFIG names several files (merged by the library)' }
  if (kubeconfigEnv.length === 1) return fromFile(kubeconfigEnv[0] as string)
  const home = env.HOME ?? homedir()
  const homeConfig = join(home, '.kube', 'config')
  if (existsSync(homeConfig)) return fromFile(homeConfig)
  return { library: 'no kubeconfig and no service account (the library decides)' }
}

/** The in-cluster service account, as the library and client-go read it. */
export function inCluster (env: Readonly<Record<string, string | undefined>>, serviceAccountDir: string): DirectConnection {
  const host = env.KUBERNETES_SERVICE_HOST ?? ''
  const port = env.KUBERNETES_SERVICE_PORT ?? ''
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https'
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`
  if (scheme === 'http') throw new Error(`HTTP protocol is not allowed when skipTLSVerify is not set or false (in-cluster server ${server})`)
  const caFile = join(serviceAccountDir, 'ca.crt')
  return { server, tls: { ca: readFileSync(caFile) }, tokenFile: join(serviceAccountDir, 'token'), source: 'in-cluster service account' }
}

function fromFile (path: string): KubeconfigChoice {
  const parsed = parseKubeconfig(readFileSync(path, 'utf8'), dirname(path), path)
  return 'direct' in parsed ? parsed : { ...parsed, kubeconfigPath: path }
}

const CLUSTER_KEYS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name'])
const USER_KEYS = new Set(['token', 'token-file', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data'])

type Fields = Record<string, unknown>
const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value)
const named = (list: unknown, name: unknown, key: string): Fields | undefined => {
  if (!Array.isArray(list)) return undefined
  const entry: unknown = list.find((e: unknown) => isFields(e) && e.name === name)
  return isFields(entry) && isFields(entry[key]) ? entry[key] : undefined
}
const text = (fields: Fields, key: string): string | undefined => {
  const value = fields[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * Pure but for reading the files it names: a kubeconfig's current context as a direct connection,
 * or why the library should read it instead. `baseDir` resolves relative certificate paths.
 */
export function parseKubeconfig (source: string, baseDir: string, name = 'kubeconfig'): KubeconfigChoice {
  let doc: unknown
  try {
    doc = parse(source)
  } catch {
    return { library: `${name} is not YAML this reader accepts` }
  }
  if (!isFields(doc)) return { library: `${name} is not a mapping` }
  const contextName = doc['current-context']
  const context = named(doc.contexts, contextName, 'context')
  if (context === undefined) return { library: `${name} has no current context` }
  const cluster = named(doc.clusters, context.cluster, 'cluster')
  if (cluster === undefined) return { library: `${name}: the current context's cluster is missing` }
  // A context without a user (or with one not listed) authenticates with nothing, as the library does.
  const user = context.user === undefined ? {} : named(doc.users, context.user, 'user')
  if (user === undefined) return { library: `${name}: the current context's user is missing` }
  const otherCluster = Object.keys(cluster).find((k) => !CLUSTER_KEYS.has(k) && cluster[k] !== null)
  if (otherCluster !== undefined) return { library: `${name}: cluster field "${otherCluster}" is read by the library` }
  const otherUser = Object.keys(user).find((k) => !USER_KEYS.has(k) && user[k] !== null)
  if (otherUser !== undefined) return { library: `${name}: user field "${otherUser}" is read by the library` }
  const server = text(cluster, 'server')
  if (server === undefined) return { library: `${name}: the current cluster has no server` }
  const insecure = cluster['insecure-skip-tls-verify'] === true
  const url = server.replace(/\/$/, '')
  if (url.startsWith('http:') && !insecure) throw new Error(`HTTP protocol is not allowed when skipTLSVerify is not set or false (${name}: server ${url})`)
  const pathOf = (file: string): string => isAbsolute(file) ? file : join(baseDir, file)
  const bytes = (fileKey: string, dataKey: string, fields: Fields): Buffer | undefined => {
    const file = text(fields, fileKey)
    if (file !== undefined) return readFileSync(pathOf(file))
    const data = text(fields, dataKey)
    return data === undefined ? undefined : Buffer.from(data, 'base64')
  }
  const ca = bytes('certificate-authority', 'certificate-authority-data', cluster)
  const cert = bytes('client-certificate', 'client-certificate-data', user)
  const key = bytes('client-key', 'client-key-data', user)
  const servername = text(cluster, 'tls-server-name')
  const token = text(user, 'token')
  const tokenFile = text(user, 'token-file')
  return {
    direct: {
      server: url,
      tls: {
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert }),
        ...(key === undefined ? {} : { key }),
        ...(insecure ? { rejectUnauthorized: false } : {}),
        ...(servername === undefined ? {} : { servername }),
      },
      ...(token !== undefined ? { token } : tokenFile !== undefined ? { tokenFile } : {}),
      source: name,
    },
  }
}
