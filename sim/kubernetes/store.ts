/**
 * The simulator's object store: plain JSON objects keyed by resource, namespace and name, with
 * the metadata the API server assigns (uid, resourceVersion from one global counter,
 * creationTimestamp from the simulator's clock, generation bumped on spec changes), and the
 * change feed watches read: every write and delete is an event stamped with its resourceVersion,
 * the recent ones kept so that a watch can resume from the version its LIST saw.
 *
 * A namespaced object written into a namespace that does not exist creates the namespace, as if
 * it had been created first: the simulator does not make users create namespaces.
 */
import { randomUUID } from 'node:crypto'
import { served, type ServedResource } from './catalog.js'
import { sameJson } from './json.js'
import type { Obj } from './patch.js'

export interface SimClock {
  now(): number
}

export interface StoredMeta {
  name: string
  /** '' for cluster-scoped objects (the field is left out of the object then). */
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

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface Change {
  readonly type: ChangeType
  readonly resource: ServedResource
  /** The object after the change (for DELETED: its last state, with the deletion's resourceVersion). */
  readonly object: StoredObject
  readonly resourceVersion: number
}

/** How many changes a watch can resume across by default; older versions answer 410 Gone. */
export const WATCH_CACHE_SIZE = 5000

export class SimStore {
  private readonly objects = new Map<string, StoredObject>()
  /** The same objects by type and namespace (`resource.group/namespace`), so a LIST reads only its own. */
  private readonly buckets = new Map<string, Map<string, StoredObject>>()
  private version = 1000
  private readonly history: Change[] = []
  private readonly listeners = new Set<(change: Change) => void>()

  constructor (private readonly clock: SimClock, private readonly watchCacheSize = WATCH_CACHE_SIZE) {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.ensureNamespace(name)
  }

  private key (type: ServedResource, namespace: string, name: string): string {
    return `${this.bucketKey(type, namespace)}/${name}`
  }

  private bucketKey (type: ServedResource, namespace: string): string {
    return `${type.resource}.${type.group}/${type.namespaced ? namespace : ''}`
  }

  private put (type: ServedResource, key: string, object: StoredObject): void {
    this.objects.set(key, object)
    const bucket = this.bucketKey(type, object.metadata.namespace ?? '')
    let objects = this.buckets.get(bucket)
    if (objects === undefined) this.buckets.set(bucket, objects = new Map())
    objects.set(object.metadata.name, object)
  }

  private remove (type: ServedResource, key: string, object: StoredObject): void {
    this.objects.delete(key)
    this.buckets.get(this.bucketKey(type, object.metadata.namespace ?? ''))?.delete(object.metadata.name)
  }

  get (type: ServedResource, namespace: string, name: string): StoredObject | undefined {
    const found = this.objects.get(this.key(type, namespace, name))
    return found === undefined ? undefined : structuredClone(found)
  }

