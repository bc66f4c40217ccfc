/**
 * The request semantics of the simulated API server, free of HTTP: resolve the path, authorize,
 * then GET / LIST / CREATE / PUT / PATCH (JSON, merge, strategic merge, server-side apply) /
 * DELETE against the store, with resourceVersion preconditions, `dryRun=All`, defaults,
 * validation, label and field selectors and the scale subresource. app.ts wires it to Fastify;
 * watches are streamed by watch.ts.
 */
import { apiVersionOf, served, typeByPath, type ServedResource } from './catalog.js'
import type { Controllers } from './controllers/index.js'
import { parseApplied, serverSideApply } from './apply.js'
import { applyPatch, PatchError, patchTypes, type Obj } from './patch.js'
import { allows, forbiddenMessage, type PolicyRule } from './rbac.js'
import { objectMatcher } from './selectors.js'
import { SimHttpError, statusErrors } from './status.js'
import type { SimStore, StoredObject } from './store.js'
import { validate, withDefaults } from './validation.js'

export interface ParsedPath {
  type: ServedResource
  /** undefined: all namespaces (a namespaced resource) or a cluster-scoped resource. */
  namespace: string | undefined
  name?: string | undefined
  subresource?: string | undefined
}

/**
 * `/api/v1/…` and `/apis/{group}/{version}/…`, then `[namespaces/{ns}/]{resource}[/{name}[/{sub}]]`
 * (`/api/v1/namespaces/{name}` is the Namespace itself).
 */
export function parsePath (path: string): ParsedPath | undefined {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent)
  let group: string
  let version: string
  let rest: string[]
  if (parts[0] === 'api') [group, version, rest] = ['', parts[1] ?? '', parts.slice(2)]
  else if (parts[0] === 'apis') [group, version, rest] = [parts[1] ?? '', parts[2] ?? '', parts.slice(3)]
  else return undefined
  let namespace: string | undefined
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]
    rest = rest.slice(2)
  }
  const [resource = '', name, subresource, ...more] = rest
  const type = typeByPath(group, version, resource)
  if (type === undefined || more.length > 0 || (namespace !== undefined && !type.namespaced)) return undefined
  return { type, namespace, name, subresource }
}

export type SimVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete'

export interface SimRequest {
  method: string
  path: string
  query: Record<string, string>
  contentType: string
  /** Raw body text (POST, PATCH, PUT, DELETE). */
  body: string | undefined
}

export interface SimContext {
  store: SimStore
  controllers: Controllers
  user: string
  rules: readonly PolicyRule[] | undefined
}

export interface SimAnswer {
  readonly status: number
  readonly body: unknown
}

export function verbOf (method: string, path: ParsedPath, query: Record<string, string>): SimVerb {
  const watch = query.watch === 'true' || query.watch === '1'
  if (method === 'GET') return path.name === undefined ? (watch ? 'watch' : 'list') : 'get'
  if (path.name === undefined && method === 'POST' && path.subresource === undefined) return 'create'
  if (path.name !== undefined && method === 'PATCH') return 'patch'
  if (path.name !== undefined && method === 'PUT') return 'update'
  if (path.name !== undefined && method === 'DELETE') return 'delete'
  throw statusErrors.methodNotAllowed(method)
}

export function authorize (ctx: SimContext, verb: SimVerb, path: ParsedPath): void {
  const allowed = path.subresource === undefined ? path.type.verbs : path.type.subresources.find((s) => s.name === path.subresource)?.verbs
  if (allowed === undefined) throw statusErrors.resourceNotFound()
  if (!allowed.includes(verb)) throw statusErrors.methodNotAllowed(verb)
  if (ctx.rules === undefined) return
  const request = { verb, group: path.type.group, resource: path.type.resource, subresource: path.subresource, namespace: path.namespace ?? '', name: path.name }
  if (!allows(ctx.rules, request)) {
    throw new SimHttpError(403, 'Forbidden', forbiddenMessage(ctx.user, request), { ...(path.name === undefined ? {} : { name: path.name }), group: path.type.group, kind: path.type.resource })
  }
}

const scoped = (path: ParsedPath): string => path.namespace ?? ''

