/**
 * The request semantics of the simulated API server, free of HTTP: resolve the path, authorize,
 * then GET / LIST / PATCH / PUT against the store, with resourceVersion preconditions,
 * `dryRun=All`, validation and the scale subresource. app.ts wires it to Fastify.
 */
import type { ResourceType } from '../../src/kubernetes/resources.js'
import { resources } from '../../src/kubernetes/resources.js'
import { reconcile } from './controller.js'
import { applyPatch, PatchError, patchTypes, type Obj } from './patch.js'
import { allows, forbiddenMessage, type PolicyRule } from './rbac.js'
import { SimHttpError, statusErrors } from './status.js'
import { typeByPath, type SimStore, type StoredObject } from './store.js'

export interface ParsedPath {
  type: ResourceType
  namespace: string
  name?: string | undefined
  subresource?: string | undefined
}

/** `/apis/{group}/{version}/namespaces/{ns}/{resource}[/{name}[/{subresource}]]` */
export function parsePath (path: string): ParsedPath | undefined {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent)
  if (parts[0] !== 'apis' || parts[3] !== 'namespaces' || parts.length < 6 || parts.length > 8) return undefined
  const type = typeByPath(parts[1] ?? '', parts[2] ?? '', parts[5] ?? '')
  if (type === undefined) return undefined
  return { type, namespace: parts[4] ?? '', name: parts[6], subresource: parts[7] }
}

export type SimVerb = 'get' | 'list' | 'patch' | 'update'

export interface SimRequest {
  method: string
  path: string
  query: Record<string, string>
  contentType: string
  /** Raw body text (PATCH, PUT). */
  body: string | undefined
}

export interface SimContext {
  store: SimStore
  user: string
  rules: readonly PolicyRule[] | undefined
}

export function verbOf (method: string, path: ParsedPath): SimVerb {
  if (method === 'GET') return path.name === undefined ? 'list' : 'get'
  if (method === 'PATCH') return 'patch'
  if (method === 'PUT') return 'update'
  throw statusErrors.methodNotAllowed(method)
}

export function authorize (ctx: SimContext, verb: SimVerb, path: ParsedPath): void {
  if (ctx.rules === undefined) return
  const request = { verb, group: path.type.group, resource: path.type.resource, subresource: path.subresource, namespace: path.namespace, name: path.name }
  if (!allows(ctx.rules, request)) {
    throw new SimHttpError(403, 'Forbidden', forbiddenMessage(ctx.user, request), { ...(path.name === undefined ? {} : { name: path.name }), group: path.type.group, kind: path.type.resource })
  }
}

const SCALABLE = new Set<ResourceType>([resources.Deployment, resources.StatefulSet, resources.ReplicaSet])

