/**
 * How the simulator reads query parameters the way Dynatrace does: selectors
 * (`type("SERVICE"),entityId("A","B")`, values quoted with `~` escapes), timeframes (`now-2h`,
 * epoch milliseconds, ISO timestamps), and paging keys. Pure; every failure is a SimBadRequest
 * that the app turns into Dynatrace's 400 envelope with a constraint violation.
 */
import { Buffer } from 'node:buffer'

export class SimBadRequest extends Error {
  constructor (readonly parameter: string, message: string, readonly location: 'QUERY' | 'PAYLOAD_BODY' | 'PATH' = 'QUERY') {
    super(message)
    this.name = 'SimBadRequest'
  }
}

export interface Criterion {
  readonly name: string
  readonly values: readonly string[]
}

/**
 * Pure: the quoted value opening at input[at] (a `"`), with Dynatrace's `~` escapes undone, and
 * the index just after its closing quote; undefined when the quote never closes.
 */
export function readQuoted (input: string, at: number): { value: string, end: number } | undefined {
  let value = ''
  let i = at + 1
  while (i < input.length && input[i] !== '"') {
    if (input[i] === '~') i++
    value += input[i] ?? ''
    i++
  }
  return input[i] === '"' ? { value, end: i + 1 } : undefined
}

/** Pure: parses a selector string into its criteria. */
/** The Environment API's longest selector: "The maximum string length is 2,000 characters" (env-v2.json). */
export const MAX_SELECTOR_LENGTH = 2000

export function parseSelector (parameter: string, input: string): Criterion[] {
  // Refused as the API refuses a bean-validation failure: 400, "Constraints violated.", and a
  // violation naming the parameter. A client that builds one selector for thousands of ids meets it here.
  if (input.length > MAX_SELECTOR_LENGTH) throw new SimBadRequest(parameter, `size must be between 0 and ${MAX_SELECTOR_LENGTH}`)
  const out: Criterion[] = []
  let i = 0
  const fail = (why: string): never => { throw new SimBadRequest(parameter, `Invalid ${parameter} "${input}": ${why}`) }
  const skipSpace = (): void => { while (input[i] === ' ') i++ }
  while (i < input.length) {
    skipSpace()
    const open = input.indexOf('(', i)
    if (open < 0) fail('expected name("value")')
    const name = input.slice(i, open).trim()
    if (!/^[A-Za-z][\w.-]*$/.test(name)) fail(`bad criterion name "${name}"`)
    i = open + 1
    const values: string[] = []
    for (;;) {
      skipSpace()
      if (input[i] === '"') {
        const quoted = readQuoted(input, i) ?? fail('unterminated quote')
        i = quoted.end
        values.push(quoted.value)
      } else {
        const end = input.slice(i).search(/[,)]/)
        if (end < 0) fail('missing ")"')
        const v = input.slice(i, i + end).trim()
        if (v !== '') values.push(v)
        i += end
      }
      skipSpace()
      if (input[i] === ',') { i++; continue }
      if (input[i] === ')') { i++; break }
      fail('expected "," or ")"')
    }
    out.push({ name, values })
    skipSpace()
    if (i < input.length) {
      if (input[i] !== ',') fail('criteria must be separated by ","')
      i++
    }
  }
  if (out.length === 0) fail('empty selector')
  return out
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 }

/** Pure: a timeframe bound as Dynatrace accepts it, in epoch milliseconds. */
export function parseTime (parameter: string, value: string, now: number): number {
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v)
  const rel = /^now(?:-(\d+)([smhdwMy]))?$/.exec(v)
  if (rel !== null) return rel[1] === undefined ? now : now - Number(rel[1]) * (UNITS[rel[2] ?? 'm'] ?? 0)
  const at = Date.parse(v)
  if (Number.isNaN(at)) throw new SimBadRequest(parameter, `Invalid ${parameter} "${value}": use epoch milliseconds, an ISO timestamp or now-<n><unit>`)
  return at
}

export interface PageRequest {
  readonly offset: number
  readonly pageSize: number
  /** The query of the first page, replayed for later pages. */
  readonly query: Readonly<Record<string, string>>
}

/**
 * Pure: resolves paging. Dynatrace wants `nextPageKey` alone (only `fields` may accompany it);
 * the key encodes the original query, the page size and the offset, so the simulator stays
 * stateless across pages.
 */
export function readPage (query: Readonly<Record<string, string | undefined>>, limits: { default: number, max: number }): PageRequest {
  const key = query.nextPageKey
  if (key !== undefined) {
    const others = Object.keys(query).filter((k) => k !== 'nextPageKey' && k !== 'fields' && query[k] !== undefined)
    if (others.length > 0) throw new SimBadRequest('nextPageKey', `nextPageKey must not be combined with other query parameters (got ${others.join(', ')})`)
    try {
      const decoded = JSON.parse(Buffer.from(key, 'base64url').toString('utf8')) as { o?: unknown, s?: unknown, q?: unknown }
      if (typeof decoded.o !== 'number' || typeof decoded.s !== 'number' || typeof decoded.q !== 'object' || decoded.q === null) throw new Error('shape')
      return { offset: decoded.o, pageSize: decoded.s, query: decoded.q as Record<string, string> }
    } catch {
      throw new SimBadRequest('nextPageKey', 'nextPageKey is invalid')
    }
  }
  let pageSize = limits.default
  if (query.pageSize !== undefined) {
    if (!/^\d+$/.test(query.pageSize)) throw new SimBadRequest('pageSize', 'pageSize must be an integer')
    pageSize = Number(query.pageSize)
    if (pageSize < 1 || pageSize > limits.max) throw new SimBadRequest('pageSize', `pageSize must be between 1 and ${limits.max}`)
  }
  const rest: Record<string, string> = {}
  for (const [k, v] of Object.entries(query)) if (v !== undefined && k !== 'pageSize') rest[k] = v
  return { offset: 0, pageSize, query: rest }
}

/** Pure: one page of `items` and the key of the next page, if any. */
export function slicePage<T> (items: readonly T[], page: PageRequest): { items: T[], nextPageKey: string | undefined } {
  const end = page.offset + page.pageSize
  const nextPageKey = end < items.length
    ? Buffer.from(JSON.stringify({ o: end, s: page.pageSize, q: page.query }), 'utf8').toString('base64url')
    : undefined
  return { items: items.slice(page.offset, end), nextPageKey }
}
