/**
 * What the API server does to an object before storing it, as far as the simulator models it:
 * the defaults of a Deployment's spec (replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
 * progressDeadlineSeconds 600) and the validation the actions and kubectl can trip over, with the
 * API server's field paths and messages.
 */
import { served, type ServedResource } from './catalog.js'
import type { Obj } from './patch.js'
import { statusErrors } from './status.js'

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

const WORKLOADS: ReadonlySet<ServedResource> = new Set([served.Deployment, served.ReplicaSet, served.StatefulSet, served.DaemonSet])

/** Pure: the image pull policy the API server defaults to (Always for `:latest` or no tag). */
function pullPolicy (image: unknown): string {
  const ref = typeof image === 'string' ? image.split('@')[0] ?? '' : ''
  const tag = /:([^/:]+)$/.exec(ref)?.[1]
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent'
}

/**
 * Pure: a pod template as the API server stores it: its defaults (restartPolicy, dnsPolicy,
 * schedulerName, terminationGracePeriodSeconds, securityContext, and per container
 * terminationMessagePath/Policy, imagePullPolicy, port protocol), and the fields Go's encoding
 * always writes (`creationTimestamp: null`, `resources: {}`). Without them a template kubectl
 * sends back (it decodes into Go types) would differ from the stored one, and the controller
 * would see a new template where the API server sees the old one.
 */
export function podTemplateDefaults (template: Obj): Obj {
  const metadata = { ...((template.metadata ?? {}) as Obj) }
  if (!('creationTimestamp' in metadata)) metadata.creationTimestamp = null
  const spec = { ...((template.spec ?? {}) as Obj) }
  const container = (c: unknown): unknown => {
    const out = { ...(c as Obj) }
    out.resources ??= {}
    out.terminationMessagePath ??= '/dev/termination-log'
    out.terminationMessagePolicy ??= 'File'
    out.imagePullPolicy ??= pullPolicy(out.image)
    if (Array.isArray(out.ports)) out.ports = out.ports.map((p) => ({ protocol: 'TCP', ...(p as Obj) }))
    return out
  }
  for (const key of ['containers', 'initContainers']) if (Array.isArray(spec[key])) spec[key] = (spec[key] as unknown[]).map(container)
  spec.restartPolicy ??= 'Always'
  spec.terminationGracePeriodSeconds ??= 30
  spec.dnsPolicy ??= 'ClusterFirst'
  spec.securityContext ??= {}
  spec.schedulerName ??= 'default-scheduler'
  return { ...template, metadata, spec }
}

/** Pure: a copy of `object` with the defaults the API server fills in. */
export function withDefaults (type: ServedResource, object: Obj): Obj {
  if (!WORKLOADS.has(type)) return object
  const workload = { ...((object.spec ?? {}) as Obj) }
  if (workload.template !== undefined) workload.template = podTemplateDefaults(workload.template as Obj)
  if (type !== served.Deployment) return { ...object, spec: workload }
  const spec = workload
  spec.replicas ??= 1
  spec.revisionHistoryLimit ??= 10
  spec.progressDeadlineSeconds ??= 600
  const strategy = { ...((spec.strategy ?? {}) as Obj) }
  strategy.type ??= 'RollingUpdate'
  if (strategy.type === 'RollingUpdate') strategy.rollingUpdate = { maxSurge: '25%', maxUnavailable: '25%', ...((strategy.rollingUpdate ?? {}) as Obj) }
  spec.strategy = strategy
  return { ...object, spec }
}

/** Throws the API server's 422 Invalid for what the simulator checks. */
export function validate (type: ServedResource, name: string, object: Obj): void {
  if (!NAME.test(name) || name.length > 253) throw statusErrors.invalid(type, name, 'metadata.name', `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`)
  const spec = (object.spec ?? {}) as Record<string, unknown>
  if (type === served.HorizontalPodAutoscaler) {
    const max = spec.maxReplicas
    const min = spec.minReplicas ?? 1
    if (!Number.isInteger(max) || (max as number) < 1) throw statusErrors.invalid(type, name, 'spec.maxReplicas', `Invalid value: ${JSON.stringify(max)}: must be greater than or equal to 1`)
    if (!Number.isInteger(min) || (min as number) < 1) throw statusErrors.invalid(type, name, 'spec.minReplicas', `Invalid value: ${JSON.stringify(min)}: must be greater than or equal to 1`)
    if ((min as number) > (max as number)) throw statusErrors.invalid(type, name, 'spec.minReplicas', `Invalid value: ${String(min)}: must be less than or equal to maxReplicas`)
    return
  }
  if (type === served.Deployment || type === served.StatefulSet || type === served.DaemonSet || type === served.ReplicaSet) {
    const replicas = spec.replicas
    if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 0)) throw statusErrors.invalid(type, name, 'spec.replicas', `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`)
    const selector = (spec.selector ?? {}) as { matchLabels?: Record<string, string>, matchExpressions?: unknown[] }
    if (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0) throw statusErrors.invalid(type, name, 'spec.selector', 'Required value')
    const template = (spec.template ?? {}) as { metadata?: { labels?: Record<string, string> }, spec?: { containers?: unknown } }
    const labels = template.metadata?.labels ?? {}
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
      if (labels[k] !== v) throw statusErrors.invalid(type, name, 'spec.template.metadata.labels', `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``)
    }
    const containers = template.spec?.containers
    if (!Array.isArray(containers) || containers.length === 0) throw statusErrors.invalid(type, name, 'spec.template.spec.containers', 'Required value')
    containers.forEach((c, i) => {
      const container = c as { name?: unknown, image?: unknown }
      if (typeof container.name !== 'string' || container.name === '') throw statusErrors.invalid(type, name, `spec.template.spec.containers[${i}].name`, 'Required value')
      if (typeof container.image !== 'string' || container.image === '') throw statusErrors.invalid(type, name, `spec.template.spec.containers[${i}].image`, 'Required value')
    })
  }
}
