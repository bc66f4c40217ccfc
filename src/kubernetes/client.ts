/**
 * A small JSON client for the Kubernetes API. We bypass typed, generated APIs on purpose: they
 * deserialize into model classes and choose the patch content type themselves (the first one
 * listed, JSON patch — the source of the 415s users report), while the rollout mechanics need the
 * objects exactly as the API server sent them and must choose json-patch, merge-patch or
 * strategic-merge per call.
 *
 * Two transports carry it. The direct one (undici, one keep-alive pool per server) serves the
 * in-cluster service account and kubeconfigs with a token, a token file or a client certificate
 * (./kubeconfig.ts). Everything else (exec plugins, auth providers, proxies, merged KUBECONFIGs)
 * goes through @kubernetes/client-node's configuration, authentication and transport
 * (./library.ts), which is then loaded on first use, and only then. Both are in ./transport.ts's
 * shape: a request with its URL and headers in, the status and the text out.
 */
import { KubernetesApiError, type ApiStatus, type Verb } from './errors.js'
import { parseKubeconfig, resolveKubeconfig } from './kubeconfig.js'
import { resourcePath, type ObjectList, type ResourceType } from './resources.js'
import { directTransport, type KubernetesTransport } from './transport.js'

export type { KubernetesRequest, KubernetesTransport } from './transport.js'

export type PatchType = 'json' | 'merge' | 'strategic'

export const patchContentTypes = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const satisfies Record<PatchType, string>

/** Sent as `fieldManager` so that managedFields show who made the change. */
export const FIELD_MANAGER = 'dt-remediator'

export interface ReadOptions {
  subresource?: string
  signal?: AbortSignal
}

export interface ListOptions {
  labelSelector?: string
  signal?: AbortSignal
}

export interface PatchOptions {
  type: PatchType
  subresource?: string
  /** Sends `dryRun=All`: the server validates and answers with the result but stores nothing. */
  dryRun?: boolean
  signal?: AbortSignal
}

export interface KubernetesClient {
  /** The API server URL (for logs and docs; never for building requests elsewhere). */
  readonly server: string
  get<T>(type: ResourceType, namespace: string, name: string, options?: ReadOptions): Promise<T>
  list<T>(type: ResourceType, namespace: string, options?: ListOptions): Promise<T[]>
  patch<T>(type: ResourceType, namespace: string, name: string, patch: unknown, options: PatchOptions): Promise<T>
}

/** The client over a transport: paths, content types, field manager and errors, whichever carries it. */
export function clientOver (transport: KubernetesTransport): KubernetesClient {
  const { server } = transport

  async function send<T> (init: { method: 'GET' | 'PATCH', verb: Verb, type: ResourceType, namespace: string, name?: string, subresource?: string, query?: Record<string, string>, body?: unknown, contentType?: string, signal?: AbortSignal | undefined }): Promise<T> {
    const query = new URLSearchParams(init.query).toString()
    const url = server + resourcePath(init.type, init.namespace, init.name, init.subresource) + (query === '' ? '' : `?${query}`)
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (init.body !== undefined) headers['Content-Type'] = init.contentType ?? 'application/json'
    const response = await transport.send({
      method: init.method,
      url,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: init.signal,
    })
    if (response.status >= 200 && response.status < 300) return JSON.parse(response.text) as T
    throw new KubernetesApiError({
      responseStatus: response.status,
      status: parseStatus(response.text),
      verb: init.verb,
      type: init.type,
      namespace: init.namespace,
      ...(init.name === undefined ? {} : { name: init.name }),
      ...(init.subresource === undefined ? {} : { subresource: init.subresource }),
    })
  }

  return {
    server,
    get: (type, namespace, name, options = {}) => send({ method: 'GET', verb: 'get', type, namespace, name, subresource: options.subresource, signal: options.signal }),
    async list<T> (type: ResourceType, namespace: string, options: ListOptions = {}): Promise<T[]> {
      const query = options.labelSelector === undefined ? undefined : { labelSelector: options.labelSelector }
      const list = await send<ObjectList<T>>({ method: 'GET', verb: 'list', type, namespace, query, signal: options.signal })
      return list.items ?? []
    },
    patch: (type, namespace, name, patch, options) => send({
      method: 'PATCH',
      verb: 'patch',
      type,
      namespace,
      name,
      subresource: options.subresource,
      query: { fieldManager: FIELD_MANAGER, ...(options.dryRun === true ? { dryRun: 'All' } : {}) },
      body: patch,
      contentType: patchContentTypes[options.type],
      signal: options.signal,
    }),
  }
}

function parseStatus (text: string): ApiStatus | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? value as ApiStatus : undefined
  } catch {
    return text === '' ? undefined : { message: text.slice(0, 500) }
  }
}

export interface LoadKubernetesClientOptions {
  /** `DTR_KUBECONFIG`: a kubeconfig file; wins over everything else. */
  kubeconfigPath?: string | undefined
  /** KUBERNETES_SERVICE_HOST/PORT, KUBECONFIG, HOME: the process environment by default. */
  env?: Readonly<Record<string, string | undefined>>
  /** Where the in-cluster service account is mounted (tests only). */
  serviceAccountDir?: string
}

/** A client and which transport carries it (logs and tests). */
export type LoadedKubernetesClient = KubernetesClient & { readonly transport: 'direct' | 'library' }

/**
 * Config from an explicit kubeconfig path, else the in-cluster service account, else the default
 * kubeconfig (`$KUBECONFIG`, `~/.kube/config`) — the order SPEC section 3 gives for DTR_KUBECONFIG.
 * @kubernetes/client-node is imported only for configurations the direct transport does not read.
 */
export async function loadKubernetesClient (options: LoadKubernetesClientOptions = {}): Promise<LoadedKubernetesClient> {
  const env = options.env ?? process.env
  const choice = resolveKubeconfig({ kubeconfigPath: options.kubeconfigPath, env, ...(options.serviceAccountDir === undefined ? {} : { serviceAccountDir: options.serviceAccountDir }) })
  if ('direct' in choice) return { ...clientOver(directTransport(choice.direct)), transport: 'direct' }
  // The library's own default order (no path given) reads process.env, not `env`.
  const { loadLibraryTransport } = await import('./library.js')
  return { ...clientOver(await loadLibraryTransport(choice.kubeconfigPath)), transport: 'library' }
}

/**
 * A client from a kubeconfig's text over the direct transport (the simulators' harness and tests);
 * throws when the kubeconfig needs the library.
 */
export function kubernetesClientFromKubeconfig (source: string, baseDir = process.cwd()): KubernetesClient {
  const choice = parseKubeconfig(source, baseDir)
  if (!('direct' in choice)) throw new Error(`This kubeconfig needs @kubernetes/client-node: ${choice.library}`)
  return clientOver(directTransport(choice.direct))
}
