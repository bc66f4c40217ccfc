/**
 * The Kubernetes API simulator: a Fastify app speaking enough of the REST API for the built-in
 * actions (apps/v1 Deployments, ReplicaSets, StatefulSets, DaemonSets, ControllerRevisions, the
 * scale subresource, autoscaling/v2 HPAs), with the controllers that create revisions, an RBAC
 * table, fault injection and a log of every request. Tests drive it through the returned handle;
 * `dt-remediator sim kubernetes` runs it in the foreground.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { stringify } from 'yaml'
import { apiVersionOf } from '../../src/kubernetes/resources.js'
import { authorize, handle, parsePath, verbOf, type SimContext, type SimVerb } from './api.js'
import { reconcile } from './controller.js'
import type { Obj } from './patch.js'
import type { PolicyRule } from './rbac.js'
import { SimHttpError, statusErrors } from './status.js'
import { SimStore, typeByKind, type StoredObject } from './store.js'

export const DEFAULT_USER = 'system:serviceaccount:dt-remediator:dt-remediator'

export interface KubernetesSimulatorOptions {
  /** Manifests applied in order at start (a Deployment listed twice gets two revisions). */
  objects?: readonly Obj[]
  /** RBAC rules of the served user; undefined allows everything. */
  rules?: readonly PolicyRule[]
  /** The user named in 403 messages. */
  user?: string
  /** The clock for creationTimestamp (ms epoch); tests pass a controllable one. */
  now?: () => number
  logger?: boolean
}

export interface RequestLogEntry {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  /** RBAC verb: get, list, patch, update; undefined when the path named no served resource. */
  readonly verb: SimVerb | undefined
  readonly group: string | undefined
  readonly resource: string | undefined
  readonly subresource: string | undefined
  readonly namespace: string | undefined
  readonly name: string | undefined
  readonly contentType: string | undefined
  /** The request body, parsed when it is JSON. */
  readonly body: unknown
  readonly statusCode: number
  readonly dryRun: boolean
}

export interface Fault {
  /** Exact path (no query), e.g. `/apis/apps/v1/namespaces/shop/deployments/checkout`. */
  path: string
  method?: string
  /** Default 409 Conflict. */
  status?: number
  /** How many matching requests fail; default 1. */
  count?: number
  message?: string
}

export interface KubernetesSimulator {
  readonly app: FastifyInstance
  /** The request log, oldest first. */
  readonly requests: readonly RequestLogEntry[]
  clearRequests(): void
  /** Creates or updates an object as `kubectl apply` would (spec, labels, annotations), then reconciles. */
  apply(manifest: Obj): StoredObject
  get(kind: string, namespace: string, name: string): StoredObject | undefined
  list(kind: string, namespace?: string): StoredObject[]
  /** Every stored object (deep copies), for before/after comparisons. */
  snapshot(): StoredObject[]
  /** The next `count` requests matching answer with `status` instead of being served. */
  injectFault(fault: Fault): void
  /** Replaces the RBAC rules; undefined allows everything. */
  setRules(rules: readonly PolicyRule[] | undefined): void
  /** Listens (port 0 and 127.0.0.1 by default) and returns the base URL. */
  listen(options?: { port?: number, host?: string }): Promise<string>
  /** A kubeconfig (YAML) pointing at the listening simulator. */
  kubeconfig(): string
  close(): Promise<void>
}

