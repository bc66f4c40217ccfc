/**
 * `dt-remediator send-test <url> [--token T] [--header NAME] [--template FILE]`: sends the call
 * Dynatrace's "Send test notification" button sends — the recommended payload template (or
 * yours) rendered with Dynatrace's test values — and prints the answer, so a user can check a
 * deployment and a payload template before configuring the integration.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, renderTemplate, testPlaceholders } from '../sim/dynatrace/notifications.js'
import type { Verb } from './index.js'

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

const usage = 'Usage: dt-remediator send-test <url> [--token TOKEN] [--header NAME] [--template FILE]\n'

const verb: Verb = {
  summary: 'send the test notification Dynatrace sends, and print the answer',
  async run (args) {
    let parsed
    try {
      parsed = parseArgs({ args: [...args], allowPositionals: true, options: { token: { type: 'string' }, header: { type: 'string' }, template: { type: 'string' } } })
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n${usage}`)
      return 2
    }
    const [target] = parsed.positionals
    if (target === undefined || parsed.positionals.length > 1) {
      process.stderr.write(usage)
      return 2
    }
    let call: TestCall
    try {
      const template = parsed.values.template === undefined ? undefined : readFileSync(parsed.values.template, 'utf8')
      call = buildTestCall(target, { token: parsed.values.token, header: parsed.values.header, template })
    } catch (err) {
      process.stderr.write(`send-test: ${(err as Error).message}\n`)
      return 2
    }
    try {
      const res = await request(call.url, { method: 'POST', headers: call.headers, body: call.body, headersTimeout: 10_000, bodyTimeout: 10_000 })
      const text = await res.body.text()
      process.stdout.write(`POST ${call.url} → ${res.statusCode}\n${text}\n`)
      return res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1
    } catch (err) {
      process.stderr.write(`send-test: cannot reach ${call.url}: ${(err as Error).message}\n`)
      return 1
    }
  },
}
export default verb
