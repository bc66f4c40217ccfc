/** What the simulator's controllers share: owner references, templates, the pod-template hash. */
import { createHash } from 'node:crypto'
import type { PodTemplateSpec } from '../../../src/kubernetes/resources.js'
import type { ServedResource } from '../catalog.js'
import { canonical } from '../json.js'
import type { Obj } from '../patch.js'
import type { SimStore, StoredObject } from '../store.js'

/** Pure: a short stable hash of a JSON value (key order independent), like pod-template-hash. */
export function templateHash (value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 10)
}

export function specOf (object: StoredObject): Obj {
  return (object.spec ?? {}) as Obj
}

export function templateOf (object: StoredObject): PodTemplateSpec {
  return (specOf(object).template ?? {}) as PodTemplateSpec
}

export function ownedBy (child: StoredObject, owner: StoredObject): boolean {
  return (child.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller === true)
}

export function ownerReference (owner: StoredObject): NonNullable<StoredObject['metadata']['ownerReferences']>[number] {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }
}

export function matchLabels (object: StoredObject): Record<string, string> {
  return ((specOf(object).selector ?? {}) as { matchLabels?: Record<string, string> }).matchLabels ?? {}
}

/** Deletes the oldest owned objects with nothing running beyond `revisionHistoryLimit` (default 10). */
export function pruneHistory (store: SimStore, type: ServedResource, owner: StoredObject, keep: string, revisionOf: (o: StoredObject) => number, idle: (o: StoredObject) => boolean = () => true): void {
  const limit = (specOf(owner).revisionHistoryLimit as number | undefined) ?? 10
  const old = store.list(type, owner.metadata.namespace, (o) => ownedBy(o, owner) && o.metadata.name !== keep).filter(idle).sort((a, b) => revisionOf(a) - revisionOf(b))
  for (const stale of old.slice(0, Math.max(0, old.length - limit))) store.delete(type, stale.metadata.namespace, stale.metadata.name)
}
