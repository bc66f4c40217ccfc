/**
 * parseRules(text, options): the rules file (SPEC 5) from its text to LoadedRules, or every error
 * found, each with the file, line, column, path and reason. Pure: reading the file, the
 * environment and the custom actions is the caller's job (src/sdk/rules-file.ts).
 *
 * The checks, in order, all collected rather than stopping at the first:
 *  1. YAML syntax (duplicate keys included);
 *  2. the zod schema (schema.ts): types, durations, enums, unknown keys with a suggestion;
 *  3. what the schema cannot see: unique rule names, `title` regexes, placeholders (unknown names,
 *     `${env:…}` outside `with`), unknown actions, each `with` against its action's own schema,
 *     literal and `${env:…}` hosts of URL parameters against DTR_HTTP_ALLOWED_HOSTS, and the
 *     dispatcher: a rule's entityTypes must all be handled by each of its actions.
 * Warnings never stop a load (`check-config --strict` makes them errors): a rule whose `with`
 * reads an unset `${env:…}` is disabled; approval without DTR_ADMIN_TOKENS.
 */
import type { z } from 'zod'
import { describeAllowedHosts, hostRefusal, type AllowedHost } from '../hosts.js'
import type { Mode } from '../mode.js'
import { parseTag } from '../tags.js'
import { checkPlaceholder, nearest, placeholderTexts } from './placeholders.js'
import { formatPath, parseYaml, sourceMap, yamlData, type ParsedYaml, type PathSegment, type SourceMap } from './positions.js'
import { keysAt } from './schema-walk.js'
import { rulesFileSchema, type RuleSpec, type RulesFile } from './schema.js'
import type { ActionCatalog, ActionSpec, Diagnostic, LadderStep, LoadedRule, LoadedRules } from './types.js'

export interface ParseRulesOptions {
  /** The file's name as errors should show it. */
  readonly file: string
  /** For `${env:…}` in `with`: which are set (and their values, for host checks). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly actions: ActionCatalog
  /** DTR_HTTP_ALLOWED_HOSTS. */
  readonly allowedHosts: readonly AllowedHost[]
  /** Whether DTR_ADMIN_TOKENS is set (approval needs it). Default false. */
  readonly adminTokensSet?: boolean
  /** DTR_MODE, which overrides the file's `mode`. */
  readonly modeOverride?: Mode | undefined
  /** The text already parsed (parseYaml), when another reader of it parsed it first. */
  readonly parsed?: ParsedYaml
}

export type ParseRulesResult =
  | { readonly ok: true, readonly rules: LoadedRules, readonly warnings: readonly Diagnostic[] }
  | { readonly ok: false, readonly errors: readonly Diagnostic[], readonly warnings: readonly Diagnostic[] }

/** Pure: `rules.yaml:12:7: rules[0].when.deployedWithin: "10x" is not a duration: …`. */
export function formatDiagnostic (d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file
  return `${where}: ${d.path === '' ? '' : `${d.path}: `}${d.message}`
}

/**
 * Pure: the `plugins:` list as written, read leniently so custom actions can be loaded before the
 * full parse (which needs them to check `with`). A malformed list gives [] here and its errors
 * from parseRules.
 */
export function rulesPlugins (text: string, parsed: ParsedYaml = parseYaml(text)): string[] {
  const { doc, lines } = parsed
  if (doc.errors.length > 0) return []
  const data = yamlData(doc, lines)
  const value = data.ok ? (data.data as { plugins?: unknown } | null)?.plugins : undefined
  return Array.isArray(value) ? value.filter((p): p is string => typeof p === 'string' && p.trim() !== '').map((p) => p.trim()) : []
}

const byPlace = (a: Diagnostic, b: Diagnostic): number => a.line - b.line || a.column - b.column

class Collector {
  readonly errors: Diagnostic[] = []
  readonly warnings: Diagnostic[] = []
  constructor (readonly file: string, readonly map: SourceMap | undefined) {}

  at (path: readonly PathSegment[], message: string, options: { key?: boolean } = {}): Diagnostic {
    const where = this.map?.locate(path, options) ?? { line: 0, column: 0 }
    return { file: this.file, line: where.line, column: where.column, path: formatPath(path), message }
  }

  error (path: readonly PathSegment[], message: string, options?: { key?: boolean }): void { this.errors.push(this.at(path, message, options)) }
  warn (path: readonly PathSegment[], message: string, options?: { key?: boolean }): void { this.warnings.push(this.at(path, message, options)) }
}

function valueAt (data: unknown, path: readonly PathSegment[]): unknown {
  let v = data
  for (const s of path) v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[s] : undefined
  return v
}

