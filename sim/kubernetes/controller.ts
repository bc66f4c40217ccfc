/**
 * The parts of kube-controller-manager the actions depend on, run synchronously after every write
 * so tests observe the settled state without waiting:
 *
 * - Deployment controller: the ReplicaSet whose template equals the Deployment's (ignoring
 *   `pod-template-hash`) becomes the new one. If none exists it is created with the next
 *   `deployment.kubernetes.io/revision`; if an old one matches (a rollback), it is reused and its
 *   revision bumped to the next number, the old number kept in `revision-history`. The new
 *   ReplicaSet gets all replicas, old ones none (an instant rollout), and old ReplicaSets beyond
 *   `revisionHistoryLimit` (default 10) are deleted. A paused Deployment gets no new ReplicaSet.
 * - StatefulSet / DaemonSet controllers: the same with ControllerRevisions, whose `data` is the
 *   strategic merge patch `{spec: {template: {..., $patch: replace}}}` and whose `revision` is a
 *   field; `status.currentRevision`/`updateRevision` name the current one (StatefulSet).
 */
import { createHash } from 'node:crypto'
import { resources, type PodTemplateSpec, type ResourceType } from '../../src/kubernetes/resources.js'
import { canonical, equalIgnoringHash, hashless, POD_TEMPLATE_HASH, REVISION_ANNOTATION, sameJson } from './json.js'
import type { Obj } from './patch.js'
import type { SimStore, StoredObject } from './store.js'

const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history'
/** Deployment annotations the controller does not copy onto ReplicaSets. */
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, 'deployment.kubernetes.io/desired-replicas', 'deployment.kubernetes.io/max-replicas', 'deprecated.deployment.rollback.to'])

/** Pure: a short stable hash of a JSON value (key order independent), like pod-template-hash. */
export function templateHash (value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 10)
}

function spec (object: StoredObject): Obj {
  return (object.spec ?? {}) as Obj
}

function templateOf (object: StoredObject): PodTemplateSpec {
  return (spec(object).template ?? {}) as PodTemplateSpec
}

function ownedBy (child: StoredObject, owner: StoredObject): boolean {
  return (child.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller === true)
}

function ownerReference (owner: StoredObject): NonNullable<StoredObject['metadata']['ownerReferences']>[number] {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }
}

function matchLabels (object: StoredObject): Record<string, string> {
  return ((spec(object).selector ?? {}) as { matchLabels?: Record<string, string> }).matchLabels ?? {}
}

export function reconcile (store: SimStore, type: ResourceType, namespace: string, name: string): void {
  const object = store.get(type, namespace, name)
  if (object === undefined) return
  if (type === resources.Deployment) reconcileDeployment(store, object)
  else if (type === resources.StatefulSet || type === resources.DaemonSet) reconcileHistory(store, type, object)
}

