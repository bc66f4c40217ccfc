/**
 * kubernetes.scale: sets the replica count through the /scale subresource, or raises the
 * minReplicas of the HPA that targets the workload. The absolute number is computed when the run
 * is planned. See README.md.
 */
import { z } from 'zod'
import type { KubernetesClient } from '../../src/kubernetes/client.js'
import { planScale, scaleWorkload } from '../../src/kubernetes/scale.js'
import { defineAction, skip, WORKLOAD_ENTITY_TYPES } from '../../src/sdk/index.js'

const scaleParams = z.object({
  /** An absolute replica count. */
  to: z.int().nonnegative().optional(),
  /** Replicas to add (negative to remove). */
  by: z.int().optional(),
  /** A multiplier of the current count, rounded up. */
  factor: z.number().positive().optional(),
  /** Required upper bound: a remediation must never scale without limit. */
  max: z.int().positive(),
  /** Lower bound; default 1 so that a scale-down never removes the last replica by accident. */
  min: z.int().nonnegative().default(1),
}).strict()
  .refine((p) => [p.to, p.by, p.factor].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of to, by or factor' })
  .refine((p) => p.min <= p.max, { message: 'min must not exceed max', path: ['min'] })

export function createScaleAction (kube: KubernetesClient) {
  return defineAction({
    name: 'kubernetes.scale',
    description: 'Scales a Deployment or StatefulSet (to, by or factor, bounded by max and min); when an HPA targets it, raises the HPA minReplicas instead.',
    entityTypes: WORKLOAD_ENTITY_TYPES,
    params: scaleParams,
    needsTarget: true,
    async plan (ctx) {
      const plan = await planScale(kube, ctx.target, ctx.params, ctx.signal)
      return 'skip' in plan ? skip(plan.skip) : plan
    },
    async run (ctx) {
      return scaleWorkload(kube, ctx.target, ctx.plan, { dryRun: ctx.dryRun, gitops: ctx.settings.gitops, attempt: ctx.attempt, signal: ctx.signal })
    },
  })
}
