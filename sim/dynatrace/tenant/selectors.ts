/**
 * The entity selector, as the Environment API v2 reads it: criteria separated by commas, all of
 * which must hold (`type("SERVICE"),tag("env:prod")`); values quoted or bare, `~` escaping a quote
 * or a tilde inside quotes; relationship criteria taking a whole selector as their argument
 * (`fromRelationships.runsOn(type(PROCESS_GROUP),toRelationships.isNamespaceOfPg(…))`); `not(…)`
 * and `caseSensitive(…)` taking one criterion.
 *
 * Parsing is pure and gives a tree; matching takes the entity graph as a parameter. Every
 * criterion the simulator does not implement is a 400 naming the ones it does, never ignored.
 */
import { SimBadRequest, parseTime, readQuoted } from '../query.js'
import type { SimEntity } from './model.js'
import { parseTag } from './model.js'

export type Criterion =
  | { readonly kind: 'values', readonly name: string, readonly values: readonly string[] }
  | { readonly kind: 'selector', readonly name: string, readonly selector: readonly Criterion[] }

/** What matching needs from the tenant. */
export interface EntityGraph {
  readonly entities: ReadonlyMap<string, SimEntity>
  /** Ids of the entities related to `id` where `id` is in the `position` of `relation`. */
  related(id: string, position: 'from' | 'to', relation: string): readonly string[]
  readonly now: number
}

const RELATION = /^(from|to)Relationships?\.([A-Za-z]\w*)$/
const NESTED = (name: string): boolean => RELATION.test(name) || name === 'not' || name === 'caseSensitive'

export const SUPPORTED_CRITERIA = 'type, entityId, entityName, entityName.equals, entityName.startsWith, entityName.in, caseSensitive(…), tag, mzId, mzName, firstSeenTms.lt/lte/gt/gte, <property>(…), <property>.exists(), fromRelationships.<name>(…), toRelationships.<name>(…), not(…)'

/** Pure: parses an entity selector into its criteria; a SimBadRequest on `parameter` when malformed. */
export function parseEntitySelector (parameter: string, input: string): Criterion[] {
  if (input.length > 2000) throw new SimBadRequest(parameter, `${parameter} is limited to 2000 characters`)
  let i = 0
  const fail = (why: string): never => { throw new SimBadRequest(parameter, `Invalid ${parameter} "${input}" at ${i}: ${why}`) }
  const space = (): void => { while (input[i] === ' ') i++ }

  const value = (): string => {
    space()
    if (input[i] === '"') {
      const quoted = readQuoted(input, i) ?? fail('unterminated quote')
      i = quoted.end
      space()
      return quoted.value
    }
    const start = i
    while (i < input.length && input[i] !== ',' && input[i] !== ')') i++
    return input.slice(start, i).trim()
  }

  const criterion = (): Criterion => {
    space()
    const m = /^[A-Za-z][\w.-]*/.exec(input.slice(i))
    if (m === null) return fail('expected a criterion such as type("SERVICE")')
    const name = m[0]
    i += name.length
    space()
    if (input[i] !== '(') fail(`expected "(" after ${name}`)
    i++
    if (NESTED(name)) {
      const selector = list(')')
      i++
      return { kind: 'selector', name, selector }
    }
    const values: string[] = []
    space()
    if (input[i] === ')') { i++; return { kind: 'values', name, values } }
    for (;;) {
      values.push(value())
      if (input[i] === ',') { i++; continue }
      if (input[i] === ')') { i++; break }
      fail('expected "," or ")"')
    }
    return { kind: 'values', name, values }
  }

  /** Criteria separated by commas, up to `end` (not consumed) or the end of the input. */
  const list = (end: ')' | undefined): Criterion[] => {
    const out: Criterion[] = [criterion()]
    for (;;) {
      space()
      if (i >= input.length) {
        if (end !== undefined) fail(`missing "${end}"`)
        return out
      }
      if (input[i] === end) return out
      if (input[i] !== ',') fail('criteria must be separated by ","')
      i++
      out.push(criterion())
    }
  }

  if (input.trim() === '') fail('empty selector')
  return list(undefined)
}

/** Pure: requires `type` or `entityId` at the top of a selector, as Dynatrace does. */
function requireScope (parameter: string, criteria: readonly Criterion[]): void {
  if (!criteria.some((c) => c.name === 'type' || c.name === 'entityId')) {
    throw new SimBadRequest(parameter, `${parameter} must contain type(…) or entityId(…)`)
  }
}

/** The entities of `graph` that the selector selects, in the graph's order. */
export function selectEntities (graph: EntityGraph, parameter: string, input: string): SimEntity[] {
  const criteria = parseEntitySelector(parameter, input)
  return select(graph, parameter, criteria)
}

