/**
 * Pure helpers over pod templates and workload metadata: equality the way the Deployment
 * controller sees it, the images a template runs, and label selectors as query strings.
 */
import { isDeepStrictEqual } from 'node:util'
import type { LabelSelector, PodTemplateSpec } from './resources.js'

/** The label the Deployment controller adds to a ReplicaSet's template to tell revisions apart. */
export const POD_TEMPLATE_HASH = 'pod-template-hash'
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision'
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt'

/** Pure: a deep copy of a template without the `pod-template-hash` label (kubectl strips it). */
export function withoutHash (template: PodTemplateSpec): PodTemplateSpec {
  const copy = structuredClone(template)
  const labels = copy.metadata?.labels
  if (labels !== undefined && POD_TEMPLATE_HASH in labels) {
    delete labels[POD_TEMPLATE_HASH]
    if (Object.keys(labels).length === 0 && copy.metadata !== undefined) delete copy.metadata.labels
  }
  return copy
}

/** Pure: true when two templates are equal once `pod-template-hash` is ignored (kubectl's EqualIgnoreHash). */
export function templatesEqualIgnoringHash (a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  // Both come from JSON as the API server sent it (no model classes, no undefined members), so
  // node's strict deep equality is exactly the comparison kubectl's EqualIgnoreHash makes.
  return isDeepStrictEqual(withoutHash(a), withoutHash(b))
}

export interface ContainerImage {
  readonly container: string
  readonly image: string
}

/** Pure: the images of a template's containers (init containers included), in order. */
export function imagesOf (template: PodTemplateSpec | undefined): ContainerImage[] {
  const spec = template?.spec
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => ({ container: c.name, image: c.image ?? '(no image)' }))
}

/**
 * Pure: a one-line description of an image change, e.g. `checkout:1.4.2 → checkout:1.4.1`;
 * containers are named when there are several; unchanged images are reported as such.
 */
export function describeImageChange (before: readonly ContainerImage[], after: readonly ContainerImage[]): string {
  const afterByName = new Map(after.map((c) => [c.container, c.image]))
  const several = Math.max(before.length, after.length) > 1
  const changes: string[] = []
  for (const { container, image } of before) {
    const next = afterByName.get(container)
    if (next !== undefined && next !== image) changes.push(`${several ? `${container}: ` : ''}${image} → ${next}`)
  }
  const beforeNames = new Set(before.map((c) => c.container))
  for (const { container, image } of after) {
    if (!beforeNames.has(container)) changes.push(`${container}: (none) → ${image}`)
  }
  for (const { container } of before) {
    if (!afterByName.has(container)) changes.push(`${container}: removed`)
  }
  if (changes.length > 0) return changes.join(', ')
  return `images unchanged (${after.map((c) => c.image).join(', ')})`
}

/**
 * Pure: a label selector as the `labelSelector` query parameter. Only `matchLabels` narrows the
 * server-side list; owner references are what actually decide membership, so expressions can be
 * left out without listing a wrong object.
 */
export function selectorQuery (selector: LabelSelector | undefined): string | undefined {
  const labels = selector?.matchLabels
  if (labels === undefined || Object.keys(labels).length === 0) return undefined
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')
}

/** Pure: an RFC 3339 timestamp with second precision, as kubectl writes `restartedAt`. */
export function rfc3339 (ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}