/** Reports zod issues at their place, with suggestions for unknown keys. */
function reportIssues (out: Collector, schema: z.ZodType, data: unknown, issues: readonly z.core.$ZodIssue[], prefix: readonly PathSegment[], skip: (path: readonly PathSegment[]) => boolean = () => false): void {
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
    if (skip(path)) continue
    const full = [...prefix, ...path]
    if (issue.code === 'unrecognized_keys') {
      const valid = keysAt(schema, path, data) ?? []
      for (const key of issue.keys) {
        const near = nearest(key, valid)
        out.error([...full, key], `unknown key "${key}"${near === undefined ? '' : ` (did you mean "${near}"?)`}${valid.length === 0 ? '' : `; valid keys: ${valid.join(', ')}`}`, { key: true })
      }
      continue
    }
    const value = valueAt(data, path)
    if (issue.code === 'invalid_union' && (issue as { discriminator?: string }).discriminator !== undefined) {
      const d = (issue as { discriminator: string }).discriminator
      const options = ((issue as { options?: unknown[] }).options ?? []).map(String)
      const given = valueAt(data, path)
      if (given === undefined) out.error(full.slice(0, -1), `missing key "${d}": ${options.join(' or ')}`)
      else out.error(full, `${d} must be ${options.join(' or ')} (got ${JSON.stringify(given)})`)
      continue
    }
    if (value === undefined && issue.code === 'invalid_type' && path.length > 0) {
      out.error(full.slice(0, -1), `missing required key "${String(path[path.length - 1])}"`)
      continue
    }
    out.error(full, issue.message)
  }
}

/** Every string of a JSON-like value with its path. */
function strings (value: unknown, path: readonly PathSegment[] = []): Array<{ path: PathSegment[], value: string }> {
  if (typeof value === 'string') return [{ path: [...path], value }]
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, [...path, i]))
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => strings(v, [...path, k]))
  return []
}

const isPrefix = (a: readonly PathSegment[], b: readonly PathSegment[]): boolean => a.length <= b.length && a.every((s, i) => String(s) === String(b[i]))

interface RuleCheck {
  readonly env: string[]
  readonly unsetEnv: string[]
}

/** The `with` of one ladder step: placeholders, env, the action's schema, allowed hosts. */
function checkStep (out: Collector, options: ParseRulesOptions, action: ActionSpec, raw: Record<string, unknown>, at: PathSegment[], found: RuleCheck): void {
  const deferred: PathSegment[][] = []
  const probe = structuredClone(raw)
  for (const s of strings(raw)) {
    let hasDeferred = false
    let substituted = s.value
    for (const p of placeholderTexts(s.value)) {
      const check = checkPlaceholder(p.inner, 'with')
      if (!check.ok) {
        out.error([...at, ...s.path], check.message)
        hasDeferred = true
        continue
      }
      if (check.placeholder.kind !== 'env') {
        hasDeferred = true
        continue
      }
      const name = check.placeholder.name
      if (!found.env.includes(name)) found.env.push(name)
      const value = options.env[name]
      if (value === undefined || value === '') {
        if (!found.unsetEnv.includes(name)) found.unsetEnv.push(name)
        out.warn([...at, ...s.path], `${p.text} is not set`)
        hasDeferred = true
      } else {
        substituted = substituted.split(p.text).join(value)
      }
    }
    if (hasDeferred) deferred.push(s.path)
    else if (s.path.length > 0) setAt(probe, s.path, substituted)
  }

  const parsed = action.params.safeParse(probe)
  if (!parsed.success) {
    // A value with a placeholder is checked once substituted, at plan time.
    reportIssues(out, action.params, probe, parsed.error.issues, at, (path) => deferred.some((d) => isPrefix(d, path) || isPrefix(path, d)))
  }

  for (const param of action.urlParams ?? []) {
    const value = raw[param]
    if (typeof value !== 'string') continue
    let url = value
    let unset = false
    for (const p of placeholderTexts(value)) {
      const check = checkPlaceholder(p.inner, 'with')
      if (check.ok && check.placeholder.kind === 'env') {
        const v = options.env[check.placeholder.name]
        if (v === undefined || v === '') unset = true
        else url = url.split(p.text).join(v)
      }
    }
    if (unset) continue
    // A host that comes from a placeholder is checked at plan time; any other placeholder
    // (in the path or query) cannot change the host.
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)
    if (url.startsWith('${') || (authority?.[1] ?? '').includes('${')) continue
    const refusal = hostRefusal(url.replace(/\$\{[^}]*\}/g, 'x'), options.allowedHosts)
    if (refusal !== undefined) out.error([...at, param], `${refusal}${refusal.startsWith('host not allowed') ? '' : ` (allowed hosts: ${describeAllowedHosts(options.allowedHosts)})`}`)
  }
}