function select (graph: EntityGraph, parameter: string, criteria: readonly Criterion[]): SimEntity[] {
  requireScope(parameter, criteria)
  const tests = criteria.map((c) => compile(graph, parameter, c, false))
  return [...graph.entities.values()].filter((e) => tests.every((test) => test(e)))
}

type Test = (e: SimEntity) => boolean

function compile (graph: EntityGraph, parameter: string, c: Criterion, caseSensitive: boolean): Test {
  const bad = (why: string): never => { throw new SimBadRequest(parameter, why) }
  if (c.kind === 'selector') {
    const rel = RELATION.exec(c.name)
    if (rel !== null) {
      const position = rel[1] === 'from' ? 'from' : 'to'
      const relation = rel[2] ?? ''
      const targets = new Set(select(graph, parameter, c.selector).map((e) => e.entityId))
      return (e) => graph.related(e.entityId, position, relation).some((id) => targets.has(id))
    }
    const [inner, ...more] = c.selector
    if (inner === undefined || more.length > 0) bad(`${c.name}(…) takes exactly one criterion`)
    if (c.name === 'not') {
      if (inner?.name === 'type') bad('not(…) cannot invert type(…)')
      const test = compile(graph, parameter, inner as Criterion, caseSensitive)
      return (e) => !test(e)
    }
    if (!(inner?.name ?? '').startsWith('entityName')) bad('caseSensitive(…) takes an entityName criterion')
    return compile(graph, parameter, inner as Criterion, true)
  }
  const { name, values } = c
  const one = (): string => {
    if (values.length !== 1) bad(`${name}(…) takes exactly one value`)
    return values[0] ?? ''
  }
  const fold = (s: string): string => caseSensitive ? s : s.toLowerCase()
  switch (name) {
    case 'type': {
      const type = one().toUpperCase()
      return (e) => e.type === type
    }
    case 'entityId': {
      if (values.length === 0) bad('entityId(…) needs at least one id')
      const types = new Set(values.map((v) => v.split('-')[0]))
      if (types.size > 1) bad('All requested entities must be of the same type')
      return (e) => values.includes(e.entityId)
    }
    case 'entityName': {
      const v = fold(one())
      return (e) => fold(e.displayName).includes(v)
    }
    case 'entityName.equals': {
      const v = fold(one())
      return (e) => fold(e.displayName) === v
    }
    case 'entityName.startsWith': {
      const v = fold(one())
      return (e) => fold(e.displayName).startsWith(v)
    }
    case 'entityName.in': {
      const vs = values.map(fold)
      return (e) => vs.includes(fold(e.displayName))
    }
    case 'tag': {
      const wanted = values.map(parseTag)
      return (e) => wanted.some((w) => e.tags.some((t) =>
        t.key === w.key &&
        (w.value === undefined || t.value === w.value) &&
        (w.context === 'CONTEXTLESS' || t.context === w.context)))
    }
    case 'mzId': return (e) => e.managementZones.some((z) => values.includes(z.id))
    case 'mzName': return (e) => e.managementZones.some((z) => values.includes(z.name))
    case 'firstSeenTms.lt':
    case 'firstSeenTms.lte':
    case 'firstSeenTms.gt':
    case 'firstSeenTms.gte': {
      const at = parseTime(parameter, one(), graph.now)
      const op = name.slice('firstSeenTms.'.length)
      return (e) => op === 'lt' ? e.firstSeenTms < at : op === 'lte' ? e.firstSeenTms <= at : op === 'gt' ? e.firstSeenTms > at : e.firstSeenTms >= at
    }
    default:
      return attribute(graph, parameter, name, values)
  }
}

/**
 * `<property>("a","b")` (the property equals one of the values; for a list, one of its items
 * does) and `<property>.exists()`. A property is known when some entity of the tenant has it;
 * any other name is an unsupported criterion.
 */
function attribute (graph: EntityGraph, parameter: string, name: string, values: readonly string[]): Test {
  const exists = name.endsWith('.exists')
  const key = exists ? name.slice(0, -'.exists'.length) : name
  const known = [...graph.entities.values()].some((e) => Object.hasOwn(e.properties, key))
  if (!known || key.includes('.')) {
    throw new SimBadRequest(parameter, `The simulator does not support the ${parameter} criterion "${name}" (supported: ${SUPPORTED_CRITERIA}; <property> must be a property some entity has)`)
  }
  if (exists) return (e) => e.properties[key] !== undefined
  const matches = (v: unknown): boolean => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && values.includes(String(v))
  return (e) => {
    const v = e.properties[key]
    return Array.isArray(v) ? v.some(matches) : matches(v)
  }
}