export function handle (ctx: SimContext, request: SimRequest, path: ParsedPath, verb: SimVerb): SimAnswer {
  const { store } = ctx
  const dryRun = request.query.dryRun
  if (dryRun !== undefined && dryRun !== 'All') throw statusErrors.badRequest(`dryRun: Unsupported value: "${dryRun}": supported values: "All"`)
  if (path.type.namespaced && path.namespace === undefined && verb !== 'list') throw statusErrors.resourceNotFound()

  if (verb === 'list') {
    const matches = objectMatcher(request.query.labelSelector, request.query.fieldSelector)
    const items = store.list(path.type, path.namespace, matches)
    return { status: 200, body: { apiVersion: apiVersionOf(path.type), kind: `${path.type.kind}List`, metadata: { resourceVersion: store.listVersion() }, items } }
  }
  if (verb === 'create') return create(ctx, request, path)

  const name = path.name as string
  const current = store.get(path.type, scoped(path), name)
  if (verb === 'patch' && request.contentType === 'application/apply-patch+yaml') return apply(ctx, request, path, current)
  if (current === undefined) throw statusErrors.notFound(path.type, name)
  if (verb === 'get') return { status: 200, body: path.subresource === 'scale' ? scaleOf(current) : current }
  if (verb === 'delete') return remove(ctx, request, path, current)

  const body = parseBody(request, verb)
  const base: Obj = path.subresource === 'scale' ? scaleOf(current) : current
  let updated: Obj
  if (verb === 'patch') {
    try {
      updated = applyPatch(patchTypes[request.contentType as keyof typeof patchTypes], base, body)
    } catch (err) {
      if (err instanceof PatchError) throw new SimHttpError(err.statusCode, err.statusCode === 422 ? 'Invalid' : 'BadRequest', err.message)
      throw err
    }
  } else {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw statusErrors.badRequest('the body must be a JSON object')
    updated = body as Obj
  }
  checkIdentity(path, name, updated)
  const meta = (updated.metadata ?? {}) as { resourceVersion?: string }
  // Optimistic concurrency: a body carrying a resourceVersion must carry the current one.
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== current.metadata.resourceVersion) throw statusErrors.conflict(path.type, name)

  let next: Obj
  if (path.subresource === 'scale') {
    const replicas = ((updated.spec ?? {}) as { replicas?: unknown }).replicas
    if (!Number.isInteger(replicas) || (replicas as number) < 0) throw statusErrors.invalid(path.type, name, 'spec.replicas', `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`)
    next = { ...current, spec: { ...(current.spec as Obj), replicas } }
  } else {
    next = withDefaults(path.type, { ...updated, metadata: { ...(updated.metadata as Obj), name, ...(path.type.namespaced ? { namespace: path.namespace } : {}), uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp }, status: current.status })
    validate(path.type, name, next)
  }
  return { status: 200, body: commit(ctx, request, path, next) }
}

/** Stores (or with dryRun=All only prepares) `next`, runs the controllers, answers the written object. */
function commit (ctx: SimContext, request: SimRequest, path: ParsedPath, next: Obj): unknown {
  const dry = request.query.dryRun === 'All'
  const written = dry ? ctx.store.prepare(path.type, next) : ctx.store.write(path.type, next)
  if (!dry) ctx.controllers.afterWrite(path.type, written.metadata.namespace ?? '', written.metadata.name)
  return path.subresource === 'scale' ? scaleOf(written) : written
}

