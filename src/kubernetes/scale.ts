/**
 * Scaling through the `/scale` subresource (autoscaling/v1 Scale), as `kubectl scale` does with
 * a merge patch of `spec.replicas`. When a HorizontalPodAutoscaler (autoscaling/v2) targets the
 * workload, a direct scale would be undone by the HPA within its sync period, so we raise the
 * HPA's `minReplicas` instead. The absolute number is computed when the run is planned; every
 * attempt sends the same number.
 */
import type { Outcome } from '../domain/outcome.js'
import type { Target } from '../domain/target.js'
import type { KubernetesClient } from './client.js'
import { isKubernetesApiError, toActionError, withConflictRetry } from './errors.js'
import { resources, workloadResource, type HorizontalPodAutoscaler, type Scale, type Workload } from './resources.js'
import { describeTarget, notFound, preflight, readWorkload, type GitOpsSetting } from './workload.js'

export interface ScaleRequest {
  to?: number | undefined
  by?: number | undefined
  factor?: number | undefined
  max: number
  min: number
}

export type ScalePlan =
  | { readonly skip: string }
  | { readonly via: 'scale', readonly from: number, readonly to: number, readonly bound: string | null }
  | { readonly via: 'hpa', readonly hpa: string, readonly from: number, readonly to: number, readonly bound: string | null }

/** Pure: the bounded replica count for a request, and which bound (if any) applied. */
export function targetReplicas (current: number, request: ScaleRequest, ceiling?: { value: number, name: string }): { to: number, bound: string | null } {
  let wanted: number
  if (request.to !== undefined) wanted = request.to
  else if (request.by !== undefined) wanted = current + request.by
  else wanted = Math.ceil(current * (request.factor ?? 1))
  let to = wanted
  let bound: string | null = null
  if (to > request.max) { to = request.max; bound = `max ${request.max}` }
  if (ceiling !== undefined && to > ceiling.value) { to = ceiling.value; bound = `${ceiling.name} ${ceiling.value}` }
  if (to < request.min) { to = request.min; bound = `min ${request.min}` }
  return { to, bound }
}

/** The HPA whose scaleTargetRef names the workload, if any. */
async function findHpa (kube: KubernetesClient, target: Target, signal?: AbortSignal): Promise<HorizontalPodAutoscaler | undefined> {
  const hpas = await kube.list<HorizontalPodAutoscaler>(resources.HorizontalPodAutoscaler, target.namespace, signal === undefined ? {} : { signal })
  return hpas.find((h) => h.spec.scaleTargetRef.kind === target.kind && h.spec.scaleTargetRef.name === target.name &&
    (h.spec.scaleTargetRef.apiVersion === undefined || h.spec.scaleTargetRef.apiVersion.startsWith('apps/')))
}

export async function planScale (kube: KubernetesClient, target: Target, request: ScaleRequest, signal?: AbortSignal): Promise<ScalePlan> {
  if (target.kind === 'DaemonSet') return { skip: `${describeTarget(target)} cannot be scaled: a DaemonSet runs one pod per node` }
  const opts = signal === undefined ? {} : { signal }
  try {
    const hpa = await findHpa(kube, target, signal)
    if (hpa !== undefined) {
      const from = hpa.spec.minReplicas ?? 1
      const { to, bound } = targetReplicas(from, request, { value: hpa.spec.maxReplicas, name: 'HPA maxReplicas' })
      return { via: 'hpa', hpa: hpa.metadata.name, from, to, bound }
    }
    const scale = await kube.get<Scale>(workloadResource(target.kind), target.namespace, target.name, { subresource: 'scale', ...opts })
    const from = scale.spec.replicas ?? 0
    const { to, bound } = targetReplicas(from, request)
    return { via: 'scale', from, to, bound }
  } catch (err) {
    if (isKubernetesApiError(err, 404)) return { skip: notFound(target).reason }
    throw toActionError(err)
  }
}

export interface ScaleOptions {
  dryRun: boolean
  gitops: GitOpsSetting
  /** The run's attempt: a later attempt finding the count in place succeeded earlier. */
  attempt: number
  signal?: AbortSignal
}

/**
 * The live count the plan changes — the workload's replicas, or the HPA's minReplicas — and the
 * resourceVersion of the object that holds it, which the write carries as its precondition
 * (undefined: the HPA is gone).
 */
