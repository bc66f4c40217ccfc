/**
 * What check-config and simulate share: the environment read as the service reads it (allowed
 * hosts, admin tokens, DTR_MODE, Dynatrace, the cluster name), and the rules file loaded exactly
 * as start-up loads it — custom actions, built-ins, every check — against a Kubernetes client
 * that is made only if an action plans.
 */
import { readFileSync } from 'node:fs'
import { builtinActions } from '../../actions/index.js'
import { loadConfig, type Config, type Env } from '../config.js'
import { isDtrError } from '../errors.js'
import type { KubernetesClient } from '../kubernetes/client.js'
import { lazyServiceKubernetesClient } from '../kubernetes/lazy.js'
import { loadRuleSet, type RuleSetResult } from '../sdk/index.js'

export type { Output } from './output.js'

export type CliRules =
  | { readonly ok: true, readonly config: Config, readonly file: string, readonly result: RuleSetResult, readonly kubernetes: KubernetesClient }
  | { readonly ok: false, readonly message: string }

export async function loadCliRules (env: Env, file: string | undefined): Promise<CliRules> {
  let config: Config
  try {
    config = loadConfig(env, { readFile: (path) => readFileSync(path, 'utf8') })
  } catch (err) {
    return { ok: false, message: isDtrError(err) ? err.message : String(err) }
  }
  const rulesFile = file ?? config.rulesFile
  const kubernetes = lazyServiceKubernetesClient(config.kubeconfig, env)
  const result = await loadRuleSet({
    file: rulesFile,
    env,
    builtins: builtinActions({ kubernetes, allowedHosts: config.httpAllowedHosts }),
    allowedHosts: config.httpAllowedHosts,
    adminTokensSet: config.adminTokens !== undefined,
    modeOverride: config.mode,
  })
  return { ok: true, config, file: rulesFile, result, kubernetes }
}
