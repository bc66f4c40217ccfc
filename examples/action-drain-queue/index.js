// @ts-check
/**
 * acme.drain-queue: when the consumers of a queue keep failing on the messages in it (a poison
 * message, a bad batch after a deployment), move those messages to a parking queue so that the
 * consumers recover, and leave them there for a person to replay or drop.
 *
 * It talks to a queue admin API that the platform team runs in front of its broker:
 *   GET  {broker}/queues/{queue}          → 200 { "depth": 1234 }
 *   POST {broker}/queues/{queue}/park     ← { "to": "orders.parked", "max": 1000 }, Idempotency-Key
 *                                         → 200 { "moved": 1000 }
 *
 * What it shows of the action contract (docs/custom-actions.md):
 * - `plan` runs once, when the run is planned: it reads the depth and fixes how many messages to
 *   move, so that a retry (or another replica resuming the run) moves the same batch, not a new
 *   one; an empty queue is `skip(…)`, which lets the rule's ladder go on to its next step at once.
 * - `run` may run more than once with the same plan: the request carries the run id as its
 *   Idempotency-Key, so the admin API applies it once.
 * - Outcomes are values; a thrown TerminalError means "do not retry" (the queue does not exist,
 *   the API refused the call); any other error (a 5xx, the network) is retried by the runner
 *   within the rule's timeout.
 * - Dry run: nothing is sent but the read; the outcome says what would be.
 * - `urlParams: ['broker']`: the broker's host must be in DTR_HTTP_ALLOWED_HOSTS, checked when the
 *   rules file loads, like the built-in http.request.
 */
import { defineAction, skip, TerminalError, z } from 'dt-remediator'

/** Per request: the rule's `timeout` bounds the whole run, retries included. */
const REQUEST_TIMEOUT_MS = 10_000

/**
 * @param {URL} url
 * @param {AbortSignal} signal the run's: aborted on its timeout and on shutdown
 * @param {RequestInit} [init]
 */
async function call (url, signal, init = {}) {
  const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) })
  const text = await response.text()
  if (response.status === 404) throw new TerminalError(`${init.method ?? 'GET'} ${url.pathname}: no such queue (404)`)
  // 408, 429 and 5xx may pass; any other refusal will not, however often it is sent.
  if (response.status >= 400 && response.status !== 408 && response.status !== 429 && response.status < 500) {
    throw new TerminalError(`${init.method ?? 'GET'} ${url.pathname} was refused: ${response.status} ${text.slice(0, 200)}`)
  }
  if (response.status < 200 || response.status > 299) throw new Error(`${init.method ?? 'GET'} ${url.pathname} answered ${response.status}`)
  return /** @type {Record<string, unknown>} */ (JSON.parse(text))
}

/** @param {string} broker @param {string} queue @param {string} [suffix] */
const queueUrl = (broker, queue, suffix = '') => new URL(`queues/${encodeURIComponent(queue)}${suffix}`, broker.endsWith('/') ? broker : `${broker}/`)

export default defineAction({
  name: 'acme.drain-queue',
  description: 'Moves the messages of a queue whose consumers keep failing to a parking queue',
  entityTypes: ['SERVICE', 'PROCESS_GROUP_INSTANCE', 'CLOUD_APPLICATION'],
  params: z.object({
    /** The queue admin API, e.g. http://queue-admin.messaging.svc:8080 */
    broker: z.url({ protocol: /^https?$/ }),
    queue: z.string().min(1),
    /** Default: `<queue>.parked`. */
    to: z.string().min(1).optional(),
    /** At most this many messages in one run. */
    max: z.number().int().positive().max(100_000).default(10_000),
  }).strict(),
  // The queue comes from the rule's `with`, not from a Kubernetes workload.
  needsTarget: false,
  urlParams: ['broker'],

  async plan (ctx) {
    const { broker, queue, max } = ctx.params
    const { depth } = await call(queueUrl(broker, queue), ctx.signal)
    if (typeof depth !== 'number') throw new TerminalError(`GET ${queueUrl(broker, queue).pathname}: the answer has no depth`)
    if (depth === 0) return skip(`queue ${queue} is empty: nothing to park`)
    return { broker, queue, to: ctx.params.to ?? `${queue}.parked`, count: Math.min(depth, max), depth }
  },

  async run (ctx) {
    const { broker, queue, to, count, depth } = ctx.plan
    const what = `${count} of ${depth} messages from ${queue} to ${to}`
    if (ctx.dryRun) return { status: 'succeeded', summary: `Dry run: would move ${what}`, details: { queue, to, count } }
    const answer = await call(queueUrl(broker, queue, '/park'), ctx.signal, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': ctx.runId },
      body: JSON.stringify({ to, max: count }),
    })
    ctx.log.info({ queue, to, moved: answer.moved }, 'queue parked')
    return { status: 'succeeded', summary: `Moved ${what}`, details: { queue, to, moved: answer.moved, attempt: ctx.attempt } }
  },
})
