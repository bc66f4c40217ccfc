/**
 * What the store can keep (SPEC 4): JSON nested at most 64 levels, and strings (values and keys)
 * without `\u0000` or lone UTF-16 surrogates, which PostgreSQL refuses in text and jsonb and which
 * UTF-8 cannot encode. A body that breaks these is the sender's to fix (400, naming the field),
 * never a failed commit (503 on every resend) or a stack overflow in canonicalJson (500).
 *
 * Pure. The walk is iterative, so a body nested 100,000 deep costs time, not the stack.
 */
import { formatPath } from './payload.js'

const MAX_JSON_DEPTH = 64

const NUL = '\u0000'

/** String.prototype.isWellFormed (ES2024; in Node since 20), which the ES2022 typings lack. */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed()

function stringProblem (s: string): string | undefined {
  if (s.includes(NUL)) return 'contains \\u0000, which cannot be stored'
  if (!isWellFormed(s)) return 'contains a lone UTF-16 surrogate, which cannot be stored'
  return undefined
}

interface Node {
  readonly value: unknown
  readonly parent: Node | undefined
  readonly key: PropertyKey | undefined
  readonly depth: number
}

/** The path from the body to a node, built only for a message (most bodies need none). */
function pathOf (node: Node): PropertyKey[] {
  const path: PropertyKey[] = []
  for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) path.unshift(n.key)
  return path
}

/**
 * Pure: false when the JSON text `text` certainly parses to a storable body, so the walk of
 * unstorableFields can be skipped (the common case, ~3 µs of each webhook). JSON text cannot carry
 * a raw U+0000 (control characters must be escaped), and text decoded from UTF-8 holds no lone
 * surrogate (the decoder makes U+FFFD of one): both can only arrive as a `\u` escape, and no
 * value nests deeper than the text has `{` and `[`. True means "walk it", not "unstorable".
 * Native searches only: a loop over the characters in JS cost more than the walk it saves.
 */
export function mayBeUnstorable (text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  if (text.includes('\\u')) return true
  let opens = 0
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1)) {
      if (++opens > maxDepth) return true
    }
  }
  return false
}

/**
 * Pure: one message per field of a parsed JSON body that nests deeper than maxDepth or holds a
 * string the store cannot keep, at most `limit` of them; [] when the body is storable.
 */
export function unstorableFields (body: unknown, maxDepth = MAX_JSON_DEPTH, limit = 5): string[] {
  const problems: string[] = []
  const deep = new Set<PropertyKey>()
  const stack: Node[] = [{ value: body, parent: undefined, key: undefined, depth: 1 }]
  while (stack.length > 0 && problems.length < limit) {
    const node = stack.pop() as Node
    const { value, depth } = node
    if (typeof value === 'string') {
      const problem = stringProblem(value)
      if (problem !== undefined) problems.push(`Invalid ${node.key === undefined ? 'body' : formatPath(pathOf(node))}: ${problem}`)
      continue
    }
    if (value === null || typeof value !== 'object') continue
    if (depth > maxDepth) {
      // Named by its top-level field: a 64-level path helps no one.
      const field = pathOf(node)[0] ?? 'body'
      if (!deep.has(field)) {
        deep.add(field)
        problems.push(`Invalid ${String(field)}: nested deeper than ${maxDepth} levels`)
      }
      continue
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], parent: node, key: i, depth: depth + 1 })
      continue
    }
    const keys = Object.keys(value)
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string
      const problem = stringProblem(key)
      if (problem !== undefined) {
        problems.push(`Invalid key ${JSON.stringify(key)}${node.key === undefined ? '' : ` in ${formatPath(pathOf(node))}`}: ${problem.replace('contains', 'it contains')}`)
        continue
      }
      stack.push({ value: (value as Record<string, unknown>)[key], parent: node, key, depth: depth + 1 })
    }
  }
  return problems
}
