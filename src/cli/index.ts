/**
 * The `dt-remediator` program on commander: `--help`/`-h` on the program and every verb,
 * `--version`, unknown options and missing values answered with the verb's usage and exit 2,
 * `serve` when asked for or when no verb is given. Exit codes: 0 done, 1 failed, 2 usage.
 *
 * The simulators' verbs (`sim`, `demo`) live in sim/, which the production image leaves out. They
 * are loaded through this one dynamic import; where sim/ is absent the verbs say so in one line.
 */
import { Command, CommanderError } from 'commander'
import { packageVersion } from '../version.js'
import { registerBackup } from './backup.js'
import { registerCheckConfig } from './check-config.js'
import { registerReport } from './report.js'
import { registerSendTest } from './send-test.js'
import { registerServe } from './serve.js'
import { registerSimulate } from './simulate.js'
import type { ExitCode, RegisterVerb } from './verb.js'

/** The only import of sim/ outside sim/ (the lint allows exactly this one). */
const SIM_VERBS = new URL('../../sim/verbs.js', import.meta.url)

async function simVerbs (): Promise<RegisterVerb | undefined> {
  try {
    return (await import(SIM_VERBS.href) as { registerSimVerbs: RegisterVerb }).registerSimVerbs
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw err
  }
}

function notInstalled (program: Command, done: (code: ExitCode) => void): void {
  for (const name of ['sim', 'demo']) {
    program.command(name, { hidden: false }).description('(not installed: the simulators are left out of this image)')
      .allowUnknownOption().allowExcessArguments()
      .action(() => {
        process.stderr.write(`dt-remediator ${name}: not installed here (the production image leaves out the simulators); run it from a clone or the npm package\n`)
        done(1)
      })
  }
}

/** Runs the program on `argv` (without node and the script) and resolves with the exit code. */
export async function runCli (argv: readonly string[]): Promise<ExitCode> {
  let code: ExitCode = 0
  const done = (c: ExitCode): void => { code = c }
  const program = new Command('dt-remediator')
    .description('Turns Dynatrace AI-detected problems into safe, audited remediation.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 usage. With no command, runs serve.')
  for (const register of [registerServe, registerCheckConfig, registerSimulate, registerSendTest, registerBackup, registerReport]) register(program, done)
  const sim = await simVerbs()
  if (sim === undefined) notInstalled(program, done)
  else sim(program, done)
  for (const command of program.commands) command.exitOverride().helpOption('-h, --help', 'show help').showHelpAfterError()
  try {
    await program.parseAsync(argv.length === 0 ? ['serve'] : [...argv], { from: 'user' })
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err
    return err.exitCode === 0 ? 0 : 2
  }
  return code
}