async function currentCount (kube: KubernetesClient, target: Target, plan: Exclude<ScalePlan, { skip: string }>, workload: Workload, signal?: AbortSignal): Promise<{ count: number, resourceVersion: string | undefined } | undefined> {
  if (plan.via !== 'hpa') return { count: workload.spec.replicas ?? 1, resourceVersion: workload.metadata.resourceVersion }
  try {
    const hpa = await findHpa(kube, target, signal)
    return hpa === undefined || hpa.metadata.name !== plan.hpa ? undefined : { count: hpa.spec.minReplicas ?? 1, resourceVersion: hpa.metadata.resourceVersion }
  } catch (err) {
    throw toActionError(err)
  }
}

export async function scaleWorkload (kube: KubernetesClient, target: Target, plan: ScalePlan, options: ScaleOptions): Promise<Outcome> {
  if ('skip' in plan) return { status: 'skipped', reason: plan.skip }
  const what = describeTarget(target)
  const bound = plan.bound === null ? '' : ` (bounded by ${plan.bound})`
  const details = { target, ...plan, dryRun: options.dryRun }
  if (plan.to === plan.from) {
    const subject = plan.via === 'hpa' ? `HorizontalPodAutoscaler ${target.namespace}/${plan.hpa} (targeting ${what}) already has minReplicas ${plan.to}` : `${what} already has ${plan.to} replicas`
    return { status: 'skipped', reason: `${subject}${bound}`, details }
  }
  const signal = options.signal === undefined ? {} : { signal: options.signal }
  return withConflictRetry(async () => {
    const read = await readWorkload(kube, target, options.signal)
    if (!read.found) return read.outcome
    const skip = preflight(target, read.workload, { gitops: options.gitops, refusePaused: false, verb: 'scale' })
    if (skip !== undefined) return { status: 'skipped', reason: skip }
    const live = await currentCount(kube, target, plan, read.workload, options.signal)
    if (live === undefined) return { status: 'skipped', reason: `HorizontalPodAutoscaler ${target.namespace}/${plan.via === 'hpa' ? plan.hpa : ''} not found` }
    const current = live.count
    if (current === plan.to) {
      // A later attempt finding the count in place: an earlier attempt got through before the run
      // was interrupted. On the first attempt someone else did it: nothing to do.
      if (options.attempt > 1) return { status: 'succeeded', summary: `${plan.via === 'hpa' ? `HorizontalPodAutoscaler ${target.namespace}/${plan.hpa} minReplicas is` : `${what} has`} ${plan.to}${bound}; scaled by an earlier attempt`, details: { ...details, alreadyApplied: true } }
      return { status: 'skipped', reason: `${plan.via === 'hpa' ? `HorizontalPodAutoscaler ${target.namespace}/${plan.hpa} already has minReplicas` : `${what} already has`} ${plan.to}${plan.via === 'hpa' ? '' : ' replicas'}`, details }
    }
    // SPEC 7: the plan holds only while the count it was computed from is live.
    if (current !== plan.from) {
      return { status: 'skipped', reason: `target changed since plan: ${plan.via === 'hpa' ? `HorizontalPodAutoscaler ${target.namespace}/${plan.hpa} has minReplicas` : `${what} has`} ${current}, the change was planned from ${plan.from}`, details: { ...details, current } }
    }
    try {
      if (plan.via === 'hpa') {
        // The HPA as read (its target's annotation checked by preflight just before): a change to it
        // in between is a 409, and withConflictRetry reads and decides again.
        await kube.patch(resources.HorizontalPodAutoscaler, target.namespace, plan.hpa, { metadata: { resourceVersion: live.resourceVersion }, spec: { minReplicas: plan.to } }, { type: 'merge', dryRun: options.dryRun, ...signal })
      } else {
        // A Scale carries its workload's resourceVersion: the one read (and checked by preflight) is the precondition.
        await kube.patch(workloadResource(target.kind), target.namespace, target.name, { metadata: { resourceVersion: read.workload.metadata.resourceVersion }, spec: { replicas: plan.to } }, { type: 'merge', subresource: 'scale', dryRun: options.dryRun, ...signal })
      }
    } catch (err) {
      if (isKubernetesApiError(err, 404)) {
        return { status: 'skipped', reason: plan.via === 'hpa' ? `HorizontalPodAutoscaler ${target.namespace}/${plan.hpa} not found` : notFound(target).reason }
      }
      throw toActionError(err)
    }
    const change = plan.via === 'hpa'
      ? `HorizontalPodAutoscaler ${target.namespace}/${plan.hpa} minReplicas from ${plan.from} to ${plan.to}${bound}, since it scales ${what}`
      : `${what} from ${plan.from} to ${plan.to} replicas${bound}`
    const verb = plan.via === 'hpa' ? 'raise' : 'scale'
    return { status: 'succeeded', summary: options.dryRun ? `Dry run: would ${verb} ${change}` : `${plan.via === 'hpa' ? 'Raised' : 'Scaled'} ${change}`, details }
  }, signal)
}
