/**
 * The valid keys at a path of a zod schema, for "unknown key … (did you mean …?)". Follows the
 * wrappers (optional, default, prefault, pipe…) and picks a discriminated union's branch by the
 * data, so it works for the rules file and for any action's parameter schema. Pure.
 */
import type { z } from 'zod'
import type { PathSegment } from './positions.js'

interface Def {
  readonly type: string
  readonly innerType?: z.ZodType
  readonly in?: z.ZodType
  readonly shape?: Record<string, z.ZodType>
  readonly element?: z.ZodType
  readonly valueType?: z.ZodType
  readonly options?: readonly z.ZodType[]
  readonly discriminator?: string
  readonly left?: z.ZodType
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def

function unwrap (schema: z.ZodType, data: unknown): z.ZodType {
  let s = schema
  for (let i = 0; i < 20; i++) {
    const def = defOf(s)
    if (def.innerType !== undefined && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type)) s = def.innerType
    else if (def.type === 'pipe' && def.in !== undefined) s = def.in
    else if (def.type === 'union' && def.options !== undefined) {
      const d = def.discriminator
      const value = d !== undefined && typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[d] : undefined
      const picked = def.options.find((o) => {
        const shape = defOf(unwrap(o, undefined)).shape
        const literal = d === undefined ? undefined : shape?.[d]
        return literal !== undefined && (defOf(literal) as { values?: unknown[] }).values?.includes(value)
      })
      const objects = def.options.filter((o) => defOf(unwrap(o, undefined)).type === 'object')
      const next = picked ?? (objects.length === 1 ? objects[0] : undefined)
      if (next === undefined) return s
      s = next
    } else return s
  }
  return s
}

/** Pure: the keys an object at `path` may have, or undefined when no object schema is there. */
export function keysAt (schema: z.ZodType, path: readonly PathSegment[], data: unknown): string[] | undefined {
  let s = unwrap(schema, data)
  let value = data
  for (const segment of path) {
    const def = defOf(s)
    const child = def.type === 'object' ? def.shape?.[String(segment)] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined
    if (child === undefined) return undefined
    value = typeof value === 'object' && value !== null ? (value as Record<string | number, unknown>)[segment] : undefined
    s = unwrap(child, value)
  }
  const def = defOf(s)
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : undefined
}