function checkIdentity (path: ParsedPath, name: string | undefined, object: Obj): void {
  const meta = (object.metadata ?? {}) as { name?: string, namespace?: string }
  if (name !== undefined && meta.name !== undefined && meta.name !== name) throw statusErrors.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`)
  if (path.type.namespaced && meta.namespace !== undefined && meta.namespace !== path.namespace) throw statusErrors.badRequest(`the namespace of the object (${meta.namespace}) does not match the namespace on the URL (${String(path.namespace)})`)
  if (path.subresource === undefined && object.kind !== undefined && object.kind !== path.type.kind) throw statusErrors.badRequest(`the kind of the object (${String(object.kind)}) does not match the resource (${path.type.kind})`)
}

function create (ctx: SimContext, request: SimRequest, path: ParsedPath): SimAnswer {
  const body = parseBody(request, 'create')
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw statusErrors.badRequest('the body must be a JSON object')
  const object = body as Obj
  checkIdentity(path, undefined, object)
  const meta = (object.metadata ?? {}) as { name?: unknown, generateName?: unknown, resourceVersion?: unknown }
  let name = meta.name
  if ((name === undefined || name === '') && typeof meta.generateName === 'string') name = `${meta.generateName}${Math.random().toString(36).slice(2, 7)}`
  if (typeof name !== 'string' || name === '') throw statusErrors.invalid(path.type, '', 'metadata.name', 'Required value: name or generateName is required')
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') throw statusErrors.badRequest('resourceVersion should not be set on objects to be created')
  if (ctx.store.get(path.type, scoped(path), name) !== undefined) throw statusErrors.alreadyExists(path.type, name)
  const { status: _ignored, ...rest } = object
  const next = withDefaults(path.type, { ...rest, metadata: { ...(object.metadata as Obj), name, ...(path.type.namespaced ? { namespace: path.namespace } : {}) }, ...(path.type === served.Namespace ? { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } } : {}) })
  validate(path.type, name, next)
  return { status: 201, body: commit(ctx, request, path, next) }
}

function apply (ctx: SimContext, request: SimRequest, path: ParsedPath, current: StoredObject | undefined): SimAnswer {
  const manager = request.query.fieldManager
  if (manager === undefined || manager === '') throw statusErrors.invalid({ kind: 'PatchOptions', group: 'meta.k8s.io', version: 'v1', resource: 'patchoptions' }, '', 'fieldManager', 'Required value: is required for apply patch')
  if (path.subresource !== undefined) throw statusErrors.badRequest('the simulator does not implement server-side apply on subresources')
  const applied = parseApplied(request.body ?? '')
  if (applied.apiVersion !== apiVersionOf(path.type) || applied.kind !== path.type.kind) throw statusErrors.badRequest(`the apply configuration must be ${apiVersionOf(path.type)} ${path.type.kind}`)
  const name = path.name as string
  checkIdentity(path, name, applied)
  const merged = serverSideApply(current, { ...applied, metadata: { ...(applied.metadata as Obj), name, ...(path.type.namespaced ? { namespace: path.namespace } : {}) } }, manager, ctx.store.timestamp())
  const next = withDefaults(path.type, merged)
  validate(path.type, name, next)
  return { status: current === undefined ? 201 : 200, body: commit(ctx, request, path, next) }
}

function remove (ctx: SimContext, request: SimRequest, path: ParsedPath, current: StoredObject): SimAnswer {
  let options: { propagationPolicy?: string, preconditions?: { uid?: string, resourceVersion?: string } } = {}
  if (request.body !== undefined && request.body !== '') options = parseBody(request, 'delete') as typeof options
  const policy = options.propagationPolicy ?? request.query.propagationPolicy ?? 'Background'
  if (!['Background', 'Foreground', 'Orphan'].includes(policy)) throw statusErrors.badRequest(`propagationPolicy: Unsupported value: "${policy}"`)
  const pre = options.preconditions ?? {}
  if ((pre.uid !== undefined && pre.uid !== current.metadata.uid) || (pre.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion)) throw statusErrors.conflict(path.type, current.metadata.name)
  const details = { name: current.metadata.name, group: path.type.group, kind: path.type.resource, uid: current.metadata.uid }
  if (request.query.dryRun !== 'All') {
    if (path.type === served.Namespace) {
      for (const type of Object.values(served)) for (const o of ctx.store.list(type, current.metadata.name)) if (type.namespaced) ctx.store.delete(type, current.metadata.name, o.metadata.name)
    }
    ctx.store.delete(path.type, scoped(path), current.metadata.name)
    ctx.controllers.collect(current.metadata, policy === 'Orphan')
  }
  return { status: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details } }
}

function parseBody (request: SimRequest, verb: SimVerb): unknown {
  if (request.body === undefined || request.body === '') throw statusErrors.badRequest(`${verb} needs a request body`)
  if ((verb === 'update' || verb === 'create' || verb === 'delete') && request.contentType !== 'application/json') throw statusErrors.unsupportedMediaType(request.contentType)
  if (verb === 'patch' && !(request.contentType in patchTypes)) throw statusErrors.unsupportedMediaType(request.contentType)
  try {
    return JSON.parse(request.body)
  } catch {
    throw statusErrors.badRequest('the request body is not valid JSON')
  }
}

export function scaleOf (object: StoredObject): Obj {
  const spec = (object.spec ?? {}) as { replicas?: number, selector?: { matchLabels?: Record<string, string> } }
  const status = (object.status ?? {}) as { replicas?: number }
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: object.metadata.name, namespace: object.metadata.namespace, uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion, creationTimestamp: object.metadata.creationTimestamp },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
  }
}
