/**
 * `kubectl rollout undo` at API level (a port of the behaviour of kubectl's rollback.go; the old
 * server-side `/rollback` endpoint went away with apps/v1, so undo has always been client-side).
 *
 * Deployment: the revisions are the ReplicaSets the Deployment controls, numbered by their
 * `deployment.kubernetes.io/revision` annotation. Rolling back copies a ReplicaSet's pod template
 * (minus `pod-template-hash`) into the Deployment; the Deployment controller then finds the old
 * ReplicaSet matching that template, scales it up and gives it the next revision number.
 * StatefulSet / DaemonSet: the revisions are ControllerRevisions whose `data` is the strategic
 * merge patch that restores the template; kubectl sends exactly that patch.
 *
 * The plan names the source object (ReplicaSet or ControllerRevision) rather than only its
 * revision number: the number changes when the controller reuses it, the name does not.
 */
import type { Outcome } from '../domain/outcome.js'
import type { Target } from '../domain/target.js'
import type { KubernetesClient } from './client.js'
import { isKubernetesApiError, toActionError, withConflictRetry } from './errors.js'
import { resources, workloadResource, type ControllerRevision, type PodTemplateSpec, type ReplicaSet, type Workload } from './resources.js'
import { describeImageChange, imagesOf, REVISION_ANNOTATION, selectorQuery, templatesEqualIgnoringHash, withoutHash, type ContainerImage } from './template.js'
import { controlledBy, describeTarget, notFound, preflight, readWorkload, type GitOpsSetting } from './workload.js'

/**
 * A ReplicaSet created this close before a deployment event is taken to be the one the event
 * announces: pipelines often post the event after `kubectl apply` (or after the rollout finished).
 */
export const DEPLOYMENT_EVENT_SLACK_MS = 5 * 60_000

/** Annotations kubectl keeps from the Deployment instead of taking them from the ReplicaSet. */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
])

export interface RollbackRequest {
  /** An explicit revision (`toRevision`); otherwise the previous one. */
  toRevision?: number | undefined
  /** ms epoch of the matched deployment event: roll back to the revision live before it. */
  before?: number | undefined
}

export type RollbackPlan =
  | { readonly skip: string }
  | {
    readonly source: { readonly kind: 'ReplicaSet' | 'ControllerRevision', readonly name: string }
    readonly toRevision: number
    readonly fromRevision: number | null
    readonly chosenBy: 'previous' | 'toRevision' | 'deploymentEvent'
  }

interface Revision {
  readonly kind: 'ReplicaSet' | 'ControllerRevision'
  readonly name: string
  readonly revision: number
  readonly createdAt: number
  readonly template: PodTemplateSpec
  /** ControllerRevision only: the patch the controller stored. */
  readonly data?: ControllerRevision['data']
  readonly annotations: Record<string, string>
}

async function listRevisions (kube: KubernetesClient, target: Target, workload: Workload, signal?: AbortSignal): Promise<Revision[]> {
  const options = { ...(signal === undefined ? {} : { signal }), ...labelSelector(workload) }
  if (target.kind === 'Deployment') {
    const sets = await kube.list<ReplicaSet>(resources.ReplicaSet, target.namespace, options)
    return sets.filter((rs) => controlledBy(rs.metadata.ownerReferences, workload.metadata.uid)).flatMap((rs) => {
      const revision = Number(rs.metadata.annotations?.[REVISION_ANNOTATION])
      return Number.isInteger(revision) && revision > 0
        ? [{ kind: 'ReplicaSet' as const, name: rs.metadata.name, revision, createdAt: Date.parse(rs.metadata.creationTimestamp ?? '') || 0, template: rs.spec.template, annotations: rs.metadata.annotations ?? {} }]
        : []
    }).sort((a, b) => a.revision - b.revision)
  }
  const histories = await kube.list<ControllerRevision>(resources.ControllerRevision, target.namespace, options)
  return histories.filter((cr) => controlledBy(cr.metadata.ownerReferences, workload.metadata.uid)).map((cr) => ({
    kind: 'ControllerRevision' as const,
    name: cr.metadata.name,
    revision: cr.revision,
    createdAt: Date.parse(cr.metadata.creationTimestamp ?? '') || 0,
    template: stripDirectives(cr.data?.spec?.template ?? {}),
    data: cr.data,
    annotations: cr.metadata.annotations ?? {},
  })).sort((a, b) => a.revision - b.revision)
}

