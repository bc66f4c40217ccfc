/**
 * Placeholders in a rule's `target` and an action's `with` (SPEC 5): `${tag:KEY}`,
 * `${event:PROPERTY}` (of the deployment event the entity's plan uses), `${entity:name}`,
 * `${entity:id}`, `${problem:id}`, `${problem:displayId}`, `${problem:title}`, and in `with` only
 * `${env:NAME}`. They are checked when the file loads and substituted when a run is planned,
 * except `${env:…}`: a plan keeps those as written (so no secret lands in a stored plan, a
 * comment or simulate's output) and the runner substitutes them just before it executes
 * (applyEnv). Substituted values are strings.
 *
 * One pass (SPEC 5): only the rule's own text is scanned. A value that came from Dynatrace or a
 * notification (a title, a name, a tag) is data: it is never scanned again, so a problem titled
 * `CPU ${env:DTR_ADMIN_TOKENS}` is sent with that literal text. Which `${env:…}` were in the
 * rule's text is recorded as EnvSites when the rule's text is substituted, and applyEnv fills in
 * exactly those: it never looks for a placeholder in a string.
 */
import { distance } from 'fastest-levenshtein'

const PLACEHOLDER_KINDS = ['tag', 'event', 'entity', 'problem', 'env'] as const
export type PlaceholderKind = (typeof PLACEHOLDER_KINDS)[number]

const NAMES: Partial<Record<PlaceholderKind, readonly string[]>> = {
  entity: ['id', 'name', 'type'],
  problem: ['id', 'displayId', 'title', 'severity', 'url'],
}

export interface Placeholder {
  readonly kind: PlaceholderKind
  readonly name: string
  /** As written, `${tag:k8s.namespace.name}`. */
  readonly text: string
}

const PATTERN = /\$\{([^}]*)\}/g
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Pure: every `${…}` in a string, as written. */
export function placeholderTexts (value: string): Array<{ readonly text: string, readonly inner: string }> {
  return [...value.matchAll(PATTERN)].map((m) => ({ text: m[0], inner: m[1] ?? '' }))
}

export type PlaceholderCheck = { readonly ok: true, readonly placeholder: Placeholder } | { readonly ok: false, readonly message: string }

/** Pure: whether `${inner}` is a placeholder allowed where it is written. */
export function checkPlaceholder (inner: string, where: 'target' | 'with'): PlaceholderCheck {
  const text = `\${${inner}}`
  const colon = inner.indexOf(':')
  const kind = (colon < 0 ? inner : inner.slice(0, colon)).trim() as PlaceholderKind
  const name = colon < 0 ? '' : inner.slice(colon + 1).trim()
  if (!PLACEHOLDER_KINDS.includes(kind)) {
    return { ok: false, message: `unknown placeholder ${text}: use \${tag:KEY}, \${event:PROPERTY}, \${entity:name|id}, \${problem:id|displayId|title}${where === 'with' ? ' or ${env:NAME}' : ''}` }
  }
  if (name === '') return { ok: false, message: `placeholder ${text} names nothing: write \${${kind}:…}` }
  const names = NAMES[kind]
  if (names !== undefined && !names.includes(name)) {
    const near = nearest(name, names)
    return { ok: false, message: `unknown placeholder ${text}${near === undefined ? '' : ` (did you mean \${${kind}:${near}}?)`}: ${kind} has ${names.join(', ')}` }
  }
  if (kind === 'env') {
    if (where !== 'with') return { ok: false, message: `${text}: \${env:…} is allowed only in an action's with (SPEC 5), so that no secret becomes a target or a condition` }
    if (!ENV_NAME.test(name)) return { ok: false, message: `${text}: "${name}" is not an environment variable name` }
  }
  return { ok: true, placeholder: { kind, name, text } }
}

/** What placeholders are substituted from when a run is planned. */
export interface PlaceholderValues {
  tag(key: string): string | undefined
  event(property: string): string | undefined
  readonly entity: Readonly<Record<string, string | undefined>>
  readonly problem: Readonly<Record<string, string | undefined>>
}

export interface Substituted<T> {
  readonly value: T
  /** Placeholders that had no value, as written. */
  readonly missing: readonly string[]
}

function lookup (values: PlaceholderValues, p: Placeholder): string | undefined {
  switch (p.kind) {
    case 'tag': return values.tag(p.name)
    case 'event': return values.event(p.name)
    case 'entity': return values.entity[p.name]
    case 'problem': return values.problem[p.name]
    case 'env': return undefined
  }
}

/** One piece of a substituted string: text (the rule's and data, already final) or an `${env:NAME}` of the rule's text. */
export type EnvPart = string | { readonly env: string }

