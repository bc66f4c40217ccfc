/**
 * `dt-remediator report [--since 30d] [--json] [--url URL] [--token T]`: registration only; the
 * work is in report-run.ts, loaded when the verb runs.
 */
import { processOutput } from './output.js'
import type { ReportOptions } from './report-run.js'
import type { RegisterVerb } from './verb.js'

export const registerReport: RegisterVerb = (program, done) => {
  program.command('report')
    .description('does remediation work? per rule and action, live beside dry-run: runs, verdicts and time to resolve')
    .option('--since <duration>', 'how far back the runs\' start goes (30s, 10m, 2h, 30d)', '30d')
    .option('--json', 'print GET /api/report\'s JSON, for tools')
    .option('--url <url>', 'read a running service (its base URL) instead of the store')
    .option('--token <token>', 'the admin token for --url (default: the first of DTR_ADMIN_TOKENS)')
    .addHelpText('after', '\nWithout --url, reads the store as serve would (DTR_DATABASE_URL, else DTR_DATA_DIR), read-only.\nExits 0 when the report was printed, 1 when it could not be read, 2 on a bad --since.')
    .action(async (options: ReportOptions) => {
      const { report } = await import('./report-run.js')
      done(await report(options, process.env, processOutput()))
    })
}
