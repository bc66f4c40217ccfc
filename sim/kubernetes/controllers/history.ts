/**
 * The StatefulSet and DaemonSet controllers, as far as rollback needs them: each template gets a
 * ControllerRevision whose `data` is the strategic merge patch
 * `{spec: {template: {..., $patch: replace}}}` and whose `revision` is a field; a template that
 * returns to an old revision reuses it with the next number; `status.currentRevision` and
 * `updateRevision` name the current one (StatefulSet). They run at once after every write: the
 * simulator has no pods, so these rollouts complete instantly.
 */
import type { PodTemplateSpec } from '../../../src/kubernetes/resources.js'
import { served, type ServedResource } from '../catalog.js'
import { sameJson } from '../json.js'
import type { Obj } from '../patch.js'
import type { SimStore, StoredObject } from '../store.js'
import { matchLabels, ownedBy, ownerReference, pruneHistory, specOf, templateHash, templateOf } from './shared.js'

export function reconcileHistory (store: SimStore, type: ServedResource, workload: StoredObject): void {
  const ns = workload.metadata.namespace
  const owned = store.list(served.ControllerRevision, ns, (cr) => ownedBy(cr, workload))
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
    current = store.write(served.ControllerRevision, {
      metadata: { name: `${workload.metadata.name}-${hash}`, namespace: ns, labels: { ...matchLabels(workload), 'controller-revision-hash': hash }, ownerReferences: [ownerReference(workload)] },
      data: { spec: { template: { ...structuredClone(template), $patch: 'replace' } } },
      revision: maxRevision + 1,
    })
  } else if (revisionOf(current) !== maxRevision) {
    current = store.write(served.ControllerRevision, { ...current, revision: maxRevision + 1 })
  }
  pruneHistory(store, served.ControllerRevision, workload, current.metadata.name, revisionOf)
  const fresh = store.get(type, ns, workload.metadata.name)
  if (fresh === undefined) return
  const replicas = type === served.StatefulSet ? ((specOf(fresh).replicas as number | undefined) ?? 1) : 1
  fresh.status = type === served.StatefulSet
    ? { observedGeneration: fresh.metadata.generation, replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas, currentRevision: current.metadata.name, updateRevision: current.metadata.name, collisionCount: 0 }
    : { observedGeneration: fresh.metadata.generation, desiredNumberScheduled: replicas, currentNumberScheduled: replicas, numberReady: replicas, updatedNumberScheduled: replicas, numberAvailable: replicas, numberMisscheduled: 0 }
  store.write(type, fresh)
}
