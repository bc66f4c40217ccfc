/**
 * The simulator's own comparisons of API objects, written apart from the product's
 * (src/kubernetes/template.ts) on purpose: if both used one function, a bug in it would be
 * mirrored by the simulator and the rollback tests could not catch it. Objects here are parsed
 * JSON, so equality is equality of their canonical JSON text.
 */
import type { Obj } from './patch.js'

/** Names the API server and the controllers use; part of the API, not of the product. */
export const POD_TEMPLATE_HASH = 'pod-template-hash'
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision'

/** Pure: JSON text with object keys sorted and undefined members left out. */
export function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).filter((k) => (value as Obj)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Obj)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export function sameJson (a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b)
}

/** Pure: a copy of a pod template without the pod-template-hash label (as the controller compares them). */
export function hashless<T> (template: T): T {
  const copy = structuredClone(template) as { metadata?: { labels?: Record<string, string> } }
  const labels = copy.metadata?.labels
  if (labels !== undefined) {
    delete labels[POD_TEMPLATE_HASH]
    if (Object.keys(labels).length === 0) delete copy.metadata?.labels
  }
  return copy as T
}

/** The Deployment controller's EqualIgnoreHash. */
export function equalIgnoringHash (a: unknown, b: unknown): boolean {
  return sameJson(hashless(a), hashless(b))
}
