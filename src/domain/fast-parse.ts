/**
 * A compiled fast path for a zod schema: the same output zod gives, for the inputs it is sure of,
 * or NOT_SURE, after which the caller runs zod itself (for its result and its messages). The zod
 * schema stays the one source of truth; this only walks its definition once and makes a plain
 * closure per node (an object's written out as one function of its fields), instead of zod's
 * generic per-node machinery on every call (a test notification's validation cost as much as the
 * rest of its handling).
 *
 * It compiles the node types the payload schemas use — object (loose or stripping), string with
 * trim/min/max, finite number, boolean, enum, unknown, optional, union (first option that
 * passes, as zod), array, record of string keys, pipe, transform, and refine — and refuses
 * (returns undefined: no fast path) any other, so a schema change can make it slower, never
 * wrong. At run time anything unusual is NOT_SURE: an absent required key, an own `__proto__`
 * key, a transform or refine answering with a promise. test/domain/fast-parse.test.ts checks,
 * over generated bodies, that every answer other than NOT_SURE is exactly zod's output.
 *
 * Pure: imports only zod's types.
 */
import type { z } from 'zod'

/** The fast path does not know: run zod. */
export const NOT_SURE: unique symbol = Symbol('not sure')

export type FastParse = (input: unknown) => unknown

type Node = (value: unknown) => unknown

interface Def {
  readonly type: string
  readonly checks?: ReadonlyArray<{ readonly _zod: { readonly def: CheckDef } }>
  readonly [key: string]: unknown
}
interface CheckDef {
  readonly check: string
  readonly [key: string]: unknown
}

const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (!isObject(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** A check compiled to a step over the value (undefined: a check this does not know). */
function compileCheck (check: CheckDef): ((value: unknown) => unknown) | undefined {
  const step = compileCheckStep(check)
  const when = check.when as ((payload: { value: unknown, issues: unknown[] }) => boolean) | undefined
  if (step === undefined || when === undefined) return step
  if (typeof when !== 'function') return undefined
  // A check with a condition (zod's own length checks have one) runs where zod would run it: on
  // this path no issue has been raised yet.
  return (v) => (when({ value: v, issues: [] }) ? step(v) : v)
}

function compileCheckStep (check: CheckDef): ((value: unknown) => unknown) | undefined {
  switch (check.check) {
    case 'overwrite': {
      const tx = check.tx as (v: unknown) => unknown
      return typeof tx === 'function' && tx.length <= 1 ? (v) => tx(v) : undefined
    }
    case 'min_length': {
      const min = check.minimum as number
      return (v) => ((v as { length: number }).length >= min ? v : NOT_SURE)
    }
    case 'max_length': {
      const max = check.maximum as number
      return (v) => ((v as { length: number }).length <= max ? v : NOT_SURE)
    }
    case 'custom': {
      const fn = check.fn as (v: unknown) => unknown
      if (typeof fn !== 'function' || fn.length > 1) return undefined
      return (v) => {
        const ok = fn(v)
        return ok === true ? v : NOT_SURE
      }
    }
    default:
      return undefined
  }
}

/** The node's own checks, run after it, in order. */
function withChecks (def: Def, node: Node): Node | undefined {
  const checks = def.checks ?? []
  if (checks.length === 0) return node
  const steps: Array<(v: unknown) => unknown> = []
  for (const c of checks) {
    const step = compileCheck(c._zod.def)
    if (step === undefined) return undefined
    steps.push(step)
  }
  return (value) => {
    let v = node(value)
    for (const step of steps) {
      if (v === NOT_SURE) return NOT_SURE
      v = step(v)
    }
    return v
  }
}

function compileNode (schema: unknown, generate: boolean): Node | undefined {
  const def = defOf(schema)
  const own = compileOwn(def, generate)
  return own === undefined ? undefined : withChecks(def, own)
}

function compileOwn (def: Def, generate: boolean): Node | undefined {
  if (def.coerce === true) return undefined
  switch (def.type) {
    case 'string':
      return (v) => (typeof v === 'string' ? v : NOT_SURE)
    case 'number':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : NOT_SURE)
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : NOT_SURE)
    case 'unknown':
      return (v) => v
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>))
      return (v) => (values.has(v) ? v : NOT_SURE)
    }
    case 'optional': {
      const inner = compileNode(def.innerType, generate)
      return inner === undefined ? undefined : (v) => (v === undefined ? undefined : inner(v))
    }
    case 'union': {
      const options = (def.options as unknown[]).map((o) => compileNode(o, generate))
      if (options.some((o) => o === undefined)) return undefined
      const compiled = options as Node[]
      return (v) => {
        for (const option of compiled) {
          const out = option(v)
          if (out !== NOT_SURE) return out
        }
        return NOT_SURE
      }
    }
    case 'array': {
      const element = compileNode(def.element, generate)
      if (element === undefined) return undefined
      return (v) => {
        if (!Array.isArray(v)) return NOT_SURE
        const out: unknown[] = new Array(v.length)
        for (let i = 0; i < v.length; i++) {
          const item = element(v[i])
          if (item === NOT_SURE) return NOT_SURE
          out[i] = item
        }
        return out
      }
    }
    case 'record': {
      // Only string keys to anything, as the payloads' JSON objects are.
      const key = defOf(def.keyType)
      const value = defOf(def.valueType)
      if (key.type !== 'string' || (key.checks ?? []).length > 0 || value.type !== 'unknown' || (value.checks ?? []).length > 0) return undefined
      return (v) => {
        if (!isPlainObject(v) || Object.hasOwn(v, '__proto__')) return NOT_SURE
        const out: Record<string, unknown> = {}
        for (const k of Object.keys(v)) out[k] = v[k]
        return out
      }
    }
    case 'pipe': {
      const input = compileNode(def.in, generate)
      const output = compileNode(def.out, generate)
      if (input === undefined || output === undefined) return undefined
      return (v) => {
        const mid = input(v)
        return mid === NOT_SURE ? NOT_SURE : output(mid)
      }
    }
    case 'transform': {
      const fn = def.transform as (v: unknown) => unknown
      if (typeof fn !== 'function' || fn.length > 1) return undefined
      return (v) => {
        const out = fn(v)
        return out instanceof Promise ? NOT_SURE : out
      }
    }
    case 'object':
      return compileObject(def, generate)
    default:
      return undefined
  }
}

