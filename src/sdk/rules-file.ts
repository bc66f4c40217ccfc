/**
 * Loading a rules file as the service, check-config and simulate do: read the text, check
 * everything that needs no plugin (YAML, structure, durations, names, placeholders, the built-in
 * actions' `with`, the `plugins:` paths), and only then load its custom actions (`plugins:`) —
 * importing a module runs its code, so a file refused at the first step runs none — register
 * them with the built-ins through the same door, then parse the whole file against that registry
 * (each custom action's `with` against its schema). The result is a RuleSet — the rules and the
 * registry they were checked against, swapped together on reload — or every error, each with its
 * file and line. Nothing half-loads.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { AllowedHost } from '../domain/hosts.js'
import type { Mode } from '../domain/mode.js'
import { formatDiagnostic, parseRules, rulesPlugins } from '../domain/rules/parse.js'
import { parseYaml, sourceMap } from '../domain/rules/positions.js'
import type { Diagnostic, LoadedRules } from '../domain/rules/types.js'
import type { ActionCatalog, ActionSpec } from '../domain/rules/types.js'
import { z } from 'zod'
import type { AnyAction } from './contract.js'
import { loadCustomActions } from './loader.js'
import { createActionRegistry, type ActionRegistry } from './registry.js'

export interface RuleSet {
  readonly file: string
  readonly rules: LoadedRules
  readonly registry: ActionRegistry
  /** The names of the custom actions `plugins:` loaded. */
  readonly customActions: readonly string[]
  readonly warnings: readonly Diagnostic[]
}

export type RuleSetResult =
  | { readonly ok: true, readonly ruleSet: RuleSet }
  | { readonly ok: false, readonly errors: readonly string[], readonly warnings: readonly string[] }

export interface LoadRuleSetOptions {
  /** DTR_RULES_FILE (or check-config's argument). */
  readonly file: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly builtins: readonly AnyAction[]
  readonly allowedHosts: readonly AllowedHost[]
  readonly adminTokensSet: boolean
  /** DTR_MODE. */
  readonly modeOverride: Mode | undefined
  /** Re-import custom action files that changed (SIGHUP). */
  readonly fresh?: boolean
  /** Where packages are looked for after the rules file's directory. Default: the service's installation. */
  readonly serviceDir?: string
  readonly readFile?: (path: string) => string
}

const readText = (path: string): string => readFileSync(path, 'utf8')

export async function loadRuleSet (options: LoadRuleSetOptions): Promise<RuleSetResult> {
  let text: string
  try {
    text = (options.readFile ?? readText)(options.file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return { ok: false, errors: [`${options.file}: cannot read the rules file (${code ?? (err as Error).message})${code === 'ENOENT' ? '; set DTR_RULES_FILE to its path' : ''}`], warnings: [] }
  }
  // Parsed once: the YAML parse was a third of loading the rules, and every step below reads it.
  const yaml = parseYaml(text)
  const plugins = rulesPlugins(text, yaml)
  const parseOptions = {
    parsed: yaml,
    file: options.file,
    env: options.env,
    allowedHosts: options.allowedHosts,
    adminTokensSet: options.adminTokensSet,
    modeOverride: options.modeOverride,
  }
  // First, without importing anything: an action the built-ins lack may come from a plugin, so it
  // passes this step with any `with`, which the full parse below checks against its schema.
  let builtins: ActionRegistry
  try {
    builtins = createActionRegistry([...options.builtins])
  } catch (err) {
    return { ok: false, errors: [`${options.file}: ${(err as Error).message}`], warnings: [] }
  }
  const first = parseRules(text, { ...parseOptions, actions: plugins.length === 0 ? builtins : pluginLenient(builtins) })
  if (!first.ok) return { ok: false, errors: first.errors.map(formatDiagnostic), warnings: first.warnings.map(formatDiagnostic) }
  // Without plugins, that parse was already the whole one, against the same actions: a second
  // would only parse the YAML and check the rules again (loading the rules is some 7% of start-up).
  if (plugins.length === 0) return { ok: true, ruleSet: { file: options.file, rules: first.rules, registry: builtins, customActions: [], warnings: first.warnings } }
  const custom = await loadCustomActions(plugins, {
    baseDir: dirname(resolve(options.file)),
    fresh: options.fresh,
    ...(options.serviceDir === undefined ? {} : { serviceDir: options.serviceDir }),
  })
  if (custom.errors.length > 0) {
    const map = sourceMap(yaml.doc, yaml.lines)
    return {
      ok: false,
      errors: custom.errors.map((e) => {
        const at = map.locate(['plugins', e.index])
        return `${options.file}:${at.line}:${at.column}: ${e.message}`
      }),
      warnings: [],
    }
  }
  let registry: ActionRegistry
  try {
    registry = createActionRegistry([...options.builtins, ...custom.actions])
  } catch (err) {
    return { ok: false, errors: [`${options.file}: ${(err as Error).message}`], warnings: [] }
  }
  const parsed = parseRules(text, { ...parseOptions, actions: registry })
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map(formatDiagnostic), warnings: parsed.warnings.map(formatDiagnostic) }
  return {
    ok: true,
    ruleSet: {
      file: options.file,
      rules: parsed.rules,
      registry,
      customActions: custom.actions.map((a) => (a.action as AnyAction).name),
      warnings: parsed.warnings,
    },
  }
}

/** The built-ins, and any other name as an action a plugin may define: checked fully once the plugins are loaded. */
function pluginLenient (builtins: ActionCatalog): ActionCatalog {
  const params = z.record(z.string(), z.unknown())
  return {
    get: (name): ActionSpec => builtins.get(name) ?? { name, entityTypes: '*', params, needsTarget: false },
    names: () => builtins.names(),
  }
}
