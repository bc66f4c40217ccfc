/**
 * The simulator's Deployment and ReplicaSet controllers, one sync at a time, written from
 * kube-controller-manager's behaviour (not from the product's rollout code, so a bug there cannot
 * be mirrored here):
 *
 * - ReplicaSets: pods are implicit. A sync makes `status.replicas` follow `spec.replicas`; the
 *   pods that existed at the previous sync become ready and available.
 * - Deployments: the ReplicaSet whose template equals the Deployment's (ignoring
 *   `pod-template-hash`) is the new one. It is created with the next
 *   `deployment.kubernetes.io/revision`, or, when an old one matches (a rollback), reused with
 *   its revision bumped and the old number kept in `revision-history`. RollingUpdate scales the
 *   new ReplicaSet up within maxSurge and the old ones down within maxUnavailable, one action per
 *   sync; Recreate scales the old ones to zero first. A changed `spec.replicas` is a scaling
 *   event (the `desired-replicas` annotation differs). Status, the `Available` and `Progressing`
 *   conditions (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated,
 *   NewReplicaSetAvailable, ProgressDeadlineExceeded, DeploymentPaused/Resumed) and the cleanup
 *   of old ReplicaSets beyond `revisionHistoryLimit` follow the real controller.
 */
import { served } from '../catalog.js'
import { equalIgnoringHash, hashless, POD_TEMPLATE_HASH, REVISION_ANNOTATION, sameJson } from '../json.js'
import type { SimStore, StoredObject } from '../store.js'
import { condition, newReplicaSetReplicas, scaleDownOld, setCondition, strategyOf, withoutZeros, type Condition, type ReplicaCounts, type RolloutStrategy } from './rollout.js'
import { matchLabels, ownedBy, ownerReference, pruneHistory, specOf, templateHash, templateOf } from './shared.js'

const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history'
const DESIRED = 'deployment.kubernetes.io/desired-replicas'
const MAX = 'deployment.kubernetes.io/max-replicas'
/** Deployment annotations the controller does not copy onto ReplicaSets. */
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION_ANNOTATION, REVISION_HISTORY, DESIRED, MAX, 'deprecated.deployment.rollback.to'])

const revisionOf = (rs: StoredObject): number => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0)
const replicasOf = (o: StoredObject): number => (specOf(o).replicas as number | undefined) ?? 1

function counts (rs: StoredObject): ReplicaCounts {
  const status = (rs.status ?? {}) as { replicas?: number, readyReplicas?: number, availableReplicas?: number }
  return { spec: replicasOf(rs), replicas: status.replicas ?? 0, ready: status.readyReplicas ?? 0, available: status.availableReplicas ?? 0 }
}

/**
 * The ReplicaSet controller and the kubelet in one: pods follow spec.replicas, a sync later they
 * are available, unless `broken` says their image never starts (a release that crash-loops).
 */
export function syncReplicaSet (store: SimStore, rs: StoredObject, broken: (image: string) => boolean = () => false): void {
  const want = replicasOf(rs)
  const existing = counts(rs).replicas
  const failing = (templateOf(rs).spec?.containers ?? []).some((c) => broken(c.image ?? ''))
  const ready = failing ? 0 : Math.min(existing, want)
  const status = { replicas: want, ...withoutZeros({ fullyLabeledReplicas: want, readyReplicas: ready, availableReplicas: ready }), observedGeneration: rs.metadata.generation }
  if (!sameJson(rs.status, status)) store.write(served.ReplicaSet, { ...rs, status })
}

interface Sync {
  readonly store: SimStore
  deployment: StoredObject
  readonly desired: number
  readonly strategy: RolloutStrategy
  readonly at: string
  conditions: Condition[]
}

