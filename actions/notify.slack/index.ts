/**
 * notify.slack: posts a message to a Slack incoming webhook. The text is fixed when the run is
 * planned (placeholders substituted, or the default text rendered from the problem), so every
 * attempt posts the same message. A 429 is waited out for its Retry-After, within the run's
 * timeout (its AbortSignal). The webhook URL is the secret: outcomes and logs show it redacted.
 * See README.md.
 */
import { z } from 'zod'
import type { Clock } from '../../src/clock.js'
import type { EntityRef, ProblemInfo } from '../../src/domain/problem.js'
import { redactUrl } from '../../src/domain/redact.js'
import { defineAction, sendOutbound, type OutboundOptions } from '../../src/sdk/index.js'

const slackParams = z.object({
  /** https://hooks.slack.com/services/…; usually `${env:SLACK_WEBHOOK_URL}`. */
  webhookUrl: z.url({ protocol: /^https?$/, error: 'expected the https:// URL of a Slack incoming webhook' }),
  /** Slack mrkdwn; default: the problem, severity, entity and link. */
  text: z.string().min(1, { error: 'text must not be empty (leave it out for the default)' }).optional(),
}).strict()

export interface SlackPlan {
  readonly webhook: string
  readonly text: string
}

export interface SlackActionDeps extends OutboundOptions {
  /** For waiting out a 429's Retry-After. */
  readonly clock: Clock
}

/** Attempts of one run's post when Slack answers 429 (each after its Retry-After). */
const MAX_RATE_LIMITED = 3
const POST_TIMEOUT_MS = 10_000

/**
 * Pure: the default message, modelled on the Slack template Dynatrace documents for security
 * notifications (../shared/dynatrace/samples/security-slack-template.txt).
 */
export function defaultSlackText (problem: ProblemInfo, entity: EntityRef): string {
  const id = problem.displayId ?? problem.id
  const lines = problem.kind === 'security'
    ? [`Notification for *${id}*${problem.severity === undefined ? '' : ` and *${problem.severity}*`}.`, `Title: *${problem.title ?? '(no title)'}*`]
    : [`Problem *${id}*: *${problem.title ?? '(no title)'}*${problem.severity === undefined ? '' : ` (${problem.severity}${problem.impact === undefined ? '' : `, impact ${problem.impact}`})`}`]
  lines.push(`Entity: ${entity.name === '' ? entity.id : `${entity.name} (${entity.id})`}`)
  if (problem.url !== undefined) lines.push(problem.url)
  lines.push('_from dt-remediator_')
  return lines.join('\n')
}

/** Pure: Retry-After (seconds, or an HTTP date) in ms; 1 s when absent or unreadable. */
export function retryAfterMs (value: string | string[] | undefined, now: number): number {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return 1000
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now)
}

export function createSlackAction (deps: SlackActionDeps) {
  return defineAction({
    name: 'notify.slack',
    description: 'Posts a message to a Slack incoming webhook: the problem or security problem, severity, entity and link, or your own text.',
    entityTypes: '*',
    params: slackParams,
    needsTarget: false,
    urlParams: ['webhookUrl'],
    async plan (ctx): Promise<SlackPlan> {
      return { webhook: redactUrl(ctx.params.webhookUrl), text: ctx.params.text ?? defaultSlackText(ctx.problem, ctx.entity) }
    },
    async run (ctx) {
      const { plan } = ctx
      if (ctx.dryRun) return { status: 'succeeded', summary: `Dry run: would post to Slack (${plan.webhook}): ${plan.text.split('\n')[0] ?? ''}`, details: { message: plan.text, dryRun: true } }
      const body = JSON.stringify({ text: plan.text })
      for (let attempt = 1; ; attempt++) {
        const res = await sendOutbound({
          url: ctx.params.webhookUrl,
          method: 'POST',
          // Slack ignores the key; a relay or a receiver of your own can deduplicate by it.
          headers: { 'content-type': 'application/json', 'idempotency-key': ctx.runId },
          body,
          timeoutMs: POST_TIMEOUT_MS,
          signal: ctx.signal,
        }, deps)
        ctx.log.info({ webhook: plan.webhook, status: res.status, attempt }, 'notify.slack answered')
        if (res.status >= 200 && res.status < 300) return { status: 'succeeded', summary: `Posted to Slack (${plan.webhook})`, details: { status: res.status, body: res.excerpt } }
        if (res.status === 429 && attempt < MAX_RATE_LIMITED) {
          const wait = retryAfterMs(res.headers['retry-after'], deps.clock.now())
          try {
            await deps.clock.sleep(wait, ctx.signal)
          } catch {
            return { status: 'failed', summary: `Slack rate-limited the post (429, Retry-After ${Math.ceil(wait / 1000)}s) and the run's timeout came first`, details: { status: 429, retryAfterMs: wait } }
          }
          continue
        }
        if (res.status >= 500 || res.status === 429) throw new Error(`Slack answered ${res.status}; retrying the same message`)
        return { status: 'failed', summary: `Slack answered ${res.status}${res.excerpt === '' ? '' : ` (${res.excerpt.slice(0, 200)})`}${res.status >= 300 && res.status < 400 ? '; redirects are not followed' : ''}`, details: { status: res.status, body: res.excerpt } }
      }
    },
  })
}
