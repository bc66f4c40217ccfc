/**
 * A small JSON client for the Kubernetes API on top of @kubernetes/client-node's configuration,
 * authentication and transport (kubeconfig, in-cluster service account, exec plugins, client
 * certificates, proxies). We bypass the generated typed APIs on purpose: they deserialize into
 * model classes and choose the patch content type themselves (the first one listed, JSON patch —
 * the source of the 415s users report), while the rollout mechanics need the objects exactly as
 * the API server sent them and must choose json-patch, merge-patch or strategic-merge per call.
 */
import { existsSync } from 'node:fs'
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, PatchStrategy, RequestContext } from '@kubernetes/client-node'
import { KubernetesApiError, type ApiStatus, type Verb } from './errors.js'
import { resourcePath, type ObjectList, type ResourceType } from './resources.js'

export type PatchType = 'json' | 'merge' | 'strategic'

export const patchContentTypes = {
  json: PatchStrategy.JsonPatch,
  merge: PatchStrategy.MergePatch,
  strategic: PatchStrategy.StrategicMergePatch,
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

/** Builds a client from a loaded KubeConfig (tests build one from the simulator's kubeconfig). */
export function createKubernetesClient (kubeConfig: KubeConfig): KubernetesClient {
  const cluster = kubeConfig.getCurrentCluster()
  if (cluster === null) throw new Error('The kubeconfig has no current cluster')
  const server = cluster.server.replace(/\/+$/, '')
  const http = new IsomorphicFetchHttpLibrary()

  async function send<T> (init: { method: HttpMethod, verb: Verb, type: ResourceType, namespace: string, name?: string, subresource?: string, query?: Record<string, string>, body?: unknown, contentType?: string, signal?: AbortSignal | undefined }): Promise<T> {
    const context = new RequestContext(server + resourcePath(init.type, init.namespace, init.name, init.subresource), init.method)
    for (const [key, value] of Object.entries(init.query ?? {})) context.setQueryParam(key, value)
    context.setHeaderParam('Accept', 'application/json')
    if (init.body !== undefined) {
      context.setHeaderParam('Content-Type', init.contentType ?? 'application/json')
      context.setBody(JSON.stringify(init.body))
    }
    if (init.signal !== undefined) context.setSignal(init.signal)
    // Sets the bearer token / client certificate / CA and the agent; called per request so that
    // rotated service-account tokens and exec credentials are picked up.
    await kubeConfig.applySecurityAuthentication(context)
    const response = await http.send(context).toPromise()
    const text = await response.body.text()
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) return JSON.parse(text) as T
    throw new KubernetesApiError({
      responseStatus: response.httpStatusCode,
      status: parseStatus(text),
      verb: init.verb,
      type: init.type,
      namespace: init.namespace,
      ...(init.name === undefined ? {} : { name: init.name }),
      ...(init.subresource === undefined ? {} : { subresource: init.subresource }),
    })
  }

  return {
    server,
    get: (type, namespace, name, options = {}) => send({ method: HttpMethod.GET, verb: 'get', type, namespace, name, subresource: options.subresource, signal: options.signal }),
    async list<T> (type: ResourceType, namespace: string, options: ListOptions = {}): Promise<T[]> {
      const query = options.labelSelector === undefined ? undefined : { labelSelector: options.labelSelector }
      const list = await send<ObjectList<T>>({ method: HttpMethod.GET, verb: 'list', type, namespace, query, signal: options.signal })
      return list.items ?? []
    },
    patch: (type, namespace, name, patch, options) => send({
      method: HttpMethod.PATCH,
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
  /** Where to look for the in-cluster service account; the process environment by default. */
  env?: Readonly<Record<string, string | undefined>>
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/**
 * Config from an explicit kubeconfig path, else the in-cluster service account, else the default
 * kubeconfig (`$KUBECONFIG`, `~/.kube/config`) — the order SPEC section 3 gives for DTR_KUBECONFIG.
 */
export function loadKubernetesClient (options: LoadKubernetesClientOptions = {}): KubernetesClient {
  const kubeConfig = new KubeConfig()
  const env = options.env ?? process.env
  if (options.kubeconfigPath !== undefined && options.kubeconfigPath !== '') {
    kubeConfig.loadFromFile(options.kubeconfigPath)
  } else if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kubeConfig.loadFromCluster()
  } else {
    kubeConfig.loadFromDefault()
  }
  return createKubernetesClient(kubeConfig)
}