/** A string of the substituted parameters that held `${env:…}` in the rule's own text: where it is, and its pieces. */
export interface EnvSite {
  readonly path: ReadonlyArray<string | number>
  readonly parts: readonly EnvPart[]
}

export interface SubstitutedString extends Substituted<string> {
  /** The pieces, when the template held at least one `${env:…}`. */
  readonly parts: readonly EnvPart[] | undefined
}

/** Pure: substitutes every placeholder but `${env:…}`, which stays as written; one pass over the template only. */
export function substituteString (template: string, values: PlaceholderValues): SubstitutedString {
  const missing: string[] = []
  const parts: EnvPart[] = []
  let text = ''
  let hasEnv = false
  let last = 0
  for (const m of template.matchAll(PATTERN)) {
    const at = m.index
    text += template.slice(last, at)
    last = at + m[0].length
    const check = checkPlaceholder(m[1] ?? '', 'with')
    if (check.ok && check.placeholder.kind === 'env') {
      hasEnv = true
      parts.push(text, { env: check.placeholder.name })
      text = ''
      continue
    }
    const v = check.ok ? lookup(values, check.placeholder) : undefined
    if (check.ok && v === undefined) missing.push(m[0])
    // The value is appended as data: the loop goes on in the template, never in what was inserted.
    text += v ?? m[0]
  }
  text += template.slice(last)
  parts.push(text)
  const value = parts.map((p) => typeof p === 'string' ? p : `\${env:${p.env}}`).join('')
  return { value, missing, parts: hasEnv ? parts.filter((p) => p !== '') : undefined }
}

export interface SubstitutedDeep extends Substituted<unknown> {
  /** Where the rule's text had `${env:…}`: what applyEnv fills in at the last moment. */
  readonly envSites: readonly EnvSite[]
}

/** Pure: substituteString over every string of a JSON-like value (keys are left alone). */
export function substituteDeep (value: unknown, values: PlaceholderValues): SubstitutedDeep {
  const missing: string[] = []
  const envSites: EnvSite[] = []
  const walk = (v: unknown, path: Array<string | number>): unknown => {
    if (typeof v === 'string') {
      const s = substituteString(v, values)
      missing.push(...s.missing)
      if (s.parts !== undefined) envSites.push({ path, parts: s.parts })
      return s.value
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]))
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]))
    return v
  }
  return { value: walk(value, []), missing, envSites }
}

/**
 * Pure: the substituted parameters with the `${env:NAME}` of the rule's text (its EnvSites)
 * filled in from `env`. Nothing else is looked at: a `${env:…}` that a value brought stays text.
 */
export function applyEnv (value: unknown, sites: readonly EnvSite[], env: Readonly<Record<string, string | undefined>>): Substituted<unknown> {
  const missing: string[] = []
  const copy = structuredClone(value)
  let root: unknown = copy
  for (const site of sites) {
    const text = site.parts.map((p) => {
      if (typeof p === 'string') return p
      const found = env[p.env]
      if (found === undefined || found === '') {
        missing.push(`\${env:${p.env}}`)
        return `\${env:${p.env}}`
      }
      return found
    }).join('')
    if (site.path.length === 0) {
      root = text
      continue
    }
    let at: unknown = root
    for (const key of site.path.slice(0, -1)) at = typeof at === 'object' && at !== null ? (at as Record<string | number, unknown>)[key] : undefined
    const lastKey = site.path[site.path.length - 1] as string | number
    if (typeof at === 'object' && at !== null) (at as Record<string | number, unknown>)[lastKey] = text
  }
  return { value: root, missing }
}

/**
 * Pure: substitutes `${env:NAME}` from `env` everywhere in a JSON-like value. Only for text that
 * is all the rule's own (an example `with`): parameters that hold substituted values go through
 * substituteDeep's EnvSites and applyEnv instead.
 */
export function substituteEnv (value: unknown, env: Readonly<Record<string, string | undefined>>): Substituted<unknown> {
  const missing: string[] = []
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(PATTERN, (text, inner: string) => {
        const check = checkPlaceholder(inner, 'with')
        if (!check.ok || check.placeholder.kind !== 'env') return text
        const found = env[check.placeholder.name]
        if (found === undefined || found === '') {
          missing.push(text)
          return text
        }
        return found
      })
    }
    if (Array.isArray(v)) return v.map(walk)
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  return { value: walk(value), missing }
}

/** Pure: the closest of `candidates` to `word` (edit distance, or equal ignoring case), if close enough. */
export function nearest (word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : distance(word, c)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}
