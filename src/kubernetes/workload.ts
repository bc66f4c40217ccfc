/**
 * What every Kubernetes mechanic does first: read the target workload and decide whether it may
 * be changed at all. Returns values, not exceptions: a missing or GitOps-managed workload is a
 * skip with a reason the user reads in Dynatrace.
 */
import type { Outcome } from '../domain/outcome.js'
import { describeTarget, type Target } from '../domain/target.js'
import { isKubernetesApiError, toActionError } from './errors.js'
import type { KubernetesClient } from './client.js'
import { detectGitOps, gitOpsSkipReason } from './gitops.js'
import { workloadResource, type Workload } from './resources.js'

export type GitOpsSetting = 'skip' | 'allow'

export { describeTarget }

export type WorkloadRead =
  | { readonly found: true, readonly workload: Workload }
  | { readonly found: false, readonly outcome: Outcome & { status: 'skipped' } }

/** Reads the target; a 404 becomes a skip naming the workload, a 403 a terminal error. */
export async function readWorkload (kube: KubernetesClient, target: Target, signal?: AbortSignal): Promise<WorkloadRead> {
  try {
    const workload = await kube.get<Workload>(workloadResource(target.kind), target.namespace, target.name, signal === undefined ? {} : { signal })
    return { found: true, workload }
  } catch (err) {
    if (isKubernetesApiError(err, 404)) return { found: false, outcome: notFound(target) }
    throw toActionError(err)
  }
}

export function notFound (target: Target): Outcome & { status: 'skipped' } {
  return { status: 'skipped', reason: `${describeTarget(target)} not found`, details: { target } }
}

/** The opt-out annotation (SPEC 9 scope): a workload carrying it with "true" is never changed. */
export const SKIP_ANNOTATION = 'dt-remediator.io/skip'

/**
 * Pure: the reason not to touch this workload, if any. The opt-out annotation is checked here, on
 * the object read in the same step as the change (the runner's scope gate read it earlier, and it
 * may have been added since, or that read may have failed). `paused` applies to rollback and restart
 * (kubectl refuses both on a paused Deployment: the change would sit unrolled until resumed).
 */
export function preflight (target: Target, workload: Workload, options: { gitops: GitOpsSetting, refusePaused: boolean, verb: string }): string | undefined {
  if (workload.metadata.annotations?.[SKIP_ANNOTATION] === 'true') {
    return `skipped by scope: ${describeTarget(target)} is annotated ${SKIP_ANNOTATION}: "true"`
  }
  if (options.gitops === 'skip') {
    const gitops = detectGitOps(workload.metadata)
    if (gitops !== undefined) return gitOpsSkipReason(describeTarget(target), gitops)
  }
  if (options.refusePaused && workload.spec.paused === true) {
    return `${describeTarget(target)} is paused; cannot ${options.verb} a paused ${target.kind} (resume it first: kubectl rollout resume)`
  }
  return undefined
}

/** Pure: whether an owner reference list names `uid` as the controller. */
export function controlledBy (ownerReferences: ReadonlyArray<{ uid: string, controller?: boolean }> | undefined, uid: string | undefined): boolean {
  return uid !== undefined && (ownerReferences ?? []).some((ref) => ref.uid === uid && ref.controller === true)
}
