/**
 * The arithmetic and bookkeeping of kube-controller-manager's Deployment controller, as pure
 * functions the simulator's own controller uses: surge and unavailability from the strategy
 * (`ResolveFenceposts`), the replica counts the rolling update may move to, the status computed
 * from the ReplicaSets, and conditions set the way `SetDeploymentCondition` sets them (times kept
 * when nothing changes, a changed condition moved to the end of the list).
 */
import type { Obj } from '../patch.js'

export interface Condition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  lastUpdateTime: string
  lastTransitionTime: string
  reason: string
  message: string
}

export interface RolloutStrategy {
  readonly recreate: boolean
  readonly maxSurge: number
  readonly maxUnavailable: number
}

/** Pure: an int-or-percent scaled against `total` (percentages round up or down). */
export function scaled (value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value
  const m = typeof value === 'string' ? /^(\d+)%$/.exec(value) : null
  if (m === null) return roundUp ? Math.ceil(total * 0.25) : Math.floor(total * 0.25)
  const exact = (Number(m[1]) * total) / 100
  return roundUp ? Math.ceil(exact) : Math.floor(exact)
}

/** Pure: the strategy of a Deployment spec, with maxSurge/maxUnavailable resolved for `replicas`. */
export function strategyOf (spec: Obj, replicas: number): RolloutStrategy {
  const strategy = (spec.strategy ?? {}) as { type?: string, rollingUpdate?: { maxSurge?: unknown, maxUnavailable?: unknown } }
  if (strategy.type === 'Recreate') return { recreate: true, maxSurge: 0, maxUnavailable: 0 }
  const surge = scaled(strategy.rollingUpdate?.maxSurge ?? '25%', replicas, true)
  let unavailable = scaled(strategy.rollingUpdate?.maxUnavailable ?? '25%', replicas, false)
  if (surge === 0 && unavailable === 0) unavailable = 1
  return { recreate: false, maxSurge: surge, maxUnavailable: Math.min(unavailable, replicas) }
}

export interface ReplicaCounts {
  /** spec.replicas */
  readonly spec: number
  /** status.replicas (pods that exist) */
  readonly replicas: number
  readonly ready: number
  readonly available: number
}

/** Pure: the replicas the new ReplicaSet may have now (NewRSNewReplicas for RollingUpdate). */
export function newReplicaSetReplicas (desired: number, strategy: RolloutStrategy, next: ReplicaCounts, all: readonly ReplicaCounts[]): number {
  if (next.spec >= desired) return desired
  const current = all.reduce((n, rs) => n + rs.spec, 0)
  const maxTotal = desired + strategy.maxSurge
  if (current >= maxTotal) return next.spec
  return next.spec + Math.min(maxTotal - current, desired - next.spec)
}

/**
 * Pure: how far each old ReplicaSet may be scaled down now (reconcileOldReplicaSets: unhealthy
 * replicas first, then down to the minimum availability), oldest first. Returns new spec counts.
 */
export function scaleDownOld (desired: number, strategy: RolloutStrategy, next: ReplicaCounts, old: readonly ReplicaCounts[]): number[] {
  const result = old.map((rs) => rs.spec)
  if (result.every((n) => n === 0)) return result
  const allSpec = next.spec + result.reduce((n, x) => n + x, 0)
  const minAvailable = desired - strategy.maxUnavailable
  const newUnavailable = next.spec - next.available
  let budget = allSpec - minAvailable - newUnavailable
  if (budget <= 0) return result
  old.forEach((rs, i) => {
    const unhealthy = Math.max(0, (result[i] ?? 0) - rs.available)
    const cut = Math.min(budget, unhealthy)
    result[i] = (result[i] ?? 0) - cut
    budget -= cut
  })
  const available = next.available + old.reduce((n, rs) => n + rs.available, 0)
  let surplus = available - minAvailable
  old.forEach((_rs, i) => {
    if (surplus <= 0) return
    const cut = Math.min(result[i] ?? 0, surplus)
    result[i] = (result[i] ?? 0) - cut
    surplus -= cut
  })
  return result
}

/** Pure: SetDeploymentCondition: same status and reason → unchanged; same status → keep the transition time. */
export function setCondition (conditions: Condition[], next: Condition): Condition[] {
  const current = conditions.find((c) => c.type === next.type)
  if (current !== undefined && current.status === next.status && current.reason === next.reason) return conditions
  const condition = current !== undefined && current.status === next.status ? { ...next, lastTransitionTime: current.lastTransitionTime } : next
  return [...conditions.filter((c) => c.type !== next.type), condition]
}

export function condition (type: string, status: Condition['status'], reason: string, message: string, at: string): Condition {
  return { type, status, lastUpdateTime: at, lastTransitionTime: at, reason, message }
}

/** Pure: the API server leaves zero counts out of a Deployment's status (omitempty). */
export function withoutZeros (status: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(status).filter(([, v]) => v !== 0 && v !== undefined))
}
