/**
 * The OpenAPI documents kubectl fetches. v3 is served as JSON: `/openapi/v3` lists one document
 * per group version, and each document describes the served paths with their operations, the
 * `x-kubernetes-group-version-kind` and `x-kubernetes-action` extensions, the query parameters
 * (dryRun, fieldManager, fieldValidation, force, …) and the patch content types. That is what
 * kubectl reads to decide that the server validates fields itself (`fieldValidation=Strict`) and
 * that strategic merge patch applies. The component schemas are stubs without a
 * group-version-kind, so kubectl computes its strategic merge patches from its compiled-in types,
 * as it does whenever a schema is missing. v2 is served as JSON when asked for JSON; kubectl asks
 * only for protobuf, which the simulator does not speak (406), and then does without it.
 */
import { createHash } from 'node:crypto'
import { apiVersionOf, groupVersions, type ServedResource } from './catalog.js'
import { SERVER_VERSION } from './discovery.js'

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']

const query = (name: string, description: string, type = 'string'): Record<string, unknown> => ({ name, in: 'query', description, schema: { type, uniqueItems: true } })
const DRY_RUN = query('dryRun', 'When present, indicates that modifications should not be persisted. Valid value: All')
const FIELD_MANAGER = query('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.')
const FIELD_VALIDATION = query('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values: Ignore, Warn, Strict')
const FORCE = query('force', 'Force is going to "force" Apply requests.', 'boolean')
const LIST_PARAMS = ['labelSelector', 'fieldSelector', 'resourceVersion', 'timeoutSeconds', 'watch', 'allowWatchBookmarks', 'sendInitialEvents', 'limit', 'continue'].map((n) => query(n, n))

function schemaName (r: { group: string, version: string, kind: string }): string {
  const group = r.group === '' ? 'core' : r.group.split('.')[0] ?? r.group
  return `io.k8s.api.${group}.${r.version}.${r.kind}`
}

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)

/** Pure: the API server's operationId, e.g. patchAppsV1NamespacedDeploymentScale. */
function operationId (verb: string, r: ServedResource, what: string): string {
  return `${verb}${pascal(r.group.split('.')[0] ?? '') || 'Core'}${pascal(r.version)}${r.namespaced ? 'Namespaced' : ''}${what}`
}

function operation (action: string, id: string, kind: { group: string, version: string, kind: string }, parameters: unknown[], body?: string[]): Record<string, unknown> {
  const ref = { $ref: `#/components/schemas/${schemaName(kind)}` }
  return {
    description: `${action} ${kind.kind}`,
    operationId: id,
    parameters,
    ...(body === undefined ? {} : { requestBody: { content: Object.fromEntries(body.map((t) => [t, { schema: ref }])), required: true } }),
    responses: { 200: { description: 'OK', content: { 'application/json': { schema: ref } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: kind.group, version: kind.version, kind: kind.kind },
  }
}

function pathsOf (r: ServedResource): Record<string, unknown> {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`
  const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`
  const kind = { group: r.group, version: r.version, kind: r.kind }
  const allows = (v: string): boolean => r.verbs.includes(v)
  const list = { ...kind, kind: `${r.kind}List` }
  const out: Record<string, unknown> = {
    [collection]: {
      ...(allows('list') ? { get: operation('list', operationId('list', r, r.kind), list, LIST_PARAMS) } : {}),
      ...(allows('create') ? { post: operation('post', operationId('create', r, r.kind), kind, [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], ['*/*']) } : {}),
    },
    [`${collection}/{name}`]: {
      get: operation('get', operationId('read', r, r.kind), kind, []),
      ...(allows('update') ? { put: operation('put', operationId('replace', r, r.kind), kind, [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], ['*/*']) } : {}),
      ...(allows('patch') ? { patch: operation('patch', operationId('patch', r, r.kind), kind, [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE], PATCH_TYPES) } : {}),
      ...(allows('delete') ? { delete: operation('delete', operationId('delete', r, r.kind), kind, [DRY_RUN]) } : {}),
    },
  }
  if (r.namespaced) out[`${prefix}/${r.resource}`] = { get: operation('list', `list${pascal(r.group.split('.')[0] ?? '')}${pascal(r.version)}${r.kind}ForAllNamespaces`, list, LIST_PARAMS) }
  for (const s of r.subresources) {
    const sk = { group: s.group, version: s.version, kind: s.kind }
    const what = `${r.kind}${pascal(s.name)}`
    out[`${collection}/{name}/${s.name}`] = {
      get: operation('get', operationId('read', r, what), sk, []),
      put: operation('put', operationId('replace', r, what), sk, [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], ['*/*']),
      patch: operation('patch', operationId('patch', r, what), sk, [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE], PATCH_TYPES),
    }
  }
  return out
}

/** The v3 document of one group version (`api/v1`, `apis/apps/v1`), or undefined. */
export function openApiV3Document (groupVersionPath: string): Record<string, unknown> | undefined {
  const gv = groupVersions().find((g) => (g.group === '' ? `api/${g.version}` : `apis/${g.group}/${g.version}`) === groupVersionPath)
  if (gv === undefined) return undefined
  const schemas: Record<string, unknown> = {}
  for (const r of gv.resources) {
    for (const k of [{ group: r.group, version: r.version, kind: r.kind }, { group: r.group, version: r.version, kind: `${r.kind}List` }, ...r.subresources]) {
      schemas[schemaName(k)] = { description: `${k.kind} (${apiVersionOf(k as ServedResource)}); the simulator publishes no field schema`, type: 'object' }
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths: Object.assign({}, ...gv.resources.map(pathsOf)),
    components: { schemas },
  }
}

/** `/openapi/v3`: where each group version's document is, with a hash of its content as cache key. */
export function openApiV3Index (): Record<string, unknown> {
  const paths: Record<string, unknown> = {}
  for (const g of groupVersions()) {
    const path = g.group === '' ? `api/${g.version}` : `apis/${g.group}/${g.version}`
    const hash = createHash('sha512').update(JSON.stringify(openApiV3Document(path))).digest('hex').slice(0, 128).toUpperCase()
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` }
  }
  return { paths }
}

/** `/openapi/v2` as JSON: the same operations in Swagger 2.0 form, for clients that ask for JSON. */
export function openApiV2Document (): Record<string, unknown> {
  const paths: Record<string, unknown> = {}
  const definitions: Record<string, unknown> = {}
  for (const g of groupVersions()) {
    const doc = openApiV3Document(g.group === '' ? `api/${g.version}` : `apis/${g.group}/${g.version}`) as { paths: Record<string, Record<string, Record<string, unknown>>>, components: { schemas: Record<string, unknown> } }
    for (const [p, ops] of Object.entries(doc.paths)) {
      paths[p] = Object.fromEntries(Object.entries(ops).map(([m, op]) => {
        const { requestBody, responses: _responses, parameters, ...rest } = op as { requestBody?: { content: Record<string, unknown> }, responses?: unknown, parameters: Array<{ schema: { type: string } }> }
        // Swagger 2.0 puts the type on the parameter itself.
        const v2Parameters = parameters.map(({ schema, ...p }) => ({ ...p, type: schema.type, uniqueItems: true }))
        return [m, { ...rest, parameters: v2Parameters, consumes: Object.keys(requestBody?.content ?? { '*/*': {} }), produces: ['application/json'], responses: { 200: { description: 'OK' } } }]
      }))
    }
    Object.assign(definitions, doc.components.schemas)
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion }, paths, definitions }
}
