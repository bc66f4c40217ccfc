/**
 * Rules for tests: the built-in actions' catalogue (with no cluster behind the Kubernetes ones:
 * parsing never calls them) and a parse that throws with every error when a fixture is wrong.
 */
import { builtinActions } from '../../actions/index.js'
import { formatDiagnostic, parseRules, type ParseRulesOptions } from '../../src/domain/rules/parse.js'
import type { LoadedRules } from '../../src/domain/rules/types.js'
import type { KubernetesClient } from '../../src/kubernetes/client.js'
import { createActionRegistry, type ActionRegistry } from '../../src/sdk/index.js'

export const allowedHosts = [{ host: 'hooks.slack.com', port: undefined }, { host: 'ci.example.com', port: undefined }]

export function builtinRegistry (): ActionRegistry {
  return createActionRegistry(builtinActions({ kubernetes: {} as KubernetesClient, allowedHosts }))
}

export function parseOptions (overrides: Partial<ParseRulesOptions> = {}): ParseRulesOptions {
  return { file: 'rules.yaml', env: {}, actions: builtinRegistry(), allowedHosts, adminTokensSet: true, ...overrides }
}

/** Parses a rules text that must load. */
export function loadRules (text: string, overrides: Partial<ParseRulesOptions> = {}): LoadedRules {
  const result = parseRules(text, parseOptions(overrides))
  if (!result.ok) throw new Error(`rules did not load:\n${result.errors.map(formatDiagnostic).join('\n')}`)
  return result.rules
}
