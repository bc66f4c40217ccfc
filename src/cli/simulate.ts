/**
 * `dt-remediator simulate <payload.json> [--json] [--rules file]`: registration only; the work is in
 * simulate-run.ts, loaded when the verb runs so that `--help` loads nothing heavy.
 */
import { processOutput } from './output.js'
import type { SimulateOptions } from './simulate-run.js'
import type { RegisterVerb } from './verb.js'

export const registerSimulate: RegisterVerb = (program, done) => {
  program.command('simulate')
    .description('explain what a notification would do: rules matched, targets resolved, the planned changes (dry-run); no side effects')
    .argument('<payload.json>', 'a notification body, as Dynatrace posts it to /webhooks/problem or /webhooks/security')
    .option('--json', 'print the plan and the dry-run outcomes as JSON, for tools')
    .option('--rules <file>', 'the rules file (default: DTR_RULES_FILE, else config/remediation.yaml)')
    .addHelpText('after', '\nReads Dynatrace when DTR_DYNATRACE_URL is set (the real one or `dt-remediator sim dynatrace`), Kubernetes through DTR_KUBECONFIG.\nOnly reads, and Kubernetes requests with dryRun=All: nothing is changed, posted or commented.\nExits 0 when the notification was explained, 1 when the payload or the rules file is invalid.')
    .action(async (file: string, options: SimulateOptions) => {
      const { simulate } = await import('./simulate-run.js')
      done(await simulate(file, options, process.env, processOutput()))
    })
}
