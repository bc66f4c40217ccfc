/**
 * Label selectors (`a=b,c!=d,e,!f`, `env in (a,b)`, `env notin (c)`) and the field selectors the
 * API server supports for every resource (`metadata.name`, `metadata.namespace`, with `=`, `==`
 * and `!=`): what LIST and WATCH filter by, and what `kubectl rollout status` watches with.
 */
import { statusErrors } from './status.js'
import type { StoredObject } from './store.js'

type Labels = Record<string, string>

/** Pure: splits on commas outside parentheses. */
function terms (selector: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < selector.length; i++) {
    if (selector[i] === '(') depth++
    else if (selector[i] === ')') depth--
    else if (selector[i] === ',' && depth === 0) {
      out.push(selector.slice(start, i))
      start = i + 1
    }
  }
  out.push(selector.slice(start))
  return out.map((t) => t.trim()).filter((t) => t !== '')
}

/** Pure: a matcher for a label selector string. */
export function parseLabelSelector (selector: string | undefined): (labels: Labels) => boolean {
  if (selector === undefined || selector.trim() === '') return () => true
  const tests = terms(selector).map((term): (l: Labels) => boolean => {
    const set = /^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term)
    if (set !== null) {
      const [, key = '', op, list = ''] = set
      const values = list.split(',').map((v) => v.trim())
      return op === 'in' ? (l) => l[key] !== undefined && values.includes(l[key] ?? '') : (l) => l[key] === undefined || !values.includes(l[key] ?? '')
    }
    const ne = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term)
    if (ne !== null) return (l) => l[ne[1] as string] !== ne[2]
    const eq = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term)
    if (eq !== null) return (l) => l[eq[1] as string] === eq[2]
    if (/^![^!=\s()]+$/.test(term)) return (l) => !(term.slice(1) in l)
    if (/^[^!=\s()]+$/.test(term)) return (l) => term in l
    throw statusErrors.badRequest(`unable to parse requirement: ${term}`)
  })
  return (labels) => tests.every((test) => test(labels))
}

const FIELDS: Record<string, (o: StoredObject) => string> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace ?? '',
}

/** Pure: a matcher for a field selector string. */
export function parseFieldSelector (selector: string | undefined): (o: StoredObject) => boolean {
  if (selector === undefined || selector.trim() === '') return () => true
  const tests = terms(selector).map((term): (o: StoredObject) => boolean => {
    const m = /^([^!=\s]+)\s*(!=|==|=)\s*(.*)$/.exec(term)
    if (m === null) throw statusErrors.badRequest(`invalid field selector: ${term}`)
    const [, field = '', op, value] = m
    const read = FIELDS[field]
    if (read === undefined) throw statusErrors.badRequest(`field label not supported: ${field}`)
    return op === '!=' ? (o) => read(o) !== value : (o) => read(o) === value
  })
  return (o) => tests.every((test) => test(o))
}

/** Pure: both selectors of a LIST or WATCH request, as one matcher. */
export function objectMatcher (labelSelector: string | undefined, fieldSelector: string | undefined): (o: StoredObject) => boolean {
  const labels = parseLabelSelector(labelSelector)
  const fields = parseFieldSelector(fieldSelector)
  return (o) => labels(o.metadata.labels ?? {}) && fields(o)
}
