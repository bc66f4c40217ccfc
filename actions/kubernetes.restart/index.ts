/**
 * kubernetes.restart: `kubectl rollout restart` for the target workload. The restartedAt value is
 * the time the run was planned, so a retried attempt sends the identical patch. See README.md.
 */
import { z } from 'zod'
import type { KubernetesClient } from '../../src/kubernetes/client.js'
import { planRestart, restartWorkload } from '../../src/kubernetes/restart.js'
import { defineAction, WORKLOAD_ENTITY_TYPES } from '../../src/sdk/index.js'

const restartParams = z.object({}).strict()

export function createRestartAction (kube: KubernetesClient) {
  return defineAction({
    name: 'kubernetes.restart',
    description: 'Restarts the pods of a Deployment, StatefulSet or DaemonSet with a rolling update (kubectl rollout restart).',
    entityTypes: WORKLOAD_ENTITY_TYPES,
    params: restartParams,
    needsTarget: true,
    async plan (ctx) {
      return planRestart(ctx.plannedAt)
    },
    async run (ctx) {
      return restartWorkload(kube, ctx.target, ctx.plan, { dryRun: ctx.dryRun, gitops: ctx.settings.gitops, signal: ctx.signal })
    },
  })
}