function labelSelector (workload: Workload): { labelSelector?: string } {
  const query = selectorQuery(workload.spec.selector)
  return query === undefined ? {} : { labelSelector: query }
}

/** Pure: picks the revision to return to, or the reason there is none (kubectl's rules). */
export function chooseRevision (revisions: readonly Revision[], request: RollbackRequest, what: string): Revision | string {
  if (revisions.length === 0) return `${what} has no rollout history (revisionHistoryLimit 0, or never rolled out)`
  if (request.toRevision !== undefined) {
    return revisions.find((r) => r.revision === request.toRevision) ?? `${what} has no revision ${request.toRevision} (revisions: ${revisions.map((r) => r.revision).join(', ')})`
  }
  if (request.before !== undefined) {
    const cutoff = request.before - DEPLOYMENT_EVENT_SLACK_MS
    const live = revisions.filter((r) => r.createdAt < cutoff).at(-1)
    return live ?? `${what} has no revision that was live before the deployment event at ${new Date(request.before).toISOString()}`
  }
  if (revisions.length < 2) return `${what} has no rollout history to go back to (only revision ${revisions[0]?.revision ?? '?'})`
  return revisions[revisions.length - 2] as Revision
}

/** Reads the workload and its history and fixes the revision to return to. */
export async function planRollback (kube: KubernetesClient, target: Target, request: RollbackRequest, signal?: AbortSignal): Promise<RollbackPlan> {
  try {
    const read = await readWorkload(kube, target, signal)
    if (!read.found) return { skip: read.outcome.reason }
    const revisions = await listRevisions(kube, target, read.workload, signal)
    const chosen = chooseRevision(revisions, request, describeTarget(target))
    if (typeof chosen === 'string') return { skip: chosen }
    return {
      source: { kind: chosen.kind, name: chosen.name },
      toRevision: chosen.revision,
      fromRevision: currentRevision(read.workload, revisions),
      chosenBy: request.toRevision !== undefined ? 'toRevision' : request.before !== undefined ? 'deploymentEvent' : 'previous',
    }
  } catch (err) {
    throw toActionError(err)
  }
}

function currentRevision (workload: Workload, revisions: readonly Revision[]): number | null {
  const annotated = Number(workload.metadata.annotations?.[REVISION_ANNOTATION])
  if (Number.isInteger(annotated) && annotated > 0) return annotated
  return revisions.find((r) => templatesEqualIgnoringHash(r.template, workload.spec.template))?.revision ?? revisions.at(-1)?.revision ?? null
}

export interface RollbackOptions {
  dryRun: boolean
  gitops: GitOpsSetting
  /** The run's attempt: a later attempt finding the template already restored succeeded earlier. */
  attempt: number
  signal?: AbortSignal
}

