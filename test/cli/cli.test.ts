/**
 * `dt-remediator` as people use a CLI: --help/-h on the program and each verb, --version,
 * usage errors exit 2 with the verb's usage, no verb runs serve.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { runCliProcess, startServer, type CliExit } from '../helpers/server-process.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version

/** The program in this process, its output captured (the executable itself is run below). */
async function cli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const out = process.stdout.write
  const err = process.stderr.write
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true }) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true }) as typeof process.stderr.write
  try {
    return { code: await runCli(args), stdout, stderr }
  } finally {
    process.stdout.write = out
    process.stderr.write = err
  }
}

const executable = async (args: string[]): Promise<CliExit> => runCliProcess(args)

t.test('--help, -h and help list the verbs and the exit codes', async (t) => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const { code, stdout } = await cli(args)
    t.equal(code, 0, args.join(' '))
    t.match(stdout, /^Usage: dt-remediator \[options\] \[command\]/m)
    t.match(stdout, /serve/)
    t.match(stdout, /send-test/)
    t.match(stdout, /sim/)
    t.match(stdout, /Exit codes: 0 done, 1 failed, 2 usage/)
  }
})

t.test('--help on a verb and help <verb> show that verb', async (t) => {
  for (const args of [['send-test', '--help'], ['help', 'send-test'], ['sim', 'kubernetes', '-h']]) {
    const { code, stdout } = await cli(args)
    t.equal(code, 0, args.join(' '))
    t.match(stdout, /^Usage: dt-remediator (send-test \[options\] <url>|sim kubernetes \[options\])/m)
  }
})

t.test('--version and -V print the package version', async (t) => {
  for (const flag of ['--version', '-V']) {
    const { code, stdout } = await cli([flag])
    t.equal(code, 0)
    t.equal(stdout.trim(), version)
  }
})

t.test('usage errors exit 2 with the usage of the verb', async (t) => {
  const unknownCommand = await cli(['bogus'])
  t.equal(unknownCommand.code, 2)
  t.match(unknownCommand.stderr, /unknown command 'bogus'/)
  const unknownOption = await cli(['send-test', 'http://localhost:1', '--tokn', 'x'])
  t.equal(unknownOption.code, 2)
  t.match(unknownOption.stderr, /unknown option '--tokn'[\s\S]*Usage: dt-remediator send-test/)
  const missingValue = await cli(['send-test', 'http://localhost:1', '--token'])
  t.equal(missingValue.code, 2)
  t.match(missingValue.stderr, /option '--token <token>' argument missing/)
  const badPort = await cli(['sim', 'dynatrace', '--port', 'eighty'])
  t.equal(badPort.code, 2)
  t.match(badPort.stderr, /must be a port number[\s\S]*Usage: dt-remediator sim dynatrace/)
})

t.test('the executable prints the version and exits 0', async (t) => {
  const { code, stdout } = await executable(['--version'])
  t.equal(code, 0)
  t.equal(stdout.trim(), version)
})

t.test('no verb runs serve', async (t) => {
  const server = await startServer(t, { DTR_WEBHOOK_TOKENS: 'cli-test-token', DTR_DATA_DIR: t.testdir(), DTR_LOG_LEVEL: 'info' }, { args: [] })
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
})
