/**
 * The simulator's object store: plain JSON objects keyed by resource, namespace and name, with
 * the metadata the API server assigns (uid, resourceVersion from one global counter,
 * creationTimestamp from the simulator's clock, generation bumped on spec changes).
 */
import { randomUUID } from 'node:crypto'
import { resources, type ResourceType } from '../../src/kubernetes/resources.js'
import { sameJson } from './json.js'
import type { Obj } from './patch.js'

export type SimKind = keyof typeof resources

export const servedTypes: readonly ResourceType[] = Object.values(resources)

export function typeByKind (kind: string): ResourceType | undefined {
  return servedTypes.find((t) => t.kind === kind)
}

export function typeByPath (group: string, version: string, resource: string): ResourceType | undefined {
  return servedTypes.find((t) => t.group === group && t.version === version && t.resource === resource)
}

export interface SimClock {
  now(): number
}

export interface StoredMeta {
  name: string
  namespace: string
  uid: string
  resourceVersion: string
  generation: number
  creationTimestamp: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: Array<{ apiVersion: string, kind: string, name: string, uid: string, controller?: boolean, blockOwnerDeletion?: boolean }>
  [key: string]: unknown
}

export interface StoredObject extends Obj {
  apiVersion: string
  kind: string
  metadata: StoredMeta
}

export class SimStore {
  private readonly objects = new Map<string, StoredObject>()
  private version = 1000

  constructor (private readonly clock: SimClock) {}

  private key (type: ResourceType, namespace: string, name: string): string {
    return `${type.resource}.${type.group}/${namespace}/${name}`
  }

  get (type: ResourceType, namespace: string, name: string): StoredObject | undefined {
    const found = this.objects.get(this.key(type, namespace, name))
    return found === undefined ? undefined : structuredClone(found)
  }

  list (type: ResourceType, namespace?: string): StoredObject[] {
    const prefix = `${type.resource}.${type.group}/${namespace === undefined ? '' : `${namespace}/`}`
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => structuredClone(v))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  }

  /** The current resourceVersion of the whole store (what a LIST reports). */
  listVersion (): string {
    return String(this.version)
  }

  /**
   * Pure: what `write` would store, without storing it — used for `dryRun=All`. New objects get
   * a uid and creationTimestamp; the resourceVersion is left as the current one.
   */
  prepare (type: ResourceType, object: Obj): StoredObject {
    const metadata = (object.metadata ?? {}) as Partial<StoredMeta>
    if (typeof metadata.name !== 'string' || metadata.name === '') throw new Error('metadata.name is required')
    const namespace = metadata.namespace ?? 'default'
    const existing = this.objects.get(this.key(type, namespace, metadata.name))
    const specChanged = existing === undefined || !sameJson(existing.spec, object.spec)
    return {
      ...structuredClone(object),
      apiVersion: type.group === '' ? type.version : `${type.group}/${type.version}`,
      kind: type.kind,
      metadata: {
        ...structuredClone(metadata),
        name: metadata.name,
        namespace,
        uid: existing?.metadata.uid ?? metadata.uid ?? randomUUID(),
        creationTimestamp: existing?.metadata.creationTimestamp ?? metadata.creationTimestamp ?? new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        generation: existing === undefined ? 1 : existing.metadata.generation + (specChanged ? 1 : 0),
        resourceVersion: existing?.metadata.resourceVersion ?? '0',
      },
    }
  }

  /** Stores an object with a fresh resourceVersion; returns the stored copy. */
  write (type: ResourceType, object: Obj): StoredObject {
    const prepared = this.prepare(type, object)
    const existing = this.objects.get(this.key(type, prepared.metadata.namespace, prepared.metadata.name))
    // An unchanged object keeps its resourceVersion, as an API server no-op update does.
    if (existing !== undefined && sameJson({ ...existing, metadata: { ...existing.metadata, resourceVersion: '' } }, { ...prepared, metadata: { ...prepared.metadata, resourceVersion: '' } })) {
      return structuredClone(existing)
    }
    prepared.metadata.resourceVersion = String(++this.version)
    this.objects.set(this.key(type, prepared.metadata.namespace, prepared.metadata.name), prepared)
    return structuredClone(prepared)
  }

  delete (type: ResourceType, namespace: string, name: string): boolean {
    return this.objects.delete(this.key(type, namespace, name))
  }

  /** Every object, for snapshots and "nothing changed" assertions. */
  all (): StoredObject[] {
    return [...this.objects.values()].map((o) => structuredClone(o))
  }
}