function setAt (target: unknown, path: readonly PathSegment[], value: unknown): void {
  let node = target as Record<string | number, unknown>
  for (const s of path.slice(0, -1)) node = node[s] as Record<string | number, unknown>
  node[path[path.length - 1] as PathSegment] = value
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const stringList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

/**
 * The checks the schema cannot make. They read the raw rule, guarding each type, so that a rule
 * with a schema error (an unknown key, say) still has its other mistakes reported in the same run.
 */
function checkRule (out: Collector, options: ParseRulesOptions, rawRule: unknown, i: number): RuleCheck {
  const at: PathSegment[] = ['rules', i]
  const found: RuleCheck = { env: [], unsetEnv: [] }
  if (!isRecord(rawRule)) return found
  const name = typeof rawRule.name === 'string' ? rawRule.name : `rules[${i}]`
  const when = isRecord(rawRule.when) ? rawRule.when : {}

  if (rawRule.on === 'problem' && typeof when.title === 'string') {
    try {
      // eslint-disable-next-line no-new
      new RegExp(when.title, 'i')
    } catch (err) {
      out.error([...at, 'when', 'title'], `not a valid regular expression: ${(err as Error).message}`)
    }
  }
  if (Array.isArray(when.tags)) {
    for (const [j, tag] of when.tags.entries()) {
      if (typeof tag === 'string' && tag.trim() !== '' && parseTag(tag).key === '') out.error([...at, 'when', 'tags', j], `${JSON.stringify(tag)} is not a tag: write key, key:value or [context]key:value`)
    }
  }

  // Placeholders are substituted only in target and with.
  for (const [key, value] of Object.entries(rawRule)) {
    if (key === 'actions' || key === 'target') continue
    for (const s of strings(value, [key])) {
      for (const p of placeholderTexts(s.value)) {
        const check = checkPlaceholder(p.inner, 'target')
        out.error([...at, ...s.path], check.ok ? `${p.text}: placeholders are substituted only in target and an action's with` : check.message)
      }
    }
  }
  for (const s of strings(rawRule.target, ['target'])) {
    for (const p of placeholderTexts(s.value)) {
      const check = checkPlaceholder(p.inner, 'target')
      if (!check.ok) out.error([...at, ...s.path], check.message)
    }
  }

  const entityTypes = rawRule.on === 'problem' ? stringList(when.entityTypes) : []
  for (const [j, step] of (Array.isArray(rawRule.actions) ? rawRule.actions : []).entries()) {
    if (!isRecord(step) || typeof step.use !== 'string') continue
    const stepAt: PathSegment[] = [...at, 'actions', j]
    if (placeholderTexts(step.use).length > 0) {
      out.error([...stepAt, 'use'], 'the action name cannot be a placeholder')
      continue
    }
    const action = options.actions.get(step.use)
    if (action === undefined) {
      const near = nearest(step.use, options.actions.names())
      out.error([...stepAt, 'use'], `unknown action "${step.use}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; registered: ${options.actions.names().join(', ')}`)
      continue
    }
    if (step.with === undefined || isRecord(step.with)) checkStep(out, options, action, step.with ?? {}, [...stepAt, 'with'], found)
    if (action.entityTypes !== '*') {
      for (const [k, type] of entityTypes.entries()) {
        if (!action.entityTypes.includes(type)) {
          out.error([...at, 'when', 'entityTypes', k], `rule ${name} takes ${type} entities, but its action ${action.name} (actions[${j}]) does not handle them (it handles ${action.entityTypes.join(', ')}); remove ${type} or use another action`)
        }
      }
    }
  }

  if (rawRule.approval === true && options.adminTokensSet !== true) {
    out.warn([...at, 'approval'], `rule ${name} needs approval but DTR_ADMIN_TOKENS is not set: nobody can approve its runs, so they will expire`)
  }
  if (found.unsetEnv.length > 0) {
    out.warn(at, `rule ${name} is disabled: ${found.unsetEnv.map((n) => `\${env:${n}}`).join(', ')} ${found.unsetEnv.length === 1 ? 'is' : 'are'} not set`)
  }
  return found
}

function compileRule (file: RulesFile, rule: RuleSpec, i: number, line: number, found: RuleCheck): LoadedRule {
  const d = file.defaults
  const base = {
    name: rule.name,
    index: i,
    line,
    enabled: found.unsetEnv.length === 0,
    disabledReason: found.unsetEnv.length === 0 ? undefined : `${found.unsetEnv.map((n) => `\${env:${n}}`).join(', ')} not set`,
    target: rule.target,
    ladder: rule.actions.map((a): LadderStep => ({ use: a.use, with: a.with ?? {} })),
    approval: rule.approval,
    dryRun: rule.dryRun,
    cooldownMs: rule.cooldown ?? d.cooldown,
    verifyAfterMs: rule.verifyAfter ?? d.verifyAfter,
    timeoutMs: rule.timeout ?? d.timeout,
    approvalTimeoutMs: rule.approvalTimeout ?? d.approvalTimeout,
    maxRecurrences: { count: (rule.maxRecurrences ?? d.maxRecurrences).count, perMs: (rule.maxRecurrences ?? d.maxRecurrences).per },
    env: found.env,
  }
  if (rule.on === 'security') {
    const w = rule.when
    return {
      ...base,
      on: 'security',
      when: { severities: w.severities, exposed: w.exposed, exploitAvailable: w.exploitAvailable, dataAssetsReachable: w.dataAssetsReachable, managementZones: w.managementZones, tags: w.tags },
    }
  }
  const w = rule.when
  return {
    ...base,
    on: 'problem',
    when: {
      entityTypes: w.entityTypes,
      severities: w.severities,
      impacts: w.impacts,
      tags: w.tags,
      managementZones: w.managementZones,
      title: w.title === undefined ? undefined : { source: w.title, regex: new RegExp(w.title, 'i') },
      deployedWithinMs: w.deployedWithin,
      duplicates: w.duplicates,
      maintenance: w.maintenance,
      rootCause: w.rootCause,
    },
  }
}

/** Pure: given the file's text and what it may refer to, the loaded rules or every error. */
export function parseRules (text: string, options: ParseRulesOptions): ParseRulesResult {
  const { doc, lines } = options.parsed ?? parseYaml(text)
  const out = new Collector(options.file, sourceMap(doc, lines))
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0]
      out.errors.push({ file: options.file, line: pos?.line ?? 0, column: pos?.col ?? 0, path: '', message: e.message.split('\n')[0] ?? e.message })
    }
    return { ok: false, errors: out.errors, warnings: out.warnings }
  }
  const yaml = yamlData(doc, lines)
  if (!yaml.ok) {
    out.errors.push({ file: options.file, line: yaml.line, column: yaml.column, path: '', message: yaml.message })
    return { ok: false, errors: out.errors, warnings: out.warnings }
  }
  const data: unknown = yaml.data

  const parsed = rulesFileSchema.safeParse(data)
  if (!parsed.success) reportIssues(out, rulesFileSchema, data, parsed.error.issues, [])

  // Rule by rule, so a file with one broken rule still reports what is wrong with the others.
  const rawRules = Array.isArray((data as { rules?: unknown } | null)?.rules) ? (data as { rules: unknown[] }).rules : []
  const seen = new Map<string, number>()
  const checks: Array<RuleCheck | undefined> = []
  for (const [i, rawRule] of rawRules.entries()) {
    const name = (rawRule as { name?: unknown } | null)?.name
    if (typeof name === 'string') {
      const first = seen.get(name)
      if (first !== undefined) out.error(['rules', i, 'name'], `duplicate rule name "${name}": rules[${first}] (line ${out.map?.locate(['rules', first]).line ?? 0}) has it too; names must be unique`)
      else seen.set(name, i)
    }
    checks.push(checkRule(out, options, rawRule, i))
  }

  out.errors.sort(byPlace)
  out.warnings.sort(byPlace)
  if (!parsed.success || out.errors.length > 0) return { ok: false, errors: out.errors, warnings: out.warnings }

  const file = parsed.data
  const rules = file.rules.map((rule, i) => compileRule(file, rule, i, out.map?.locate(['rules', i]).line ?? 0, checks[i] ?? { env: [], unsetEnv: [] }))
  const mode = options.modeOverride ?? file.mode ?? 'dry-run'
  const loaded: LoadedRules = {
    file: options.file,
    mode,
    modeSource: options.modeOverride !== undefined ? 'DTR_MODE' : file.mode !== undefined ? 'rules file' : 'default',
    defaults: {
      cooldownMs: file.defaults.cooldown,
      verifyAfterMs: file.defaults.verifyAfter,
      timeoutMs: file.defaults.timeout,
      approvalTimeoutMs: file.defaults.approvalTimeout,
      maxTargetsPerProblem: file.defaults.maxTargetsPerProblem,
      maxRecurrences: { count: file.defaults.maxRecurrences.count, perMs: file.defaults.maxRecurrences.per },
    },
    budgets: file.budgets.map((b) => ({ scope: b.scope, max: b.max, perMs: b.per })),
    kubernetes: { gitops: file.kubernetes.gitops, namespaces: { allow: file.kubernetes.namespaces.allow, deny: file.kubernetes.namespaces.deny } },
    plugins: file.plugins,
    rules,
    longestDeployedWithinMs: Math.max(0, ...rules.map((r) => (r.on === 'problem' ? r.when.deployedWithinMs ?? 0 : 0))),
  }
  return { ok: true, rules: loaded, warnings: out.warnings }
}
