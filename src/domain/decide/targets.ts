/**
 * Target resolution (SPEC 6), pure: an impacted entity of a matching rule to the Kubernetes
 * workload `{kind, namespace, name}` to act on. Four sources, in order; the first that yields all
 * three wins and is named:
 *   1. `rule`: the rule's `target`, placeholders substituted;
 *   2. `tags`: the entity's `k8s.namespace.name` with `k8s.deployment.name`, `k8s.statefulset.name`
 *      or `k8s.daemonset.name` (keys case-insensitive, any context);
 *   3. `workload`: the CLOUD_APPLICATION entity itself or reached through relationships
 *      (topology.ts): namespace `properties.namespaceName`, name `displayName`, kind from
 *      `cloudApplicationDeploymentTypes`;
 *   4. `event`: the matched (or newest within 2h) CUSTOM_DEPLOYMENT event's properties, same keys
 *      as (2).
 * With none, the reason lists every source and why it gave nothing. With DTR_CLUSTER_NAME, a
 * workload known to be in another cluster is no target, and so is one whose cluster nothing tells
 * (no tag, no relationship, or a problem spanning several clusters): it fails closed.
 */
import type { EntityDeploymentEvent, EntityDetails, ImpactedEntity } from '../enrichment.js'
import { substituteString, type PlaceholderValues } from '../rules/placeholders.js'
import { formatDuration } from '../rules/duration.js'
import { tagValue } from '../tags.js'
import { TARGET_KINDS, type Target, type TargetKind } from '../target.js'
import { clustersOf, entityType, workloadsOf, type Lookup } from '../topology.js'

const TARGET_SOURCES = ['rule', 'tags', 'workload', 'event'] as const
export type TargetSource = (typeof TARGET_SOURCES)[number]

const SOURCE_LABEL: Record<TargetSource, string> = { rule: 'rule target', tags: 'tags', workload: 'workload entity', event: 'deployment event' }

export interface SourceAttempt {
  readonly source: TargetSource
  readonly target: Target | undefined
  /** What it found or why it found nothing. */
  readonly note: string
}

export type Resolution =
  | { readonly ok: true, readonly target: Target, readonly source: TargetSource, readonly note: string, readonly tried: readonly SourceAttempt[] }
  | { readonly ok: false, readonly reason: string, readonly tried: readonly SourceAttempt[] }

export interface ResolveInput {
  readonly entity: ImpactedEntity
  /** The rule's `target` as written. */
  readonly ruleTarget: { readonly kind: string, readonly namespace: string, readonly name: string } | undefined
  /** For the rule target's placeholders. */
  readonly values: PlaceholderValues
  /** The entities enrichment read. */
  readonly lookup: Lookup
  /** The matched deployment event, else the newest within the lookback. */
  readonly deploymentEvent: EntityDeploymentEvent | undefined
  readonly lookbackMs: number
  /** Whether deployment events were read at all. */
  readonly eventsRead: boolean
  /** DTR_CLUSTER_NAME. */
  readonly clusterName: string | undefined
  /** The problem's `k8s.cluster.name`. */
  readonly problemClusters: readonly string[]
}

const WORKLOAD_TAGS: ReadonlyArray<readonly [string, TargetKind]> = [
  ['k8s.deployment.name', 'Deployment'],
  ['k8s.statefulset.name', 'StatefulSet'],
  ['k8s.daemonset.name', 'DaemonSet'],
]

