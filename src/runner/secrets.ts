/**
 * The secrets the runner keeps out of what it stores and says: the configuration's, and the
 * values of the `${env:…}` the rules in force use (they change with a reload).
 */
import { ruleEnvSecrets, type Secret } from '../domain/secrets.js'
import type { RunnerDeps } from './deps.js'

export function runnerSecrets (deps: Pick<RunnerDeps, 'secrets' | 'rules' | 'env'>): Secret[] {
  return [...(deps.secrets ?? []), ...ruleEnvSecrets(deps.rules().rules.rules, deps.env)]
}
