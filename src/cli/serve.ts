import { existsSync } from 'node:fs'
import type { LoadedBundle } from './bundle.js'
import type { ExitCode, RegisterVerb } from './verb.js'

/**
 * Runs the service (src/server.ts) until a signal stops it: 0, or 1 when it could not start.
 * The built service runs from its bundle (scripts/bundle.mjs, made by `npm run build` beside the
 * compiled modules, loaded by ./bundle.ts with its code cache): the same code, in one file instead
 * of ~800 modules, which starts sooner. From the sources (the tests) there is none, and the
 * modules run.
 */
export async function runServe (): Promise<ExitCode> {
  const { BUNDLE_FILE, loadBundle } = await import('./bundle.js')
  if (!existsSync(BUNDLE_FILE)) return (await (await import('../server.js')).serve()) === 0 ? 0 : 1
  let loaded: LoadedBundle
  try {
    loaded = await loadBundle()
  } catch (err) {
    process.stderr.write(`dt-remediator: the service's bundle (${BUNDLE_FILE}) could not be loaded: ${String(err)}\n`)
    return 1
  }
  return (await loaded.server.serve({ codeCache: loaded.codeCache })) === 0 ? 0 : 1
}

/**
 * Whether `argv` asks for `serve` and nothing else (the container's command): the executable then
 * runs it without the program, so the service's start-up does not load commander and the other
 * verbs. Anything more (`serve --help`, an unknown option) goes through the program as before.
 */
export const plainServe = (argv: readonly string[]): boolean => argv.length === 0 || (argv.length === 1 && argv[0] === 'serve')

export const registerServe: RegisterVerb = (program, done) => {
  program.command('serve')
    .description('run the service (the default when no command is given)')
    .addHelpText('after', '\nConfigured by environment variables only (DTR_PORT, DTR_MODE, DTR_DATA_DIR, …): see the README.\nSIGTERM stops accepting, finishes the requests in flight, closes the store and exits 0.')
    .action(async () => { done(await runServe()) })
}