function reconcileDeployment (store: SimStore, deployment: StoredObject): void {
  const ns = deployment.metadata.namespace
  const owned = store.list(resources.ReplicaSet, ns).filter((rs) => ownedBy(rs, deployment))
  const revisionOf = (rs: StoredObject): number => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0)
  const maxRevision = owned.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0)
  const template = templateOf(deployment)
  const replicas = (spec(deployment).replicas as number | undefined) ?? 1
  let current = owned.find((rs) => equalIgnoringHash(templateOf(rs), template))
  if (spec(deployment).paused === true && current === undefined) return

  const copied = Object.fromEntries(Object.entries(deployment.metadata.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)))
  if (current === undefined) {
    const hash = templateHash(hashless(template))
    const hashed = hashless(template)
    hashed.metadata = { ...hashed.metadata, labels: { ...hashed.metadata?.labels, [POD_TEMPLATE_HASH]: hash } }
    current = store.write(resources.ReplicaSet, {
      metadata: {
        name: `${deployment.metadata.name}-${hash}`,
        namespace: ns,
        labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash },
        annotations: { ...copied, [REVISION_ANNOTATION]: String(maxRevision + 1), 'deployment.kubernetes.io/desired-replicas': String(replicas) },
        ownerReferences: [ownerReference(deployment)],
      },
      spec: { replicas, selector: { matchLabels: { ...matchLabels(deployment), [POD_TEMPLATE_HASH]: hash } }, template: hashed },
    })
  } else if (revisionOf(current) !== maxRevision) {
    // Reusing an old ReplicaSet: it becomes the newest revision, as on a rollback.
    const history = [current.metadata.annotations?.[REVISION_HISTORY_ANNOTATION], String(revisionOf(current))].filter((v) => v !== undefined && v !== '').join(',')
    current.metadata.annotations = { ...current.metadata.annotations, ...copied, [REVISION_ANNOTATION]: String(maxRevision + 1), [REVISION_HISTORY_ANNOTATION]: history }
    current = store.write(resources.ReplicaSet, current)
  }
  for (const rs of store.list(resources.ReplicaSet, ns).filter((r) => ownedBy(r, deployment))) {
    const want = rs.metadata.name === current.metadata.name ? replicas : 0
    if (spec(rs).replicas !== want || !sameJson(rs.status, { replicas: want, readyReplicas: want, availableReplicas: want })) {
      store.write(resources.ReplicaSet, { ...rs, spec: { ...spec(rs), replicas: want }, status: { replicas: want, readyReplicas: want, availableReplicas: want } })
    }
  }
  pruneHistory(store, resources.ReplicaSet, deployment, current.metadata.name, revisionOf)

  const latest = store.get(resources.ReplicaSet, ns, current.metadata.name)
  const revision = latest?.metadata.annotations?.[REVISION_ANNOTATION]
  const fresh = store.get(resources.Deployment, ns, deployment.metadata.name)
  if (fresh === undefined || revision === undefined) return
  fresh.metadata.annotations = { ...fresh.metadata.annotations, [REVISION_ANNOTATION]: revision }
  fresh.status = { observedGeneration: fresh.metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas }
  store.write(resources.Deployment, fresh)
}

function reconcileHistory (store: SimStore, type: ResourceType, workload: StoredObject): void {
  const ns = workload.metadata.namespace
  const owned = store.list(resources.ControllerRevision, ns).filter((cr) => ownedBy(cr, workload))
  const revisionOf = (cr: StoredObject): number => Number(cr.revision ?? 0)
  const maxRevision = owned.reduce((max, cr) => Math.max(max, revisionOf(cr)), 0)
  const template = templateOf(workload)
  const dataTemplate = (cr: StoredObject): PodTemplateSpec => {
    const { $patch: _directive, ...rest } = (((cr.data ?? {}) as Obj).spec as Obj | undefined)?.template as Obj ?? {}
    return rest as PodTemplateSpec
  }
  let current = owned.find((cr) => sameJson(dataTemplate(cr), template))
  if (current === undefined) {
    const hash = templateHash(template)
    current = store.write(resources.ControllerRevision, {
      metadata: { name: `${workload.metadata.name}-${hash}`, namespace: ns, labels: { ...matchLabels(workload), 'controller-revision-hash': hash }, ownerReferences: [ownerReference(workload)] },
      data: { spec: { template: { ...structuredClone(template), $patch: 'replace' } } },
      revision: maxRevision + 1,
    })
  } else if (revisionOf(current) !== maxRevision) {
    current = store.write(resources.ControllerRevision, { ...current, revision: maxRevision + 1 })
  }
  pruneHistory(store, resources.ControllerRevision, workload, current.metadata.name, revisionOf)
  const fresh = store.get(type, ns, workload.metadata.name)
  if (fresh === undefined) return
  const replicas = type === resources.StatefulSet ? ((spec(fresh).replicas as number | undefined) ?? 1) : 1
  fresh.status = type === resources.StatefulSet
    ? { observedGeneration: fresh.metadata.generation, replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, currentRevision: current.metadata.name, updateRevision: current.metadata.name }
    : { observedGeneration: fresh.metadata.generation, desiredNumberScheduled: replicas, currentNumberScheduled: replicas, numberReady: replicas, updatedNumberScheduled: replicas }
  store.write(type, fresh)
}

function pruneHistory (store: SimStore, type: ResourceType, owner: StoredObject, keep: string, revisionOf: (o: StoredObject) => number): void {
  const limit = (spec(owner).revisionHistoryLimit as number | undefined) ?? 10
  const old = store.list(type, owner.metadata.namespace).filter((o) => ownedBy(o, owner) && o.metadata.name !== keep).sort((a, b) => revisionOf(a) - revisionOf(b))
  for (const stale of old.slice(0, Math.max(0, old.length - limit))) store.delete(type, stale.metadata.namespace, stale.metadata.name)
}
