/**
 * `dt-remediator send-test <url> [--token T] [--header NAME] [--template FILE]`: sends the call
 * Dynatrace's "Send test notification" button sends — the recommended payload template (or
 * yours) rendered with Dynatrace's test values — and prints the answer, so a user can check a
 * deployment and a payload template before configuring the integration.
 */
import { readFileSync } from 'node:fs'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, renderTemplate, testPlaceholders } from '../dynatrace/templates.js'
import type { ExitCode, RegisterVerb } from './verb.js'

export interface TestCall {
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
}

/** Pure: the request to send. A bare base URL gets the problem webhook path. */
export function buildTestCall (target: string, options: { token?: string, header?: string, template?: string }): TestCall {
  const url = new URL(target)
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/webhooks/problem'
  const headers: Record<string, string> = {
    accept: '*/*',
    'content-type': 'application/json',
    // What Dynatrace's own calls carry (see the seed article's logged call).
    'user-agent': 'ruxit server',
  }
  if (options.token !== undefined) {
    if (options.header === undefined) headers.authorization = `Bearer ${options.token}`
    else headers[options.header.toLowerCase()] = options.token
  }
  return { url: url.toString(), headers, body: renderTemplate(options.template ?? RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, testPlaceholders()) }
}

export const registerSendTest: RegisterVerb = (program, done) => {
  program.command('send-test')
    .description('send the test notification Dynatrace sends ("Send test notification"), and print the answer')
    .argument('<url>', 'the service\'s base URL or webhook URL, e.g. http://localhost:8080')
    .option('--token <token>', 'webhook token, sent as Authorization: Bearer (or in --header)')
    .option('--header <name>', 'send the token in this header instead (DTR_WEBHOOK_TOKEN_HEADER)')
    .option('--template <file>', 'your custom payload template (default: the recommended one)')
    .addHelpText('after', '\nExits 0 when the service answers 2xx, 1 otherwise.')
    .action(async (target: string, options: { token?: string, header?: string, template?: string }) => {
      done(await sendTest(target, options))
    })
}

async function sendTest (target: string, options: { token?: string, header?: string, template?: string }): Promise<ExitCode> {
  let call: TestCall
  try {
    const template = options.template === undefined ? undefined : readFileSync(options.template, 'utf8')
    call = buildTestCall(target, { token: options.token, header: options.header, template })
  } catch (err) {
    process.stderr.write(`send-test: ${(err as Error).message}\n`)
    return 2
  }
  try {
    // Loaded here, not at the top: every verb, serve too, imports this file to register it.
    const { request } = await import('undici')
    const res = await request(call.url, { method: 'POST', headers: call.headers, body: call.body, headersTimeout: 10_000, bodyTimeout: 10_000 })
    const text = await res.body.text()
    process.stdout.write(`POST ${call.url} → ${res.statusCode}\n${text}\n`)
    return res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1
  } catch (err) {
    process.stderr.write(`send-test: cannot reach ${call.url}: ${(err as Error).message}\n`)
    return 1
  }
}