export async function rollbackWorkload (kube: KubernetesClient, target: Target, plan: RollbackPlan, options: RollbackOptions): Promise<Outcome> {
  if ('skip' in plan) return { status: 'skipped', reason: plan.skip }
  const signal = options.signal === undefined ? {} : { signal: options.signal }
  const what = describeTarget(target)
  return withConflictRetry(async () => {
    const read = await readWorkload(kube, target, options.signal)
    if (!read.found) return read.outcome
    const workload = read.workload
    const skip = preflight(target, workload, { gitops: options.gitops, refusePaused: true, verb: 'roll back' })
    if (skip !== undefined) return { status: 'skipped', reason: skip }
    let revisions: Revision[]
    try {
      revisions = await listRevisions(kube, target, workload, options.signal)
    } catch (err) {
      throw toActionError(err)
    }
    const source = revisions.find((r) => r.name === plan.source.name)
    if (source === undefined) return { status: 'skipped', reason: `${what}: ${plan.source.kind} ${plan.source.name} (revision ${plan.toRevision}) no longer exists` }
    const before = imagesOf(workload.spec.template)
    const after = imagesOf(source.template)
    const details = { target, fromRevision: plan.fromRevision, toRevision: plan.toRevision, source: plan.source, chosenBy: plan.chosenBy, imagesBefore: before, imagesAfter: after, dryRun: options.dryRun }
    if (templatesEqualIgnoringHash(source.template, workload.spec.template)) {
      // Attempt 1 finding the template already there means there is nothing to undo; a retry
      // finding it means an earlier attempt got through before the run was interrupted.
      if (options.attempt > 1) return { status: 'succeeded', summary: `${what} is at revision ${plan.toRevision} (${imagesList(after)}); rolled back by an earlier attempt`, details: { ...details, alreadyApplied: true } }
      return { status: 'skipped', reason: `${what}: current template already matches revision ${plan.toRevision} (${imagesList(after)})`, details }
    }
    // SPEC 7: the plan holds only while the revision it was made from is live.
    const live = currentRevision(workload, revisions)
    if (plan.fromRevision !== null && live !== plan.fromRevision) {
      return { status: 'skipped', reason: `target changed since plan: ${what} is at revision ${live ?? '?'}, the rollback was planned from revision ${plan.fromRevision}`, details: { ...details, liveRevision: live } }
    }
    try {
      if (target.kind === 'Deployment') {
        await kube.patch(resources.Deployment, target.namespace, target.name, deploymentRollbackPatch(workload, source), { type: 'json', dryRun: options.dryRun, ...signal })
      } else {
        await kube.patch(workloadResource(target.kind), target.namespace, target.name, historyRollbackPatch(workload, source), { type: 'strategic', dryRun: options.dryRun, ...signal })
      }
    } catch (err) {
      if (isKubernetesApiError(err, 404)) return notFound(target)
      throw toActionError(err)
    }
    const from = plan.fromRevision === null ? '' : ` from revision ${plan.fromRevision}`
    const change = `${from} to revision ${plan.toRevision}: ${describeImageChange(before, after)}`
    return { status: 'succeeded', summary: options.dryRun ? `Dry run: would roll back ${what}${change}` : `Rolled back ${what}${change}`, details }
  }, signal)
}

/**
 * Pure: kubectl's JSON patch (replace the template, replace the annotations), plus a
 * resourceVersion precondition: if the Deployment changed since we read it — say a new release
 * went out — the API server answers 409 and we decide again instead of overwriting it.
 */
function deploymentRollbackPatch (deployment: Workload, source: Pick<Revision, 'template' | 'annotations'>): unknown[] {
  const annotations: Record<string, string> = {}
  for (const [key, value] of Object.entries(deployment.metadata.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value
  }
  for (const [key, value] of Object.entries(source.annotations)) {
    if (!ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value
  }
  return [
    { op: 'replace', path: '/metadata/resourceVersion', value: deployment.metadata.resourceVersion },
    { op: 'replace', path: '/spec/template', value: withoutHash(source.template) },
    // `add` replaces an existing member and, unlike `replace`, also works when there is none.
    { op: 'add', path: '/metadata/annotations', value: annotations },
  ]
}

/** Pure: the ControllerRevision's own strategic-merge patch, with the same precondition. */
function historyRollbackPatch (workload: Workload, source: Pick<Revision, 'data' | 'template'>): Record<string, unknown> {
  const template = source.data?.spec?.template ?? source.template
  return { metadata: { resourceVersion: workload.metadata.resourceVersion }, spec: { template: { ...template, $patch: 'replace' } } }
}

function stripDirectives (template: PodTemplateSpec): PodTemplateSpec {
  const { $patch: _directive, ...rest } = template as PodTemplateSpec & { $patch?: string }
  return rest
}

function imagesList (images: readonly ContainerImage[]): string {
  return images.map((c) => c.image).join(', ')
}
