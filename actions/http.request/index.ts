/**
 * http.request: calls a URL — a CI job, a runbook endpoint, the deployment event's
 * `dt.event.deployment.remediation_action_link`. The request is fixed when the run is planned
 * (placeholders substituted, host checked); every attempt sends the same request with the same
 * `Idempotency-Key: <run id>`, so a receiver that honours the header makes one change however many
 * attempts reach it. Redirects are never followed. See README.md.
 */
import { z } from 'zod'
import type { AllowedHost } from '../../src/domain/hosts.js'
import { redactHeaders, redactUrl } from '../../src/domain/redact.js'
import { DURATION_PATTERN, parseDuration } from '../../src/domain/rules/duration.js'
import { assertHostAllowed, defineAction, sendOutbound, type OutboundOptions } from '../../src/sdk/index.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

const httpRequestParams = z.object({
  /** http(s) URL; its host must be in DTR_HTTP_ALLOWED_HOSTS. */
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  method: z.enum(METHODS, { error: `expected one of ${METHODS.join(', ')}` }).default('POST'),
  headers: z.record(z.string(), z.string({ error: 'header values are strings' })).default({}),
  /** JSON; sent with content-type application/json. */
  body: z.json().optional(),
  timeout: z.string().regex(DURATION_PATTERN, { error: 'expected a duration such as 10s' }).default('10s'),
  /** A status or a list of them; default any 2xx. */
  expectStatus: z.union([z.int().min(100).max(599), z.array(z.int().min(100).max(599)).min(1)]).optional(),
}).strict()

export interface HttpRequestPlan {
  readonly method: string
  /** Redacted: the plan is stored and shown; the real URL stays in the parameters. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly expect: readonly number[] | '2xx'
}

export interface HttpActionDeps extends OutboundOptions {
  readonly allowedHosts: readonly AllowedHost[]
}

const expected = (plan: HttpRequestPlan, status: number): boolean => (plan.expect === '2xx' ? status >= 200 && status < 300 : plan.expect.includes(status))
const expectText = (plan: HttpRequestPlan): string => (plan.expect === '2xx' ? '2xx' : plan.expect.join(' or '))

/** Answers worth another attempt of the same request (the runner retries within the timeout). */
const TRANSIENT = new Set([408, 429, 502, 503, 504])

export function createHttpRequestAction (deps: HttpActionDeps) {
  return defineAction({
    name: 'http.request',
    description: 'Calls a URL (a CI job, a runbook, the deployment event\'s remediation link) with a JSON body; the host must be in DTR_HTTP_ALLOWED_HOSTS; redirects are not followed.',
    entityTypes: '*',
    params: httpRequestParams,
    needsTarget: false,
    urlParams: ['url'],
    async plan (ctx): Promise<HttpRequestPlan> {
      // A host from a placeholder is only known now: "host not allowed" fails the run.
      assertHostAllowed(ctx.params.url, deps.allowedHosts)
      const p = ctx.params
      return {
        method: p.method,
        url: redactUrl(p.url),
        headers: redactHeaders(p.headers),
        body: p.body ?? null,
        expect: p.expectStatus === undefined ? '2xx' : Array.isArray(p.expectStatus) ? p.expectStatus : [p.expectStatus],
      }
    },
    async run (ctx) {
      const plan = ctx.plan
      const what = `${plan.method} ${plan.url}`
      if (ctx.dryRun) return { status: 'succeeded', summary: `Dry run: would send ${what}${plan.body === null ? '' : ' with a JSON body'} (Idempotency-Key ${ctx.runId})`, details: { request: plan, dryRun: true } }
      const p = ctx.params
      const headers: Record<string, string> = { ...p.headers, 'idempotency-key': ctx.runId }
      if (plan.body !== null) headers['content-type'] = 'application/json'
      const res = await sendOutbound({
        url: p.url,
        method: plan.method,
        headers,
        // The parameters' body, not the plan's: the plan shows an `${env:…}` of the rule by its name.
        body: plan.body === null ? undefined : JSON.stringify(p.body ?? null),
        timeoutMs: parseDuration(p.timeout) ?? 10_000,
        signal: ctx.signal,
      }, deps)
      ctx.log.info({ method: plan.method, url: plan.url, status: res.status }, 'http.request answered')
      const details = { request: plan, status: res.status, body: res.excerpt, bodyTruncated: res.truncated }
      if (expected(plan, res.status)) return { status: 'succeeded', summary: `${what} answered ${res.status}`, details }
      if (TRANSIENT.has(res.status) && !expected(plan, res.status)) throw new Error(`${what} answered ${res.status}; retrying the same request`)
      const redirect = res.status >= 300 && res.status < 400 ? ` (redirects are not followed${typeof res.headers.location === 'string' ? `; Location: ${redactUrl(res.headers.location)}` : ''})` : ''
      return { status: 'failed', summary: `${what} answered ${res.status}, expected ${expectText(plan)}${redirect}`, details }
    },
  })
}
