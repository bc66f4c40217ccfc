/**
 * `dt-remediator check-config [file] [--strict]`: loads a rules file exactly as start-up does and
 * says so — exit 0 with a short summary (rules, actions used, custom actions loaded, mode), or
 * exit 1 with every error, each with its file, line and path — so a team can run it in the CI of
 * its rules repository. Warnings (a rule disabled by an unset `${env:…}`, approval without
 * DTR_ADMIN_TOKENS) are shown; `--strict` makes them errors.
 */
import { formatDiagnostic } from '../domain/rules/parse.js'
import type { Env } from '../config.js'
import { processOutput, type Output } from './output.js'
import type { ExitCode, RegisterVerb } from './verb.js'

export interface CheckConfigOptions {
  readonly strict?: boolean
}

export async function checkConfig (file: string | undefined, options: CheckConfigOptions, env: Env, io: Output): Promise<ExitCode> {
  // Loaded here, not at the top: `--help` need not pay for the actions and their clients.
  const { loadCliRules } = await import('./rules.js')
  const loaded = await loadCliRules(env, file)
  if (!loaded.ok) {
    io.err(`check-config: ${loaded.message}\n`)
    return 1
  }
  const { result } = loaded
  if (!result.ok) {
    io.err(`${loaded.file}: ${result.errors.length} ${result.errors.length === 1 ? 'error' : 'errors'}\n${result.errors.map((e) => `  ${e}\n`).join('')}`)
    for (const w of result.warnings) io.err(`  warning: ${w}\n`)
    return 1
  }
  const { rules, customActions, warnings } = result.ruleSet
  const enabled = rules.rules.filter((r) => r.enabled)
  const disabled = rules.rules.filter((r) => !r.enabled)
  const used = [...new Set(rules.rules.flatMap((r) => r.ladder.map((s) => s.use)))].sort()
  const lines = [
    `${loaded.file}: OK`,
    `  mode: ${rules.mode} (${rules.modeSource === 'default' ? 'default' : rules.modeSource === 'DTR_MODE' ? 'DTR_MODE' : 'the rules file'})`,
    `  rules: ${rules.rules.length}${disabled.length === 0 ? '' : ` (${enabled.length} enabled; disabled: ${disabled.map((r) => r.name).join(', ')})`}`,
    `  actions used: ${used.length === 0 ? 'none' : used.join(', ')}`,
    `  custom actions loaded: ${customActions.length === 0 ? 'none' : customActions.join(', ')}`,
  ]
  for (const w of warnings) lines.push(`  warning: ${formatDiagnostic(w)}`)
  if (options.strict === true && warnings.length > 0) {
    io.err(`${lines.join('\n')}\n${loaded.file}: ${warnings.length} ${warnings.length === 1 ? 'warning' : 'warnings'}, refused by --strict\n`)
    return 1
  }
  io.out(`${lines.join('\n')}\n`)
  return 0
}

export const registerCheckConfig: RegisterVerb = (program, done) => {
  program.command('check-config')
    .description('check a rules file as start-up would: every error with file, line and path; exit 0 or 1')
    .argument('[file]', 'the rules file (default: DTR_RULES_FILE, else config/remediation.yaml)')
    .option('--strict', 'treat warnings (rules disabled by an unset ${env:…}, approval without DTR_ADMIN_TOKENS) as errors')
    .addHelpText('after', '\nThe environment is read as the service reads it (DTR_HTTP_ALLOWED_HOSTS, DTR_ADMIN_TOKENS, DTR_MODE, ${env:…} values).\nExits 0 when the file loads, 1 when it does not.')
    .action(async (file: string | undefined, options: CheckConfigOptions) => {
      done(await checkConfig(file, options, process.env, processOutput()))
    })
}