  /**
   * Objects of a type, in one namespace or (undefined) in all, in the API server's order (etcd's:
   * by namespace, then name, bytewise). `where` picks before anything is copied: the controllers
   * look for the few objects a workload owns among many.
   */
  list (type: ServedResource, namespace?: string, where?: (object: Readonly<StoredObject>) => boolean): StoredObject[] {
    const found: StoredObject[] = []
    const take = (objects: Iterable<StoredObject>): void => {
      for (const o of objects) if (where === undefined || where(o)) found.push(structuredClone(o))
    }
    if (namespace !== undefined || !type.namespaced) {
      take(this.buckets.get(this.bucketKey(type, namespace ?? ''))?.values() ?? [])
    } else {
      const prefix = `${type.resource}.${type.group}/`
      for (const [bucket, objects] of this.buckets) if (bucket.startsWith(prefix)) take(objects.values())
    }
    const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
    return found.sort((a, b) => order(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || order(a.metadata.name, b.metadata.name))
  }

  /** The current resourceVersion of the whole store (what a LIST reports). */
  listVersion (): string {
    return String(this.version)
  }

  /**
   * Pure: what `write` would store, without storing it — used for `dryRun=All`. New objects get
   * a uid and creationTimestamp; the resourceVersion is left as the current one.
   */
  prepare (type: ServedResource, object: Obj): StoredObject {
    const metadata = (object.metadata ?? {}) as Partial<StoredMeta>
    if (typeof metadata.name !== 'string' || metadata.name === '') throw new Error('metadata.name is required')
    const namespace = type.namespaced ? (metadata.namespace ?? 'default') : ''
    const existing = this.objects.get(this.key(type, namespace, metadata.name))
    const specChanged = existing === undefined || !sameJson(existing.spec, object.spec)
    const { namespace: _given, ...rest } = structuredClone(metadata)
    return {
      ...structuredClone(object),
      apiVersion: type.group === '' ? type.version : `${type.group}/${type.version}`,
      kind: type.kind,
      metadata: {
        ...rest,
        name: metadata.name,
        ...(type.namespaced ? { namespace } : {}),
        uid: existing?.metadata.uid ?? metadata.uid ?? randomUUID(),
        creationTimestamp: existing?.metadata.creationTimestamp ?? metadata.creationTimestamp ?? this.timestamp(),
        generation: existing === undefined ? 1 : existing.metadata.generation + (specChanged ? 1 : 0),
        resourceVersion: existing?.metadata.resourceVersion ?? '0',
      } as StoredMeta,
    }
  }

  /** RFC 3339 in seconds, as the API server writes timestamps. */
  timestamp (): string {
    return new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z')
  }

  /** Stores an object with a fresh resourceVersion; returns the stored copy. */
  write (type: ServedResource, object: Obj): StoredObject {
    const prepared = this.prepare(type, object)
    const namespace = prepared.metadata.namespace ?? ''
    if (type.namespaced) this.ensureNamespace(namespace)
    const key = this.key(type, namespace, prepared.metadata.name)
    const existing = this.objects.get(key)
    // An unchanged object keeps its resourceVersion, as an API server no-op update does.
    if (existing !== undefined && sameJson({ ...existing, metadata: { ...existing.metadata, resourceVersion: '' } }, { ...prepared, metadata: { ...prepared.metadata, resourceVersion: '' } })) {
      return structuredClone(existing)
    }
    prepared.metadata.resourceVersion = String(++this.version)
    this.put(type, key, prepared)
    this.emit(existing === undefined ? 'ADDED' : 'MODIFIED', type, prepared)
    return structuredClone(prepared)
  }

  /** Removes an object; its last state, stamped with the deletion's resourceVersion, or undefined. */
  delete (type: ServedResource, namespace: string, name: string): StoredObject | undefined {
    const key = this.key(type, namespace, name)
    const existing = this.objects.get(key)
    if (existing === undefined) return undefined
    this.remove(type, key, existing)
    existing.metadata.resourceVersion = String(++this.version)
    this.emit('DELETED', type, existing)
    return structuredClone(existing)
  }

  private ensureNamespace (name: string): void {
    if (name === '' || this.objects.has(this.key(served.Namespace, '', name))) return
    this.write(served.Namespace, {
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    })
  }

  private emit (type: ChangeType, resource: ServedResource, object: StoredObject): void {
    const change: Change = { type, resource, object: structuredClone(object), resourceVersion: this.version }
    this.history.push(change)
    if (this.history.length > this.watchCacheSize) this.history.splice(0, this.history.length - this.watchCacheSize)
    for (const listener of this.listeners) listener(change)
  }

  /** Changes after `resourceVersion`, or undefined when they are no longer kept (410 Gone). */
  changesSince (resourceVersion: number): Change[] | undefined {
    const oldest = this.history[0]?.resourceVersion ?? this.version + 1
    if (resourceVersion < oldest - 1 && resourceVersion < this.version) return undefined
    return this.history.filter((c) => c.resourceVersion > resourceVersion).map((c) => ({ ...c, object: structuredClone(c.object) }))
  }

  /** Calls `listener` with every change from now on; returns the unsubscribe function. */
  subscribe (listener: (change: Change) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Every object, for snapshots and "nothing changed" assertions. */
  all (): StoredObject[] {
    return [...this.objects.values()].map((o) => structuredClone(o))
  }
}