export function handle (ctx: SimContext, request: SimRequest, path: ParsedPath, verb: SimVerb): unknown {
  const { store } = ctx
  const dryRun = request.query.dryRun
  if (dryRun !== undefined && dryRun !== 'All') throw statusErrors.badRequest(`dryRun: Unsupported value: "${dryRun}": supported values: "All"`)
  if (path.subresource !== undefined && (path.subresource !== 'scale' || !SCALABLE.has(path.type))) throw statusErrors.resourceNotFound()

  if (verb === 'list') {
    const selector = parseSelector(request.query.labelSelector)
    const items = store.list(path.type, path.namespace).filter((o) => selector(o.metadata.labels ?? {}))
    return { apiVersion: items[0]?.apiVersion ?? `${path.type.group}/${path.type.version}`, kind: `${path.type.kind}List`, metadata: { resourceVersion: store.listVersion() }, items }
  }
  const name = path.name as string
  const current = store.get(path.type, path.namespace, name)
  if (current === undefined) throw statusErrors.notFound(path.type, name)
  if (verb === 'get') return path.subresource === 'scale' ? scaleOf(current) : current

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
  const meta = (updated.metadata ?? {}) as { name?: string, namespace?: string, resourceVersion?: string }
  if (meta.name !== undefined && meta.name !== name) throw statusErrors.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`)
  if (meta.namespace !== undefined && meta.namespace !== path.namespace) throw statusErrors.badRequest(`the namespace of the object (${meta.namespace}) does not match the namespace on the URL (${path.namespace})`)
  // Optimistic concurrency: a body carrying a resourceVersion must carry the current one.
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== current.metadata.resourceVersion) throw statusErrors.conflict(path.type, name)

  let next: Obj
  if (path.subresource === 'scale') {
    const replicas = ((updated.spec ?? {}) as { replicas?: unknown }).replicas
    if (!Number.isInteger(replicas) || (replicas as number) < 0) throw statusErrors.invalid(path.type, name, 'spec.replicas', `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`)
    next = { ...current, spec: { ...(current.spec as Obj), replicas } }
  } else {
    next = { ...updated, metadata: { ...(updated.metadata as Obj), name, namespace: path.namespace, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp }, status: current.status }
    validate(path.type, name, next)
  }
  if (dryRun === 'All') {
    const prepared = store.prepare(path.type, next)
    return path.subresource === 'scale' ? scaleOf(prepared) : prepared
  }
  const written = store.write(path.type, next)
  reconcile(store, path.type, path.namespace, name)
  return path.subresource === 'scale' ? scaleOf(written) : written
}

function parseBody (request: SimRequest, verb: SimVerb): unknown {
  if (request.body === undefined || request.body === '') throw statusErrors.badRequest(`${verb} needs a request body`)
  if (verb === 'update' && request.contentType !== 'application/json') throw statusErrors.unsupportedMediaType(request.contentType)
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

/** The validation the actions can trip over, with the API server's field paths. */
function validate (type: ResourceType, name: string, object: Obj): void {
  const spec = (object.spec ?? {}) as Record<string, unknown>
  if (type === resources.HorizontalPodAutoscaler) {
    const max = spec.maxReplicas
    const min = spec.minReplicas ?? 1
    if (!Number.isInteger(max) || (max as number) < 1) throw statusErrors.invalid(type, name, 'spec.maxReplicas', `Invalid value: ${JSON.stringify(max)}: must be greater than or equal to 1`)
    if (!Number.isInteger(min) || (min as number) < 1) throw statusErrors.invalid(type, name, 'spec.minReplicas', `Invalid value: ${JSON.stringify(min)}: must be greater than or equal to 1`)
    if ((min as number) > (max as number)) throw statusErrors.invalid(type, name, 'spec.minReplicas', `Invalid value: ${String(min)}: must be less than or equal to maxReplicas`)
    return
  }
  if (type === resources.Deployment || type === resources.StatefulSet || type === resources.DaemonSet) {
    const replicas = spec.replicas
    if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 0)) throw statusErrors.invalid(type, name, 'spec.replicas', `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`)
    const containers = ((spec.template as Obj | undefined)?.spec as Obj | undefined)?.containers
    if (!Array.isArray(containers) || containers.length === 0) throw statusErrors.invalid(type, name, 'spec.template.spec.containers', 'Required value')
    containers.forEach((c, i) => {
      const container = c as { name?: unknown, image?: unknown }
      if (typeof container.name !== 'string' || container.name === '') throw statusErrors.invalid(type, name, `spec.template.spec.containers[${i}].name`, 'Required value')
      if (typeof container.image !== 'string' || container.image === '') throw statusErrors.invalid(type, name, `spec.template.spec.containers[${i}].image`, 'Required value')
    })
  }
}

/** Pure: a matcher for the equality-based label selector syntax (`a=b,c!=d,e,!f`). */
export function parseSelector (selector: string | undefined): (labels: Record<string, string>) => boolean {
  if (selector === undefined || selector.trim() === '') return () => true
  const tests = selector.split(',').map((term) => term.trim()).filter((t) => t !== '').map((term): (labels: Record<string, string>) => boolean => {
    const ne = term.match(/^([^!=]+)!=(.*)$/)
    if (ne !== null) return (l) => l[ne[1] as string] !== ne[2]
    const eq = term.match(/^([^!=]+)==?(.*)$/)
    if (eq !== null) return (l) => l[eq[1] as string] === eq[2]
    if (term.startsWith('!')) return (l) => !(term.slice(1) in l)
    if (/\s(in|notin)\s/.test(term)) throw statusErrors.badRequest(`unable to parse requirement: set-based selectors are not supported by the simulator: ${term}`)
    return (l) => term in l
  })
  return (labels) => tests.every((test) => test(labels))
}