export function syncDeployment (store: SimStore, deployment: StoredObject, now: number): void {
  const spec = specOf(deployment)
  const desired = replicasOf(deployment)
  const sync: Sync = { store, deployment, desired, strategy: strategyOf(spec, desired), at: store.timestamp(), conditions: [...(((deployment.status ?? {}) as { conditions?: Condition[] }).conditions ?? [])] }
  const paused = spec.paused === true
  const progressing = sync.conditions.find((c) => c.type === 'Progressing')
  if (paused && progressing?.reason !== 'DeploymentPaused') sync.conditions = setCondition(sync.conditions, condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', sync.at))
  else if (!paused && progressing?.reason === 'DeploymentPaused') sync.conditions = setCondition(sync.conditions, condition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', sync.at))

  if (paused || isScalingEvent(sync)) {
    const next = newReplicaSet(sync, false)
    scale(sync, next)
    if (paused) cleanup(sync, next)
    return writeStatus(sync, next, false, now)
  }
  if (sync.strategy.recreate) return rolloutRecreate(sync, now)
  const next = newReplicaSet(sync, true) as StoredObject
  const target = newReplicaSetReplicas(desired, sync.strategy, counts(next), owned(sync).map(counts))
  if (target !== replicasOf(next)) {
    resize(sync, next, target)
    return writeStatus(sync, next, true, now)
  }
  if (scaleDownOldSets(sync, next)) return writeStatus(sync, next, true, now)
  if (complete(sync.deployment, sync.deployment.status)) cleanup(sync, next)
  writeStatus(sync, next, true, now)
}

function owned (sync: Sync): StoredObject[] {
  return sync.store.list(served.ReplicaSet, sync.deployment.metadata.namespace, (rs) => ownedBy(rs, sync.deployment))
}

function oldSets (sync: Sync, next: StoredObject | undefined): StoredObject[] {
  return owned(sync).filter((rs) => rs.metadata.name !== next?.metadata.name).sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || revisionOf(a) - revisionOf(b))
}

function isScalingEvent (sync: Sync): boolean {
  return owned(sync).some((rs) => replicasOf(rs) > 0 && rs.metadata.annotations?.[DESIRED] !== undefined && Number(rs.metadata.annotations[DESIRED]) !== sync.desired)
}

function replicaAnnotations (sync: Sync): Record<string, string> {
  return { [DESIRED]: String(sync.desired), [MAX]: String(sync.desired + sync.strategy.maxSurge) }
}

/** getAllReplicaSetsAndSyncRevision: finds (or, with `create`, makes) the new ReplicaSet and syncs revisions. */
function newReplicaSet (sync: Sync, create: boolean): StoredObject | undefined {
  const { store, deployment } = sync
  const sets = owned(sync)
  const template = templateOf(deployment)
  const copied = Object.fromEntries(Object.entries(deployment.metadata.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)))
  let next = sets.find((rs) => equalIgnoringHash(templateOf(rs), template))
  // The new revision is one more than the highest of the other ReplicaSets (SetNewReplicaSetAnnotations).
  const newRevision = sets.filter((rs) => rs !== next).reduce((max, rs) => Math.max(max, revisionOf(rs)), 0) + 1
  if (next !== undefined) {
    const annotations = { ...next.metadata.annotations, ...copied }
    if (revisionOf(next) < newRevision) {
      // Reusing an old ReplicaSet: it becomes the newest revision, as on a rollback.
      const previous = next.metadata.annotations?.[REVISION_ANNOTATION]
      if (previous !== undefined && previous !== '') annotations[REVISION_HISTORY] = [next.metadata.annotations?.[REVISION_HISTORY], previous].filter((v) => v !== undefined && v !== '').join(',')
      annotations[REVISION_ANNOTATION] = String(newRevision)
    }
    if (!sameJson(annotations, next.metadata.annotations)) next = store.write(served.ReplicaSet, { ...next, metadata: { ...next.metadata, annotations } })
    if (!sync.conditions.some((c) => c.type === 'Progressing')) sync.conditions = setCondition(sync.conditions, condition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${next.metadata.name}"`, sync.at))
  } else if (create) {
    const hash = templateHash(hashless(template))
    const hashed = hashless(template)
    hashed.metadata = { ...hashed.metadata, labels: { ...hashed.metadata?.labels, [POD_TEMPLATE_HASH]: hash } }
    const replicas = sync.strategy.recreate ? sync.desired : newReplicaSetReplicas(sync.desired, sync.strategy, { spec: 0, replicas: 0, ready: 0, available: 0 }, sets.map(counts))
    next = store.write(served.ReplicaSet, {
      metadata: {
        name: `${deployment.metadata.name}-${hash}`,
        namespace: deployment.metadata.namespace,
        labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash },
        annotations: { ...copied, ...replicaAnnotations(sync), [REVISION_ANNOTATION]: String(newRevision) },
        ownerReferences: [ownerReference(deployment)],
      },
      spec: { replicas, selector: { matchLabels: { ...matchLabels(deployment), [POD_TEMPLATE_HASH]: hash } }, template: hashed },
      status: { replicas: 0 },
    })
    sync.conditions = setCondition(sync.conditions, condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${next.metadata.name}"`, sync.at))
  }
  const revision = next?.metadata.annotations?.[REVISION_ANNOTATION]
  if (revision !== undefined && deployment.metadata.annotations?.[REVISION_ANNOTATION] !== revision) {
    sync.deployment = store.write(served.Deployment, { ...deployment, metadata: { ...deployment.metadata, annotations: { ...deployment.metadata.annotations, [REVISION_ANNOTATION]: revision } } })
  }
  return next
}

function resize (sync: Sync, rs: StoredObject, replicas: number): void {
  sync.store.write(served.ReplicaSet, { ...rs, metadata: { ...rs.metadata, annotations: { ...rs.metadata.annotations, ...replicaAnnotations(sync) } }, spec: { ...specOf(rs), replicas } })
}

/** dc.sync's scale: the active (or newest) ReplicaSet takes the desired count, the others keep theirs. */
function scale (sync: Sync, next: StoredObject | undefined): void {
  const active = owned(sync).filter((rs) => replicasOf(rs) > 0)
  const target = next ?? (active.length === 1 ? active[0] : undefined)
  if (target === undefined) {
    for (const rs of active) resize(sync, rs, replicasOf(rs))
    return
  }
  const others = active.filter((rs) => rs.metadata.name !== target.metadata.name).reduce((n, rs) => n + replicasOf(rs), 0)
  resize(sync, target, Math.max(0, sync.desired - others))
  for (const rs of active.filter((r) => r.metadata.name !== target.metadata.name)) resize(sync, rs, replicasOf(rs))
}

function scaleDownOldSets (sync: Sync, next: StoredObject): boolean {
  const old = oldSets(sync, next)
  const targets = scaleDownOld(sync.desired, sync.strategy, counts(next), old.map(counts))
  let changed = false
  old.forEach((rs, i) => {
    if (targets[i] !== replicasOf(rs)) {
      resize(sync, rs, targets[i] ?? 0)
      changed = true
    }
  })
  return changed
}

function rolloutRecreate (sync: Sync, now: number): void {
  const existing = newReplicaSet(sync, false)
  const old = oldSets(sync, existing)
  const active = old.filter((rs) => replicasOf(rs) > 0)
  if (active.length > 0) {
    for (const rs of active) resize(sync, rs, 0)
    return writeStatus(sync, existing, true, now)
  }
  if (old.some((rs) => counts(rs).replicas > 0)) return writeStatus(sync, existing, true, now)
  const next = existing ?? newReplicaSet(sync, true) as StoredObject
  if (replicasOf(next) !== sync.desired) resize(sync, next, sync.desired)
  if (complete(sync.deployment, sync.deployment.status)) cleanup(sync, next)
  writeStatus(sync, next, true, now)
}

function cleanup (sync: Sync, next: StoredObject | undefined): void {
  pruneHistory(sync.store, served.ReplicaSet, sync.deployment, next?.metadata.name ?? '', revisionOf, (rs) => replicasOf(rs) === 0 && counts(rs).replicas === 0)
}

function complete (deployment: StoredObject, status: unknown): boolean {
  const s = (status ?? {}) as { updatedReplicas?: number, replicas?: number, availableReplicas?: number, observedGeneration?: number }
  const want = replicasOf(deployment)
  return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want && (s.observedGeneration ?? 0) >= deployment.metadata.generation
}

/** calculateStatus, then syncRolloutStatus's Progressing condition when `rollout`. */
function writeStatus (sync: Sync, next: StoredObject | undefined, rollout: boolean, now: number): void {
  const fresh = sync.store.get(served.Deployment, sync.deployment.metadata.namespace, sync.deployment.metadata.name)
  if (fresh === undefined) return
  const sets = owned(sync).map(counts)
  const nextCounts = next === undefined ? undefined : sync.store.get(served.ReplicaSet, next.metadata.namespace, next.metadata.name)
  const old = (fresh.status ?? {}) as { replicas?: number, updatedReplicas?: number, readyReplicas?: number, availableReplicas?: number, collisionCount?: number }
  const available = sets.reduce((n, rs) => n + rs.available, 0)
  const status = {
    observedGeneration: fresh.metadata.generation,
    replicas: sets.reduce((n, rs) => n + rs.replicas, 0),
    updatedReplicas: nextCounts === undefined ? 0 : counts(nextCounts).replicas,
    readyReplicas: sets.reduce((n, rs) => n + rs.ready, 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sets.reduce((n, rs) => n + rs.spec, 0) - available),
    collisionCount: old.collisionCount,
  }
  let conditions = sync.conditions
  conditions = available >= sync.desired - sync.strategy.maxUnavailable
    ? setCondition(conditions, condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', sync.at))
    : setCondition(conditions, condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', sync.at))
  const deadline = specOf(fresh).progressDeadlineSeconds as number | undefined
  const current = conditions.find((c) => c.type === 'Progressing')
  const isComplete = status.replicas === status.updatedReplicas && current?.reason === 'NewReplicaSetAvailable'
  if (rollout && deadline !== 2147483647 && !isComplete) {
    const name = next === undefined ? `Deployment "${fresh.metadata.name}"` : `ReplicaSet "${next.metadata.name}"`
    const oldPending = (old.replicas ?? 0) - (old.updatedReplicas ?? 0)
    if (complete(fresh, status)) {
      conditions = setCondition(conditions, condition('Progressing', 'True', 'NewReplicaSetAvailable', `${name} has successfully progressed.`, sync.at))
    } else if (status.updatedReplicas > (old.updatedReplicas ?? 0) || status.replicas - status.updatedReplicas < oldPending || status.readyReplicas > (old.readyReplicas ?? 0) || available > (old.availableReplicas ?? 0)) {
      const moved = condition('Progressing', 'True', 'ReplicaSetUpdated', `${name} is progressing.`, sync.at)
      if (current?.status === 'True') moved.lastTransitionTime = current.lastTransitionTime
      conditions = [...conditions.filter((c) => c.type !== 'Progressing'), moved]
    } else if (current !== undefined && current.reason !== 'ProgressDeadlineExceeded' && Date.parse(current.lastUpdateTime) + (deadline ?? 600) * 1000 < now) {
      conditions = setCondition(conditions, condition('Progressing', 'False', 'ProgressDeadlineExceeded', `${name} has timed out progressing.`, sync.at))
    }
  }
  const next_ = { ...withoutZeros(status), conditions }
  if (!sameJson(fresh.status, next_)) sync.store.write(served.Deployment, { ...fresh, status: next_ })
}
