/**
 * The few Kubernetes resources the built-in actions touch, described by their REST coordinates
 * (group, version, plural resource) rather than by generated model classes: the mechanics work on
 * the JSON the API server sends, so that what we compare (templates) and what we send (patches)
 * is exactly what goes over the wire, with nothing added or dropped by a model round-trip.
 */
import type { TargetKind } from '../domain/target.js'

export interface ResourceType {
  readonly kind: string
  /** '' for the core group. */
  readonly group: string
  readonly version: string
  /** Plural, lower case: the path segment and the RBAC resource name. */
  readonly resource: string
}

export const resources = {
  Deployment: { kind: 'Deployment', group: 'apps', version: 'v1', resource: 'deployments' },
  StatefulSet: { kind: 'StatefulSet', group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { kind: 'DaemonSet', group: 'apps', version: 'v1', resource: 'daemonsets' },
  ReplicaSet: { kind: 'ReplicaSet', group: 'apps', version: 'v1', resource: 'replicasets' },
  ControllerRevision: { kind: 'ControllerRevision', group: 'apps', version: 'v1', resource: 'controllerrevisions' },
  HorizontalPodAutoscaler: { kind: 'HorizontalPodAutoscaler', group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' },
} as const satisfies Record<string, ResourceType>

export function workloadResource (kind: TargetKind): ResourceType {
  return resources[kind]
}

/** `deployments.apps`, `horizontalpodautoscalers.autoscaling`, as kubectl and RBAC errors name them. */
export function qualifiedName (type: ResourceType, subresource?: string): string {
  const base = type.group === '' ? type.resource : `${type.resource}.${type.group}`
  return subresource === undefined ? base : `${base}/${subresource}`
}

export function apiVersionOf (type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`
}

/** Path of a collection or of one object (optionally a subresource) in a namespace. */
export function resourcePath (type: ResourceType, namespace: string, name?: string, subresource?: string): string {
  const prefix = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`
  let path = `${prefix}/namespaces/${encodeURIComponent(namespace)}/${type.resource}`
  if (name !== undefined) path += `/${encodeURIComponent(name)}`
  if (subresource !== undefined) path += `/${subresource}`
  return path
}

// The JSON shapes below name only the fields the mechanics read; everything else passes through
// untouched because objects stay plain JSON.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
}

export interface ObjectMeta {
  name: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
}

export interface Container {
  name: string
  image?: string
}

export interface PodTemplateSpec {
  metadata?: { labels?: Record<string, string>, annotations?: Record<string, string>, [key: string]: unknown }
  spec?: { containers?: Container[], initContainers?: Container[], [key: string]: unknown }
}

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{ key: string, operator: string, values?: string[] }>
}

export interface Workload {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
  spec: {
    replicas?: number
    paused?: boolean
    selector?: LabelSelector
    template: PodTemplateSpec
    revisionHistoryLimit?: number
    [key: string]: unknown
  }
  status?: Record<string, unknown>
}

export interface ReplicaSet {
  metadata: ObjectMeta
  spec: { replicas?: number, selector?: LabelSelector, template: PodTemplateSpec }
}

export interface ControllerRevision {
  metadata: ObjectMeta
  revision: number
  /** A strategic-merge patch of the owner holding `spec.template` (what the controllers write). */
  data?: { spec?: { template?: PodTemplateSpec } }
}

export interface Scale {
  metadata: ObjectMeta
  spec: { replicas?: number }
  status?: { replicas?: number, selector?: string }
}

export interface HorizontalPodAutoscaler {
  metadata: ObjectMeta
  spec: {
    scaleTargetRef: { apiVersion?: string, kind: string, name: string }
    minReplicas?: number
    maxReplicas: number
  }
}

export interface ObjectList<T> {
  items: T[]
  metadata?: { resourceVersion?: string }
}
