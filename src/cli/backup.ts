/**
 * `dt-remediator backup <file>`: an online copy of the embedded store in DTR_DATA_DIR, safe while
 * the service runs (src/store/backup.ts). Configured by the same environment as serve, which
 * src/server.ts reads; with DTR_DATABASE_URL the store is PostgreSQL's to back up (pg_dump).
 */
import type { RegisterVerb } from './verb.js'

export const registerBackup: RegisterVerb = (program, done) => {
  program.command('backup')
    .description('copy the embedded store to <file> while the service runs (an online, consistent copy)')
    .argument('<file>', 'where to write the copy; it must not exist yet')
    .addHelpText('after', [
      '',
      'Reads DTR_DATA_DIR like serve. With DTR_DATABASE_URL (PostgreSQL), use pg_dump instead.',
      'Restore: stop the service, copy the file to DTR_DATA_DIR/dt-remediator.db (remove -wal and -shm), start it.',
    ].join('\n'))
    .action(async (file: string) => {
      done((await (await import('../server.js')).backup(file)) === 0 ? 0 : 1)
    })
}
