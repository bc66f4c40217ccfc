/**
 * kubernetes.restart: `kubectl rollout restart` for the target workload. The restartedAt value is
 * the time the run was planned, so a retried attempt sends the identical patch. See README.md.
 */
import { z } from 'zod'
import { defineAction, type Outcome } from '../../contract.js'
import type { KubernetesClient } from '../../../kubernetes/client.js'
import { planRestart, restartWorkload, type RestartPlan } from '../../../kubernetes/restart.js'

export const restartParams = z.object({}).strict()

export function createRestartAction (kube: KubernetesClient) {
  return defineAction<typeof restartParams, RestartPlan>({
    name: 'kubernetes.restart',
    description: 'Restarts the pods of a Deployment, StatefulSet or DaemonSet with a rolling update (kubectl rollout restart).',
    entityTypes: '*',
    params: restartParams,
    needsTarget: true,
    async plan (ctx) {
      return planRestart(ctx.plannedAt)
    },
    async run (ctx): Promise<Outcome> {
      if (ctx.target === null) return { status: 'skipped', reason: 'no Kubernetes target' }
      return restartWorkload(kube, ctx.target, ctx.plan, { dryRun: ctx.dryRun, gitops: ctx.settings.gitops, signal: ctx.signal })
    },
  })
}
