/**
 * kube-controller-manager, as far as the simulator needs it: the Deployment and ReplicaSet
 * controllers (deployment.ts), the StatefulSet and DaemonSet revision history (history.ts) and
 * the garbage collector. A step is one sync of every ReplicaSet and then of every Deployment.
 *
 * Rollouts are `instant` by default: after each write the controllers step until nothing
 * changes, so a caller sees the settled state at once (and watchers see every intermediate
 * state). Like the real controllers, which work from a queue of the objects that changed, a
 * write settles only what it concerns — the Deployment written (or owning the ReplicaSet
 * written) and its ReplicaSets — so a cluster of many workloads costs no more per write than one. With `stepped`, the Deployment controller runs only when the test calls step(): a
 * rollout then moves one sync at a time, the way `kubectl rollout status` sees a real one move,
 * with no clock and no sleeps. StatefulSets and DaemonSets always settle at once.
 */
import { served, type ServedResource } from '../catalog.js'
import type { SimClock, SimStore } from '../store.js'
import { syncDeployment, syncReplicaSet } from './deployment.js'
import { ownedBy } from './shared.js'
import { reconcileHistory } from './history.js'

export type RolloutMode = 'instant' | 'stepped'

/** A bug guard: a settle that has not converged after this many steps is a controller bug. */
const MAX_STEPS = 200

export class Controllers {
  /** Images whose pods never become ready: a release that crash-loops, so its rollout stalls. */
  readonly brokenImages = new Set<string>()

  constructor (private readonly store: SimStore, private readonly clock: SimClock, public mode: RolloutMode = 'instant') {}

  /** What follows a client's write of `type` (the object itself is stored already). */
  afterWrite (type: ServedResource, namespace: string, name: string): void {
    if (type === served.StatefulSet || type === served.DaemonSet) {
      const object = this.store.get(type, namespace, name)
      if (object !== undefined) reconcileHistory(this.store, type, object)
    }
    if (this.mode !== 'instant') return
    const deployment = this.deploymentOf(type, namespace, name)
    if (deployment !== undefined) this.settle({ namespace, name: deployment })
    else if (type === served.ReplicaSet) this.settleReplicaSet(namespace, name)
  }

  /** The Deployment a write concerns: the one written, or the controller owning the ReplicaSet written. */
  private deploymentOf (type: ServedResource, namespace: string, name: string): string | undefined {
    if (type === served.Deployment) return name
    if (type !== served.ReplicaSet) return undefined
    const owner = this.store.get(type, namespace, name)?.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === 'Deployment')
    return owner?.name
  }

  private settleReplicaSet (namespace: string, name: string): void {
    const rs = this.store.get(served.ReplicaSet, namespace, name)
    if (rs !== undefined) syncReplicaSet(this.store, rs, (image) => this.brokenImages.has(image))
  }

  /**
   * One sync of every ReplicaSet, then of every Deployment (or, with `only`, of one Deployment
   * in `namespace` and the ReplicaSets it owns); true when something changed.
   */
  step (only?: { namespace: string, name: string }): boolean {
    const before = this.store.listVersion()
    const deployments = only === undefined
      ? this.store.list(served.Deployment)
      : [this.store.get(served.Deployment, only.namespace, only.name)].filter((d) => d !== undefined)
    const sets = only === undefined
      ? this.store.list(served.ReplicaSet)
      : this.store.list(served.ReplicaSet, only.namespace, (rs) => deployments.some((d) => ownedBy(rs, d)))
    for (const rs of sets) syncReplicaSet(this.store, rs, (image) => this.brokenImages.has(image))
    for (const d of deployments) {
      const fresh = this.store.get(served.Deployment, d.metadata.namespace, d.metadata.name)
      if (fresh !== undefined) syncDeployment(this.store, fresh, this.clock.now())
    }
    return this.store.listVersion() !== before
  }

  /** Steps until nothing changes (everything, or one Deployment); returns the number of steps that changed something. */
  settle (only?: { namespace: string, name: string }): number {
    let steps = 0
    while (this.step(only)) {
      if (++steps > MAX_STEPS) throw new Error('the simulated controllers did not settle')
    }
    return steps
  }

  /**
   * The garbage collector, run when an object is deleted: its dependents (objects listing it in
   * ownerReferences) are deleted too, or with `orphan` lose the reference.
   */
  collect (owner: { uid: string }, orphan: boolean): void {
    for (const type of [served.ReplicaSet, served.ControllerRevision]) {
      for (const o of this.store.list(type)) {
        const refs = o.metadata.ownerReferences ?? []
        if (!refs.some((r) => r.uid === owner.uid)) continue
        const rest = refs.filter((r) => r.uid !== owner.uid)
        if (orphan || rest.length > 0) {
          const { ownerReferences: _dropped, ...metadata } = o.metadata
          this.store.write(type, { ...o, metadata: rest.length > 0 ? { ...metadata, ownerReferences: rest } : metadata })
        } else {
          const gone = this.store.delete(type, o.metadata.namespace, o.metadata.name)
          if (gone !== undefined) this.collect(gone.metadata, false)
        }
      }
    }
  }
}
