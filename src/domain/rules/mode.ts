/**
 * The effective mode (SPEC 3): DTR_MODE, else the rules file's `mode`, else dry-run. The rules
 * engine that validates the whole file is its own piece of work; this reads only `mode`, so the
 * service starts in the mode the user chose.
 */
import { parse } from 'yaml'
import { ConfigError } from '../../errors.js'
import type { Mode } from '../mode.js'

export interface EffectiveMode {
  readonly mode: Mode
  readonly source: 'DTR_MODE' | 'rules file' | 'default'
}

/** Pure: given the env mode and the rules file's text (undefined when absent). */
export function effectiveMode (config: { readonly mode: Mode | undefined, readonly rulesFile: string }, rulesText: string | undefined): EffectiveMode {
  if (config.mode !== undefined) return { mode: config.mode, source: 'DTR_MODE' }
  if (rulesText === undefined) return { mode: 'dry-run', source: 'default' }
  let doc: unknown
  try {
    doc = parse(rulesText)
  } catch (err) {
    throw new ConfigError('DTR_RULES_FILE', `${config.rulesFile} is not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`)
  }
  const mode = (doc as { mode?: unknown } | null)?.mode
  if (mode === undefined || mode === null) return { mode: 'dry-run', source: 'default' }
  if (mode !== 'dry-run' && mode !== 'live') throw new ConfigError('DTR_RULES_FILE', `${config.rulesFile}: mode must be "dry-run" or "live" (got ${JSON.stringify(mode)})`)
  return { mode, source: 'rules file' }
}
