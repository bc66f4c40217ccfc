/**
 * kubernetes.rollback: `kubectl rollout undo` for the target workload. The revision to return to
 * is fixed when the run is planned (previous, `toRevision`, or the one live before the matched
 * deployment event); every attempt restores that same revision. See README.md.
 */
import { z } from 'zod'
import type { KubernetesClient } from '../../src/kubernetes/client.js'
import { planRollback, rollbackWorkload } from '../../src/kubernetes/rollback.js'
import { defineAction, skip, WORKLOAD_ENTITY_TYPES } from '../../src/sdk/index.js'

const rollbackParams = z.object({
  /** A revision number as `kubectl rollout history` lists it; default: the previous revision. */
  toRevision: z.int().positive().optional(),
}).strict()

export function createRollbackAction (kube: KubernetesClient) {
  return defineAction({
    name: 'kubernetes.rollback',
    description: 'Rolls a Deployment, StatefulSet or DaemonSet back to its previous revision, a given toRevision, or the revision live before the matched deployment event (kubectl rollout undo).',
    entityTypes: WORKLOAD_ENTITY_TYPES,
    params: rollbackParams,
    needsTarget: true,
    async plan (ctx) {
      // An explicit toRevision wins over the deployment event.
      const before = ctx.params.toRevision === undefined ? ctx.deploymentEvent?.startTime : undefined
      const plan = await planRollback(kube, ctx.target, { toRevision: ctx.params.toRevision, before }, ctx.signal)
      return 'skip' in plan ? skip(plan.skip) : plan
    },
    async run (ctx) {
      return rollbackWorkload(kube, ctx.target, ctx.plan, { dryRun: ctx.dryRun, gitops: ctx.settings.gitops, attempt: ctx.attempt, signal: ctx.signal })
    },
  })
}
