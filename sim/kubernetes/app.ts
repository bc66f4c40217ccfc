/**
 * The Kubernetes API simulator: a Fastify app that kubectl and @kubernetes/client-node accept as
 * an API server. It serves discovery and the OpenAPI documents (server.ts), apps/v1 Deployments,
 * ReplicaSets, StatefulSets, DaemonSets, ControllerRevisions, autoscaling/v2 HPAs and core/v1
 * Namespaces with create, get, list, watch, update, patch (server-side apply included) and
 * delete (api.ts, watch.ts), Table answers for `kubectl get` (table.ts), the controllers that
 * roll Deployments out and keep revisions (controllers/), an RBAC table, fault injection and a
 * log of every request. Tests drive it through the returned handle; `dt-remediator sim
 * kubernetes` runs it in the foreground.
 */
import Fastify, { type FastifyReply } from 'fastify'
import { stringify } from 'yaml'
import { authorize, handle, parsePath, verbOf, type ParsedPath, type SimContext, type SimVerb } from './api.js'
import { apiVersionOf, typeByKind } from './catalog.js'
import { Controllers } from './controllers/index.js'
import type { Obj } from './patch.js'
import { decodeKubernetesProtobuf } from './protobuf.js'
import { nonResource } from './server.js'
import { SimHttpError, statusErrors } from './status.js'
import { SimStore, type StoredObject } from './store.js'
import { toTable, wantsTable } from './table.js'
import type { Fault, KubernetesSimulator, KubernetesSimulatorOptions, RequestLogEntry, WatchFilter } from './types.js'
import { validate, withDefaults } from './validation.js'
import { startWatch, type OpenWatch } from './watch.js'

export const DEFAULT_USER = 'system:serviceaccount:dt-remediator:dt-remediator'
const PROTOBUF = 'application/vnd.kubernetes.protobuf'

export type { Fault, KubernetesSimulator, KubernetesSimulatorOptions, RequestLogEntry, WatchFilter } from './types.js'

