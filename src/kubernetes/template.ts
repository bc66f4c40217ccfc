/**
 * Pure helpers over pod templates and workload metadata: equality the way the Deployment
 * controller sees it, the images a template runs, and label selectors as query strings.
 */
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
  return deepEqual(withoutHash(a), withoutHash(b))
}

/** Pure: structural equality of JSON values; key order does not matter, and `{}`/absent differ. */
export function deepEqual (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]))
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  const keys = Object.keys(ao).filter((k) => ao[k] !== undefined)
  if (keys.length !== Object.keys(bo).filter((k) => bo[k] !== undefined).length) return false
  return keys.every((k) => deepEqual(ao[k], bo[k]))
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