function compileObject (def: Def, generate: boolean): Node | undefined {
  const catchall = def.catchall === undefined ? undefined : defOf(def.catchall)
  // Loose (extra keys kept as they are) or stripping (dropped); a strict or typed catchall is not compiled.
  if (catchall !== undefined && (catchall.type !== 'unknown' || (catchall.checks ?? []).length > 0)) return undefined
  const loose = catchall !== undefined
  const shape = def.shape as Record<string, unknown>
  const keys = Object.keys(shape)
  if (Object.getOwnPropertySymbols(shape).length > 0 || keys.includes('__proto__')) return undefined
  const fields: Array<{ key: string, optional: boolean, parse: Node }> = []
  for (const key of keys) {
    const parse = compileNode(shape[key], generate)
    if (parse === undefined) return undefined
    fields.push({ key, optional: defOf(shape[key]).type === 'optional', parse })
  }
  const known = new Set(keys)
  return (generate ? generatedObject(fields, loose, known) : undefined) ?? ((v) => {
    if (!isObject(v) || Object.hasOwn(v, '__proto__')) return NOT_SURE
    const out: Record<string, unknown> = {}
    for (const { key, optional, parse } of fields) {
      if (!(key in v)) {
        // An absent optional key contributes nothing; an absent required one is zod's to word.
        if (optional) continue
        return NOT_SURE
      }
      const value = parse(v[key])
      if (value === NOT_SURE) return NOT_SURE
      out[key] = value
    }
    if (loose) {
      for (const key of Object.keys(v)) if (!known.has(key)) out[key] = v[key]
    }
    return out
  })
}

/**
 * The same object parse as the closure above, written out as one function with a line per field.
 * The loop above reads, tests and writes every field through one keyed access and calls every
 * field's parse from one call site, so V8 can only treat them generically (megamorphic): a test
 * notification's 32 fields took ~4 µs, as long as its JSON.parse. Here each field has its own
 * constant key and its own call site, which V8 specialises and inlines. Only the schema's own
 * keys enter the source, each through JSON.stringify; nothing from a body does. Undefined (the
 * closure is used) where the runtime refuses code from strings
 * (`--disallow-code-generation-from-strings`).
 */
function generatedObject (fields: ReadonlyArray<{ key: string, optional: boolean, parse: Node }>, loose: boolean, known: ReadonlySet<string>): Node | undefined {
  const lines = fields.map(({ key, optional }, i) => {
    const k = JSON.stringify(key)
    return `  if (${k} in v) { x = f${i}(v[${k}]); if (x === NOT_SURE) return NOT_SURE; out[${k}] = x }${optional ? '' : ' else return NOT_SURE'}`
  })
  const source = [
    ...fields.map((_, i) => `const f${i} = parses[${i}]`),
    'return function fastObject (v) {',
    "  if (!isObject(v) || Object.hasOwn(v, '__proto__')) return NOT_SURE",
    '  const out = {}',
    '  let x',
    ...lines,
    ...(loose ? ['  for (const key of Object.keys(v)) if (!known.has(key)) out[key] = v[key]'] : []),
    '  return out',
    '}',
  ].join('\n')
  let make: (...args: unknown[]) => Node
  try {
    // eslint-disable-next-line no-new-func -- see above: generated from the schema's keys only
    make = new Function('NOT_SURE', 'isObject', 'known', 'parses', source) as (...args: unknown[]) => Node
  } catch {
    return undefined
  }
  return make(NOT_SURE, isObject, known, fields.map((f) => f.parse))
}

/**
 * The fast path of a schema, or undefined where it uses something this does not compile.
 * `generate: false` keeps every object a closure (the tests check both forms against zod).
 */
export function compileFastParse (schema: z.ZodType, options: { readonly generate?: boolean } = {}): FastParse | undefined {
  return compileNode(schema, options.generate ?? true)
}
