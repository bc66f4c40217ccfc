/**
 * `kubectl rollout restart` at API level: a strategic-merge patch setting the pod template
 * annotation `kubectl.kubernetes.io/restartedAt`. The template changes, so the workload's
 * controller rolls every pod. The value is fixed when the run is planned; a retried attempt sends
 * the byte-identical patch, which the API server treats as a no-op — one restart, never two.
 */
import type { Outcome } from '../domain/outcome.js'
import type { Target } from '../domain/target.js'
import type { KubernetesClient } from './client.js'
import { isKubernetesApiError, toActionError, withConflictRetry } from './errors.js'
import { workloadResource } from './resources.js'
import { RESTARTED_AT_ANNOTATION, rfc3339 } from './template.js'
import { describeTarget, notFound, preflight, readWorkload, type GitOpsSetting } from './workload.js'

export interface RestartPlan {
  /** RFC 3339, from the time the run was planned. */
  readonly restartedAt: string
}

/** Pure: the restart plan for a run planned at `plannedAt` (ms epoch). */
export function planRestart (plannedAt: number): RestartPlan {
  return { restartedAt: rfc3339(plannedAt) }
}

/** Pure: the patch body a restart sends. */
function restartPatch (plan: RestartPlan): Record<string, unknown> {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: plan.restartedAt } } } } }
}

export interface ApplyOptions {
  dryRun: boolean
  gitops: GitOpsSetting
  signal?: AbortSignal
}

export async function restartWorkload (kube: KubernetesClient, target: Target, plan: RestartPlan, options: ApplyOptions): Promise<Outcome> {
  const signal = options.signal === undefined ? {} : { signal: options.signal }
  return withConflictRetry(async () => {
    const read = await readWorkload(kube, target, options.signal)
    if (!read.found) return read.outcome
    const skip = preflight(target, read.workload, { gitops: options.gitops, refusePaused: target.kind === 'Deployment', verb: 'restart' })
    if (skip !== undefined) return { status: 'skipped', reason: skip }
    const previous = read.workload.spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]
    try {
      // The resourceVersion read above is the precondition: a workload changed since (say, just
      // annotated dt-remediator.io/skip) is a 409, and the next round reads and checks it again.
      const precondition = { metadata: { resourceVersion: read.workload.metadata.resourceVersion } }
      await kube.patch(workloadResource(target.kind), target.namespace, target.name, { ...precondition, ...restartPatch(plan) }, { type: 'strategic', dryRun: options.dryRun, ...signal })
    } catch (err) {
      if (isKubernetesApiError(err, 404)) return notFound(target)
      throw toActionError(err)
    }
    const details = { target, annotation: RESTARTED_AT_ANNOTATION, restartedAt: plan.restartedAt, previousRestartedAt: previous ?? null, dryRun: options.dryRun }
    const what = `${describeTarget(target)} (${RESTARTED_AT_ANNOTATION}=${plan.restartedAt})`
    return { status: 'succeeded', summary: options.dryRun ? `Dry run: would restart ${what}` : `Restarted ${what}`, details }
  }, signal)
}
