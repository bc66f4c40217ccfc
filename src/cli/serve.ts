import type { RegisterVerb } from './verb.js'

export const registerServe: RegisterVerb = (program, done) => {
  program.command('serve')
    .description('run the service (the default when no command is given)')
    .addHelpText('after', '\nConfigured by environment variables only (DTR_PORT, DTR_MODE, DTR_DATA_DIR, …): see the README.\nSIGTERM stops accepting, finishes the requests in flight, closes the store and exits 0.')
    .action(async () => {
      done((await (await import('../server.js')).serve()) === 0 ? 0 : 1)
    })
}