export async function buildKubernetesSimulator (options: KubernetesSimulatorOptions = {}): Promise<KubernetesSimulator> {
  const now = options.now ?? Date.now
  const store = new SimStore({ now })
  const ctx: SimContext = { store, user: options.user ?? DEFAULT_USER, rules: options.rules }
  const requests: RequestLogEntry[] = []
  const faults: Array<Required<Omit<Fault, 'method' | 'message'>> & Pick<Fault, 'method' | 'message'>> = []
  let url: string | undefined

  const app = Fastify({ logger: options.logger ?? false })
  // Every body is read as text: the content type decides how it is parsed (or refused with 415),
  // as the API server does, instead of Fastify answering unknown types itself.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => { done(null, body) })

  app.route({
    method: ['GET', 'PATCH', 'PUT', 'POST', 'DELETE'],
    url: '/*',
    handler: async (req, reply) => {
      const [pathname = '', search = ''] = req.url.split('?')
      const query = Object.fromEntries(new URLSearchParams(search))
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? ''
      const rawBody = typeof req.body === 'string' ? req.body : undefined
      const path = parsePath(pathname)
      let verb: SimVerb | undefined
      let statusCode = 200
      let payload: unknown
      try {
        if (path === undefined) throw statusErrors.resourceNotFound()
        verb = verbOf(req.method, path)
        const fault = faults.find((f) => f.count > 0 && f.path === pathname && (f.method === undefined || f.method === req.method))
        if (fault !== undefined) {
          fault.count--
          throw fault.status === 409 && path.name !== undefined && fault.message === undefined
            ? statusErrors.conflict(path.type, path.name)
            : new SimHttpError(fault.status, fault.status === 409 ? 'Conflict' : 'InternalError', fault.message ?? `injected fault (${fault.status})`)
        }
        authorize(ctx, verb, path)
        payload = handle(ctx, { method: req.method, path: pathname, query, contentType, body: rawBody }, path, verb)
      } catch (err) {
        if (!(err instanceof SimHttpError)) throw err
        statusCode = err.code
        payload = err.toStatus()
      }
      requests.push({
        method: req.method,
        path: pathname,
        query,
        verb,
        group: path?.type.group,
        resource: path?.type.resource,
        subresource: path?.subresource,
        namespace: path?.namespace,
        name: path?.name,
        contentType: contentType === '' ? undefined : contentType,
        body: parseMaybe(rawBody),
        statusCode,
        dryRun: query.dryRun === 'All',
      })
      return reply.code(statusCode).type('application/json').send(JSON.stringify(payload))
    },
  })

  function apply (manifest: Obj): StoredObject {
    const kind = String(manifest.kind)
    const type = typeByKind(kind)
    if (type === undefined) throw new Error(`The simulator does not serve kind ${kind}`)
    const apiVersion = manifest.apiVersion
    if (apiVersion !== undefined && apiVersion !== apiVersionOf(type)) throw new Error(`${kind} is served as ${apiVersionOf(type)}, not ${String(apiVersion)}`)
    const metadata = structuredClone((manifest.metadata ?? {}) as StoredObject['metadata'])
    const namespace = metadata.namespace ?? 'default'
    const existing = store.get(type, namespace, metadata.name)
    // Owner references in seed files may name the owner without its uid (unknown until loaded).
    metadata.ownerReferences = metadata.ownerReferences?.map((ref) => {
      if (ref.uid !== undefined && ref.uid !== '') return ref
      const ownerType = typeByKind(ref.kind)
      const owner = ownerType === undefined ? undefined : store.get(ownerType, namespace, ref.name)
      return owner === undefined ? ref : { ...ref, uid: owner.metadata.uid }
    })
    const next: Obj = existing === undefined
      ? { ...structuredClone(manifest), metadata: { ...metadata, namespace } }
      : { ...existing, ...structuredClone(manifest), metadata: { ...existing.metadata, ...metadata, namespace, resourceVersion: existing.metadata.resourceVersion }, status: existing.status }
    const written = store.write(type, next)
    reconcile(store, type, namespace, written.metadata.name)
    return store.get(type, namespace, written.metadata.name) ?? written
  }

  for (const object of options.objects ?? []) apply(object)

  return {
    app,
    get requests () { return requests },
    clearRequests: () => { requests.length = 0 },
    apply,
    get: (kind, namespace, name) => {
      const type = typeByKind(kind)
      return type === undefined ? undefined : store.get(type, namespace, name)
    },
    list: (kind, namespace) => {
      const type = typeByKind(kind)
      return type === undefined ? [] : store.list(type, namespace)
    },
    snapshot: () => store.all(),
    injectFault: (fault) => { faults.push({ path: fault.path, method: fault.method, status: fault.status ?? 409, count: fault.count ?? 1, message: fault.message }) },
    setRules: (rules) => { ctx.rules = rules },
    async listen (listenOptions = {}) {
      const address = await app.listen({ port: listenOptions.port ?? 0, host: listenOptions.host ?? '127.0.0.1' })
      url = address.replace('[::1]', '127.0.0.1')
      return url
    },
    kubeconfig () {
      if (url === undefined) throw new Error('The simulator is not listening yet; call listen() first')
      return stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // Plain HTTP: @kubernetes/client-node accepts an http:// server only with this flag set.
        clusters: [{ name: 'dt-remediator-sim', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'dt-remediator-sim', user: { token: 'simulator' } }],
        contexts: [{ name: 'dt-remediator-sim', context: { cluster: 'dt-remediator-sim', user: 'dt-remediator-sim', namespace: 'default' } }],
        'current-context': 'dt-remediator-sim',
      })
    },
    close: async () => { await app.close() },
  }
}

function parseMaybe (text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
