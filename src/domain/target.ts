/**
 * What an action acts on: a Kubernetes workload named by kind, namespace and name (SPEC section 6).
 * Pure vocabulary, shared by target resolution, the Kubernetes mechanics, the gates and the
 * comments.
 */
import { z } from 'zod'

export const TARGET_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const
export type TargetKind = (typeof TARGET_KINDS)[number]

/**
 * The Dynatrace entity types that can resolve to a workload (SPEC 6): the workload itself
 * (CLOUD_APPLICATION) and the services, process groups and process group instances that run in
 * it — exactly the types the relationship walk of src/domain/topology.ts knows how to follow. The Kubernetes actions declare these, so the
 * dispatcher check refuses a rule that sends, say, HOST or APPLICATION problems to a rollback:
 * a host or a web application is no workload, and a rule that names one is a mistake to catch at
 * load rather than a run to skip at 3 a.m.
 */
export const WORKLOAD_ENTITY_TYPES = ['SERVICE', 'PROCESS_GROUP', 'PROCESS_GROUP_INSTANCE', 'CLOUD_APPLICATION'] as const

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

/** Pure: `Deployment/shop/checkout`, the key the store's target locks, cooldowns and plan dedupe use. */
export const targetKey = (target: Target): string => `${target.kind}/${target.namespace}/${target.name}`
