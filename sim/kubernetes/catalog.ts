/**
 * What the simulated API server serves, in its own words: each resource's coordinates, scope,
 * singular name, short names, categories, the verbs it answers and its subresources. Discovery,
 * the OpenAPI documents, RBAC checks and the router all read this one table, so the server never
 * advertises a verb it does not implement. The entries satisfy the product's ResourceType shape
 * (kind, group, version, resource) but are the simulator's own: its discovery must not follow
 * the product's table by accident.
 */
import type { ResourceType } from '../../src/kubernetes/resources.js'

export interface ServedSubresource {
  readonly name: string
  /** The kind the subresource answers (autoscaling/v1 Scale for `scale`). */
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly verbs: readonly string[]
}

export interface ServedResource extends ResourceType {
  readonly singular: string
  readonly namespaced: boolean
  readonly verbs: readonly string[]
  readonly shortNames: readonly string[]
  readonly categories: readonly string[]
  readonly subresources: readonly ServedSubresource[]
}

const OBJECT_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const
const SCALE: ServedSubresource = { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }

function entry (kind: string, group: string, version: string, resource: string, more: Partial<ServedResource> = {}): ServedResource {
  return { kind, group, version, resource, singular: kind.toLowerCase(), namespaced: true, verbs: OBJECT_VERBS, shortNames: [], categories: [], subresources: [], ...more }
}

export const served = {
  Namespace: entry('Namespace', '', 'v1', 'namespaces', { namespaced: false, shortNames: ['ns'] }),
  Deployment: entry('Deployment', 'apps', 'v1', 'deployments', { shortNames: ['deploy'], categories: ['all'], subresources: [SCALE] }),
  ReplicaSet: entry('ReplicaSet', 'apps', 'v1', 'replicasets', { shortNames: ['rs'], categories: ['all'], subresources: [SCALE] }),
  StatefulSet: entry('StatefulSet', 'apps', 'v1', 'statefulsets', { shortNames: ['sts'], categories: ['all'], subresources: [SCALE] }),
  DaemonSet: entry('DaemonSet', 'apps', 'v1', 'daemonsets', { shortNames: ['ds'], categories: ['all'] }),
  ControllerRevision: entry('ControllerRevision', 'apps', 'v1', 'controllerrevisions'),
  HorizontalPodAutoscaler: entry('HorizontalPodAutoscaler', 'autoscaling', 'v2', 'horizontalpodautoscalers', { shortNames: ['hpa'], categories: ['all'] }),
} as const satisfies Record<string, ServedResource>

export const servedResources: readonly ServedResource[] = Object.values(served)

/** The group versions served, in discovery order: the core group first. */
export function groupVersions (): Array<{ group: string, version: string, resources: ServedResource[] }> {
  const out: Array<{ group: string, version: string, resources: ServedResource[] }> = []
  for (const r of servedResources) {
    let gv = out.find((g) => g.group === r.group && g.version === r.version)
    if (gv === undefined) out.push(gv = { group: r.group, version: r.version, resources: [] })
    gv.resources.push(r)
  }
  return out
}

export function typeByKind (kind: string): ServedResource | undefined {
  return servedResources.find((t) => t.kind === kind)
}

export function typeByPath (group: string, version: string, resource: string): ServedResource | undefined {
  return servedResources.find((t) => t.group === group && t.version === version && t.resource === resource)
}

export function apiVersionOf (type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`
}

/** `deployments.apps`, `namespaces`: how the API server names a resource in messages. */
export function qualified (type: ResourceType): string {
  return type.group === '' ? type.resource : `${type.resource}.${type.group}`
}
