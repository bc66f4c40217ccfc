/**
 * What an action acts on: a Kubernetes workload named by kind, namespace and name (SPEC section 6).
 * Pure vocabulary, shared by target resolution, the Kubernetes mechanics, the gates and the
 * comments.
 */

import { z } from 'zod'

export const TARGET_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const
export type TargetKind = (typeof TARGET_KINDS)[number]

export const targetSchema = z.object({
  kind: z.enum(TARGET_KINDS),
  namespace: z.string(),
  name: z.string(),
}).readonly()

export type Target = z.output<typeof targetSchema>

/** Pure: `Deployment shop/checkout`, as comments and reasons name a target. */
export function describeTarget (target: Target): string {
  return `${target.kind} ${target.namespace}/${target.name}`
}

/** Pure: whether two targets name the same workload. */
export function sameTarget (a: Target, b: Target): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name
}