const DEPLOYMENT_TYPES: Readonly<Record<string, TargetKind>> = {
  KUBERNETES_DEPLOYMENT: 'Deployment',
  KUBERNETES_STATEFUL_SET: 'StatefulSet',
  KUBERNETES_DAEMON_SET: 'DaemonSet',
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

/** Pure: a well-formed target, or why not. */
function validTarget (kind: string, namespace: string, name: string): Target | string {
  if (!(TARGET_KINDS as readonly string[]).includes(kind)) return `kind ${JSON.stringify(kind)} is not ${TARGET_KINDS.join(', ')}`
  if (!NAMESPACE.test(namespace)) return `namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name`
  if (!NAME.test(name)) return `name ${JSON.stringify(name)} is not a Kubernetes object name`
  return { kind: kind as TargetKind, namespace, name }
}

function fromRule (input: ResolveInput): SourceAttempt {
  const t = input.ruleTarget
  if (t === undefined) return { source: 'rule', target: undefined, note: 'none given' }
  const parts = [t.kind, t.namespace, t.name].map((p) => substituteString(p, input.values))
  const missing = parts.flatMap((p) => p.missing)
  if (missing.length > 0) return { source: 'rule', target: undefined, note: `${[...new Set(missing)].join(', ')} ${missing.length === 1 ? 'has' : 'have'} no value` }
  const [kind, namespace, name] = parts.map((p) => p.value) as [string, string, string]
  const target = validTarget(kind, namespace, name)
  return typeof target === 'string' ? { source: 'rule', target: undefined, note: target } : { source: 'rule', target, note: `${t.kind} ${t.namespace}/${t.name}` }
}

/** `k8s.namespace.name` plus a workload-name key, from tags or event properties. */
function fromKeys (read: (key: string) => string | undefined, what: string): { target: Target | undefined, note: string } {
  const namespace = read('k8s.namespace.name')
  if (namespace === undefined) return { target: undefined, note: `no k8s.namespace.name${what}` }
  for (const [key, kind] of WORKLOAD_TAGS) {
    const name = read(key)
    if (name === undefined) continue
    const target = validTarget(kind, namespace, name)
    return typeof target === 'string' ? { target: undefined, note: `${key}: ${target}` } : { target, note: `k8s.namespace.name and ${key}${what}` }
  }
  return { target: undefined, note: `k8s.namespace.name ${namespace} but no ${WORKLOAD_TAGS.map(([k]) => k).join(', ')}${what}` }
}

function fromTags (input: ResolveInput): SourceAttempt {
  const details = input.entity.details
  if (details === undefined) return { source: 'tags', target: undefined, note: `${input.entity.id} was not read (${input.entity.missing ?? 'no details'})` }
  const found = fromKeys((key) => tagValue(details.tags, key), '')
  return { source: 'tags', ...found }
}

/** The workload entity to a target, or why not. */
function workloadTarget (w: EntityDetails): Target | string {
  const namespace = w.properties.namespaceName
  const types = w.properties.cloudApplicationDeploymentTypes
  const deploymentType = Array.isArray(types) ? types.find((t): t is string => typeof t === 'string') : typeof types === 'string' ? types : undefined
  if (typeof namespace !== 'string' || namespace === '') return `${w.entityId} has no namespaceName`
  if (w.displayName === undefined || w.displayName === '') return `${w.entityId} has no displayName`
  if (deploymentType === undefined) return `${w.entityId} has no cloudApplicationDeploymentTypes`
  const kind = DEPLOYMENT_TYPES[deploymentType]
  if (kind === undefined) return `${w.entityId} is a ${deploymentType}, not a Deployment, StatefulSet or DaemonSet`
  return validTarget(kind, namespace, w.displayName)
}

const WALKABLE = ['SERVICE', 'PROCESS_GROUP', 'PROCESS_GROUP_INSTANCE', 'CLOUD_APPLICATION']

function fromWorkload (input: ResolveInput): { attempt: SourceAttempt, workload: EntityDetails | undefined } {
  const { entity } = input
  const none = (note: string) => ({ attempt: { source: 'workload' as const, target: undefined, note }, workload: undefined })
  const details = entity.details
  if (details === undefined) return none(`${entity.id} was not read (${entity.missing ?? 'no details'})`)
  const type = entityType(details) ?? entity.type
  if (!WALKABLE.includes(type)) return none(`${entity.id} is a ${type}, which Dynatrace does not link to a Kubernetes workload (${WALKABLE.join(', ')} are)`)
  const walk = workloadsOf(details, input.lookup)
  if (walk.workloads.length === 0) {
    if (walk.unread.length > 0) return none(`${[...new Set(walk.unread)].join(', ')} on the way could not be read`)
    const how = type === 'SERVICE' ? 'runs on no process group of a Kubernetes workload' : type === 'PROCESS_GROUP_INSTANCE' ? 'is an instance of no process group of a Kubernetes workload' : 'belongs to no Kubernetes workload'
    return none(`${entity.id} ${how}`)
  }
  const targets = walk.workloads.map((w) => ({ w, t: workloadTarget(w) }))
  const distinct = [...new Map(targets.filter((x): x is { w: EntityDetails, t: Target } => typeof x.t !== 'string').map((x) => [`${x.t.kind}/${x.t.namespace}/${x.t.name}`, x])).values()]
  if (distinct.length > 1) return none(`${entity.id} runs on ${distinct.length} Kubernetes workloads (${distinct.map((x) => `${x.t.kind} ${x.t.namespace}/${x.t.name}`).join(', ')}): name one in the rule's target`)
  const only = distinct[0]
  if (only === undefined) return none(targets.map((x) => x.t as string).join('; '))
  const via = only.w.entityId === entity.id ? '' : ` via ${walk.path.join(', ')}`
  return { attempt: { source: 'workload', target: only.t, note: `${only.w.entityId}${via}` }, workload: only.w }
}

function fromEvent (input: ResolveInput): SourceAttempt {
  const within = formatDuration(input.lookbackMs)
  if (!input.eventsRead) return { source: 'event', target: undefined, note: 'deployment events were not read' }
  const ev = input.deploymentEvent
  if (ev === undefined) return { source: 'event', target: undefined, note: `none within ${within}` }
  const found = fromKeys((key) => {
    const k = Object.keys(ev.properties).find((p) => p.toLowerCase() === key)
    const v = k === undefined ? undefined : ev.properties[k]
    return v === undefined || v === '' ? undefined : v
  }, ` in event ${ev.eventId}`)
  return { source: 'event', target: found.target, note: found.target === undefined ? found.note : `${ev.eventId} (${ev.title})` }
}

/** The cluster the entity is known to be in, and how it is known. */
function knownCluster (input: ResolveInput, workload: EntityDetails | undefined, source: TargetSource): { name: string, how: string } | undefined {
  const tag = input.entity.details === undefined ? undefined : tagValue(input.entity.details.tags, 'k8s.cluster.name')
  if (tag !== undefined) return { name: tag, how: 'its k8s.cluster.name tag' }
  if (workload !== undefined) {
    const cluster = clustersOf(workload, input.lookup).find((c) => c.name !== undefined)
    if (cluster?.name !== undefined) return { name: cluster.name, how: `${workload.entityId}'s cluster ${cluster.id}` }
    const wtag = tagValue(workload.tags, 'k8s.cluster.name')
    if (wtag !== undefined) return { name: wtag, how: `${workload.entityId}'s k8s.cluster.name tag` }
  }
  if (source === 'event' && input.deploymentEvent !== undefined) {
    const k = Object.keys(input.deploymentEvent.properties).find((p) => p.toLowerCase() === 'k8s.cluster.name')
    const v = k === undefined ? undefined : input.deploymentEvent.properties[k]
    if (v !== undefined && v !== '') return { name: v, how: `event ${input.deploymentEvent.eventId}'s k8s.cluster.name` }
  }
  if (input.problemClusters.length === 1) return { name: input.problemClusters[0] as string, how: 'the problem\'s k8s.cluster.name' }
  return undefined
}

/** Pure: given an entity and what enrichment read, its target and the source that won, or why none. */
export function resolveTarget (input: ResolveInput): Resolution {
  const tried: SourceAttempt[] = []
  let won: SourceAttempt | undefined
  let workload: EntityDetails | undefined
  for (const source of TARGET_SOURCES) {
    let attempt: SourceAttempt
    if (source === 'workload') {
      const w = fromWorkload(input)
      attempt = w.attempt
      workload = w.workload
    } else {
      attempt = source === 'rule' ? fromRule(input) : source === 'tags' ? fromTags(input) : fromEvent(input)
    }
    tried.push(attempt)
    if (attempt.target !== undefined) {
      won = attempt
      break
    }
  }
  if (won?.target === undefined) {
    return { ok: false, reason: tried.map((a) => `${SOURCE_LABEL[a.source]}: ${a.note}`).join('; '), tried }
  }
  if (input.clusterName !== undefined) {
    // A rule target or tags say nothing of the cluster; the workload entity may still tell.
    if (workload === undefined && input.entity.details !== undefined && won.source !== 'event') workload = fromWorkload(input).workload
    const cluster = knownCluster(input, workload, won.source)
    if (cluster === undefined) {
      // Fail closed: a same-named workload in this cluster may not be the one with the problem.
      const spans = input.problemClusters.length > 1 ? `; the problem spans several clusters (${input.problemClusters.map((c) => JSON.stringify(c)).join(', ')})` : ''
      return { ok: false, reason: `unknown cluster: nothing says which cluster ${input.entity.id} is in (no k8s.cluster.name tag on it or its workload, no cluster relationship${won.source === 'event' ? ', no k8s.cluster.name in the deployment event' : ''})${spans}, and DTR_CLUSTER_NAME is set (${JSON.stringify(input.clusterName)}); add the tag k8s.cluster.name to the entity (or its Kubernetes workload) in Dynatrace`, tried }
    }
    if (cluster.name !== input.clusterName) {
      return { ok: false, reason: `other cluster: ${input.entity.id} is in ${JSON.stringify(cluster.name)} (${cluster.how}); this service acts on ${JSON.stringify(input.clusterName)} (DTR_CLUSTER_NAME)`, tried }
    }
  }
  return { ok: true, target: won.target, source: won.source, note: `${SOURCE_LABEL[won.source]}: ${won.note}`, tried }
}
