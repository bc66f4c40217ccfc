/**
 * The rules-file reference in docs/rules.md, rendered from the zod schema (schema.ts): one table
 * per map, with each key's type, default and description, so the page cannot drift from what
 * the parser accepts (test/docs/rules-reference.test.ts compares them). Pure.
 */
import type { z } from 'zod'
import { formatDuration } from './duration.js'
import { budgetSchema, defaultsSchema, kubernetesSchema, problemRuleSchema, problemWhenSchema, rulesFileSchema, securityWhenSchema, targetSchema, actionStepSchema } from './schema.js'

interface Def {
  readonly type: string
  readonly innerType?: z.ZodType
  readonly in?: z.ZodType
  readonly out?: z.ZodType
  readonly element?: z.ZodType
  readonly shape?: Record<string, z.ZodType>
  readonly entries?: Record<string, string>
  readonly values?: readonly unknown[]
  readonly defaultValue?: unknown
  readonly format?: string
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def
const metaOf = (s: z.ZodType): { description?: string, format?: string } | undefined => (s as unknown as { meta(): { description?: string, format?: string } | undefined }).meta()

interface Field {
  readonly type: string
  readonly required: boolean
  readonly default: string | undefined
  readonly description: string
}

function field (schema: z.ZodType): Field {
  let s = schema
  let required = true
  let dflt: string | undefined
  let description = metaOf(s)?.description
  let duration = false
  for (let i = 0; i < 10; i++) {
    const def = defOf(s)
    description ??= metaOf(s)?.description
    if (metaOf(s)?.format === 'duration') duration = true
    if (def.type === 'optional') required = false
    else if (def.type === 'default') {
      required = false
      const v = def.defaultValue
      dflt = typeof v === 'number' && duration ? formatDuration(v) : Array.isArray(v) ? `[${v.join(', ')}]` : typeof v === 'string' ? `\`${v}\`` : JSON.stringify(v)
    } else if (def.type === 'prefault') required = false
    else break
    s = def.innerType as z.ZodType
  }
  if (metaOf(s)?.format === 'duration') duration = true
  if (dflt !== undefined && duration && /^\d+$/.test(dflt)) dflt = formatDuration(Number(dflt))
  return { type: typeName(s), required, default: dflt, description: description ?? '' }
}

function typeName (s: z.ZodType): string {
  const def = defOf(s)
  if (metaOf(s)?.format === 'duration') return 'duration'
  switch (def.type) {
    case 'string': return 'string'
    case 'number': return def.format === 'safeint' ? 'integer' : 'number'
    case 'boolean': return 'boolean'
    case 'enum': return Object.values(def.entries ?? {}).map((v) => `\`${v}\``).join(', ')
    case 'literal': return (def.values ?? []).map((v) => `\`${String(v)}\``).join(', ')
    case 'array': return `list of ${typeName(def.element as z.ZodType)}`
    case 'object': return 'map'
    case 'record': return 'map'
    case 'union': return 'map'
    case 'pipe': {
      const out = defOf(def.out as z.ZodType)
      if (metaOf(def.in as z.ZodType)?.format === 'duration' || metaOf(s)?.format === 'duration') return 'duration'
      return out.type === 'enum' ? typeName(def.out as z.ZodType) : typeName(def.in as z.ZodType)
    }
    default: return def.type
  }
}

function table (title: string, intro: string, schema: z.ZodType, types: Record<string, string> = {}): string {
  const shape = defOf(schema).shape ?? {}
  const rows = Object.entries(shape).map(([key, s]) => {
    const f = { ...field(s), ...(types[key] === undefined ? {} : { type: types[key] }) }
    const dflt = f.required ? '**required**' : f.default ?? '—'
    return `| \`${key}\` | ${f.type} | ${dflt} | ${f.description.replace(/\|/g, '\\|')} |`
  })
  return [`### ${title}`, '', ...(intro === '' ? [] : [intro, '']), '| key | type | default | meaning |', '| --- | --- | --- | --- |', ...rows, ''].join('\n')
}

/** Pure: the generated part of docs/rules.md. */
export function rulesReference (): string {
  const { on: _on, when: _when, ...ruleCommon } = defOf(problemRuleSchema).shape ?? {}
  const ruleShape = { on: (defOf(problemRuleSchema).shape ?? {}).on, ...ruleCommon, when: (defOf(problemRuleSchema).shape ?? {}).when } as Record<string, z.ZodType>
  const ruleTable = { _zod: { def: { type: 'object', shape: ruleShape } } } as unknown as z.ZodType
  return [
    table('Top level', 'Every key is optional; an empty file is valid (no rules, dry-run).', rulesFileSchema),
    table('`defaults`', 'Apply to every rule that does not override them.', defaultsSchema),
    table('`budgets[]`', 'Each entry limits live runs that reached `running` within a sliding window.', budgetSchema),
    table('`kubernetes`', '', kubernetesSchema),
    table('`kubernetes.namespaces`', '', defOf(defOf(kubernetesSchema).shape?.namespaces as z.ZodType).innerType as z.ZodType),
    table('`rules[]`', 'One rule. `when` depends on `on`: see the next two tables.', ruleTable, { on: '`problem`, `security`' }),
    table('`rules[].when` with `on: problem`', 'Every condition given must hold; problem conditions are checked first, then each impacted entity.', problemWhenSchema),
    table('`rules[].when` with `on: security`', '', securityWhenSchema),
    table('`rules[].target`', 'All three are needed; see "Target resolution" for what happens without it.', targetSchema),
    table('`rules[].actions[]`', 'One step of the ladder.', actionStepSchema),
  ].join('\n')
}