export async function buildKubernetesSimulator (options: KubernetesSimulatorOptions = {}): Promise<KubernetesSimulator> {
  const clock = { now: options.now ?? Date.now }
  const store = new SimStore(clock, options.watchCacheSize)
  const controllers = new Controllers(store, clock, options.rollouts ?? 'instant')
  for (const image of options.brokenImages ?? []) controllers.brokenImages.add(image)
  const ctx: SimContext = { store, controllers, user: options.user ?? DEFAULT_USER, rules: options.rules }
  const requests: RequestLogEntry[] = []
  const faults: Array<Required<Omit<Fault, 'method' | 'message'>> & Pick<Fault, 'method' | 'message'>> = []
  const watches = new Set<OpenWatch>()
  const waiters = new Set<{ filter: WatchFilter, resolve: () => void }>()
  const watchMatches = (w: OpenWatch, f: WatchFilter): boolean => (f.resource === undefined || w.path.type.resource === f.resource) && (f.namespace === undefined || w.path.namespace === f.namespace)
  let url: string | undefined

  const app = Fastify({ logger: options.logger ?? false })
  // Every body is read as bytes: the content type decides how it is parsed (or refused with
  // 415), as the API server does, instead of Fastify answering unknown types itself. Protobuf
  // (what kubectl's typed clients send) is decoded into the JSON text the rest reads.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim()
    try {
      done(null, type === PROTOBUF ? JSON.stringify(decodeKubernetesProtobuf(body as Buffer)) : (body as Buffer).toString('utf8'))
    } catch (err) {
      done(err as Error, undefined)
    }
  })

  // Every error is a Status object, as from the API server (a body the parser refused included).
  app.setErrorHandler(async (err, _req, reply) => {
    const error = err instanceof SimHttpError ? err : new SimHttpError(500, 'InternalError', `the simulator failed: ${err instanceof Error ? err.message : String(err)}`)
    return send(reply, error.code, 'application/json', JSON.stringify(error.toStatus()))
  })

  app.route({
    method: ['GET', 'PATCH', 'PUT', 'POST', 'DELETE'],
    url: '/*',
    handler: async (req, reply) => {
      const [pathname = '', search = ''] = req.url.split('?')
      const query = Object.fromEntries(new URLSearchParams(search))
      const given = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? ''
      const contentType = given === PROTOBUF ? 'application/json' : given
      const rawBody = typeof req.body === 'string' ? req.body : undefined
      const log = (path: ParsedPath | undefined, verb: SimVerb | undefined, statusCode: number): void => {
        const { group, resource } = path?.type ?? {}
        const target = { group, resource, subresource: path?.subresource, namespace: path?.namespace, name: path?.name }
        requests.push({ method: req.method, path: pathname, query, verb, ...target, contentType: contentType === '' ? undefined : contentType, body: parseMaybe(rawBody), statusCode, dryRun: query.dryRun === 'All' })
      }
      const served = req.method === 'GET' ? nonResource(pathname, req.headers.accept, req.host) : undefined
      if (served !== undefined) {
        log(undefined, undefined, served.status)
        return send(reply, served.status, served.contentType, typeof served.body === 'string' ? served.body : JSON.stringify(served.body))
      }
      const path = parsePath(pathname)
      let verb: SimVerb | undefined
      let statusCode = 200
      let payload: unknown
      try {
        if (path === undefined) throw statusErrors.resourceNotFound()
        verb = verbOf(req.method, path, query)
        const fault = faults.find((f) => f.count > 0 && f.path === pathname && (f.method === undefined || f.method === req.method))
        if (fault !== undefined) {
          fault.count--
          throw fault.status === 409 && path.name !== undefined && fault.message === undefined
            ? statusErrors.conflict(path.type, path.name)
            : new SimHttpError(fault.status, fault.status === 409 ? 'Conflict' : 'InternalError', fault.message ?? `injected fault (${fault.status})`)
        }
        authorize(ctx, verb, path)
        if (verb === 'watch') {
          log(path, verb, 200)
          reply.hijack()
          const watch = startWatch(store, reply.raw, { path, query, asTable: wantsTable(req.headers.accept), now: clock.now })
          watches.add(watch)
          reply.raw.once('close', () => watches.delete(watch))
          for (const waiter of waiters) {
            if (watchMatches(watch, waiter.filter)) { waiters.delete(waiter); waiter.resolve() }
          }
          return reply
        }
        const answer = handle(ctx, { method: req.method, path: pathname, query, contentType, body: rawBody }, path, verb)
        statusCode = answer.status
        payload = answer.body
        if (wantsTable(req.headers.accept) && (verb === 'get' || verb === 'list') && path.subresource === undefined) {
          const list = payload as { items?: StoredObject[], metadata?: { resourceVersion?: string } }
          payload = verb === 'list'
            ? toTable(path.type, list.items ?? [], { now: clock.now(), resourceVersion: list.metadata?.resourceVersion, includeObject: query.includeObject })
            : toTable(path.type, [payload as StoredObject], { now: clock.now(), resourceVersion: (payload as StoredObject).metadata.resourceVersion, includeObject: query.includeObject })
        }
      } catch (err) {
        if (!(err instanceof SimHttpError)) throw err
        statusCode = err.code
        payload = err.toStatus()
      }
      log(path, verb, statusCode)
      return send(reply, statusCode, 'application/json', JSON.stringify(payload))
    },
  })

  function apply (manifest: Obj): StoredObject {
    const kind = String(manifest.kind)
    const type = typeByKind(kind)
    if (type === undefined) throw new Error(`The simulator does not serve kind ${kind}`)
    const apiVersion = manifest.apiVersion
    if (apiVersion !== undefined && apiVersion !== apiVersionOf(type)) throw new Error(`${kind} is served as ${apiVersionOf(type)}, not ${String(apiVersion)}`)
    const metadata = structuredClone((manifest.metadata ?? {}) as StoredObject['metadata'])
    const namespace = type.namespaced ? (metadata.namespace ?? 'default') : ''
    const existing = store.get(type, namespace, metadata.name)
    // Owner references in seed files may name the owner without its uid (unknown until loaded).
    metadata.ownerReferences = metadata.ownerReferences?.map((ref) => {
      if (ref.uid !== undefined && ref.uid !== '') return ref
      const ownerType = typeByKind(ref.kind)
      const owner = ownerType === undefined ? undefined : store.get(ownerType, namespace, ref.name)
      return owner === undefined ? ref : { ...ref, uid: owner.metadata.uid }
    })
    if (metadata.ownerReferences === undefined) delete metadata.ownerReferences
    const scope = type.namespaced ? { namespace } : {}
    const next: Obj = withDefaults(type, existing === undefined
      ? { ...structuredClone(manifest), metadata: { ...metadata, ...scope } }
      : { ...existing, ...structuredClone(manifest), metadata: { ...existing.metadata, ...metadata, ...scope, resourceVersion: existing.metadata.resourceVersion }, status: existing.status })
    validate(type, metadata.name, next)
    const written = store.write(type, next)
    controllers.afterWrite(type, namespace, written.metadata.name)
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
    setBrokenImages: (images) => {
      controllers.brokenImages.clear()
      for (const image of images) controllers.brokenImages.add(image)
      if (controllers.mode === 'instant') controllers.settle()
    },
    step: () => controllers.step(),
    settle: () => controllers.settle(),
    untilWatched: async (filter = {}) => {
      if ([...watches].some((w) => watchMatches(w, filter))) return
      await new Promise<void>((resolve) => { waiters.add({ filter, resolve }) })
    },
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
    close: async () => {
      for (const watch of watches) watch.close()
      await app.close()
    },
  }
}

/**
 * Answers with the content type exactly as the API server writes it. A Buffer, because Fastify
 * rewrites the content type of a string (adding a charset, quoting the parameters of
 * `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`).
 */
function send (reply: FastifyReply, status: number, contentType: string, text: string): FastifyReply {
  return reply.code(status).header('content-type', contentType).send(Buffer.from(text, 'utf8'))
}

function parseMaybe (text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
