/**
 * Webhook intake (SPEC 4): POST /webhooks/<kind>, one route per notification kind
 * (src/domain/kinds/: /webhooks/problem, /webhooks/security). Authenticate, parse, validate (the
 * route's schema is its kind's payload schema, whose output is all the code reads), answer
 * Dynatrace's test call, store durably, answer. Nothing here waits on Dynatrace or Kubernetes:
 * the work is queued in the same transaction that stores the notification, and the runner picks
 * it up.
 *
 * Every bad input is the sender's to fix and gets its 4xx naming the field before anything
 * reaches the store: a compressed body (415), bytes that are not UTF-8, bad JSON, JSON nested
 * too deep or holding strings the store cannot keep (400). The one log line per request is
 * written by plugins/request-log.ts, with the fields set here in `request.logFields`.
 */
import { isUtf8 } from 'node:buffer'
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { ALL_KINDS, type NotificationKindModule } from '../domain/kinds/index.js'
import { toNewNotification, uuidV7 } from '../domain/notification.js'
import type { NotificationKind } from '../domain/payload.js'
import { unsafeIntegerFields } from '../domain/unsafe-integers.js'
import { mayBeUnstorable, unstorableFields } from '../domain/storable.js'
import { DtrError, errorCodeOf, type ErrorCode } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which kind of notification a webhook route takes. */
    kind?: NotificationKind
  }
  interface FastifyRequest {
    /** The body exactly as received (JSON-parsed): what is stored and deduplicated. */
    receivedBody: unknown
  }
}

export interface WebhookRoutesOptions {
  readonly bodyLimit: number
}

/** How a refusal counts in dtr_notifications_total, by the code it is answered with. */
const refusalOutcome: Partial<Record<ErrorCode, string>> = {
  DTR_ERR_UNAUTHORIZED: 'unauthorized',
  DTR_ERR_INVALID_PAYLOAD: 'invalid',
  DTR_ERR_INVALID_JSON: 'invalid',
  DTR_ERR_UNSUPPORTED_MEDIA_TYPE: 'invalid',
  DTR_ERR_BODY_TOO_LARGE: 'too_large',
  DTR_ERR_REQUEST_TIMEOUT: 'invalid',
  DTR_ERR_UNAVAILABLE: 'unavailable',
  DTR_ERR_STORE: 'unavailable',
}

const JSON_TYPE = 'application/json; charset=utf-8'
const TEST_ANSWER = JSON.stringify({ status: 'test' })

const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (fastify, options) => {
  fastify.setValidatorCompiler(fastify.zodValidator('DTR_ERR_INVALID_PAYLOAD'))
  fastify.decorateRequest('receivedBody', undefined)

  // Dynatrace sends application/json, or — when the user configured another content type — the
  // same text without JSON escaping, so both are parsed as JSON and a parse failure is the
  // user's to fix (400), never ours (500). Other media types are refused with 415. The body is
  // read as bytes so that invalid UTF-8 is refused rather than silently replaced.
  fastify.removeAllContentTypeParsers()
  // Nothing decompresses bodies here: a compressed one would be read as garbage JSON. (Checked
  // here rather than in a preParsing hook, which cost every webhook a hook run; a body with a
  // media type we do not parse is refused with 415 all the same.)
  fastify.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (request, raw, done) => {
    const encoding = request.headers['content-encoding']
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      done(new DtrError('DTR_ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not supported; send the body uncompressed`), undefined)
      return
    }
    const bytes = raw as Buffer
    const text = bytes.toString('utf8')
    // Decoding replaces invalid sequences with U+FFFD; only a body that then holds one (rare) is
    // checked byte by byte, since a U+FFFD may also have been sent as such.
    if (text.includes('\uFFFD') && !isUtf8(bytes)) {
      done(new DtrError('DTR_ERR_INVALID_JSON', 'Body is not valid UTF-8; send the JSON encoded as UTF-8'), undefined)
      return
    }
    // (A test, not trim(): a copy of every body only to compare it with ''.)
    if (/^\s*$/.test(text)) {
      done(new DtrError('DTR_ERR_INVALID_JSON', 'Body is empty; expected a JSON object'), undefined)
      return
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch (err) {
      done(new DtrError('DTR_ERR_INVALID_JSON', `Body is not valid JSON: ${(err as Error).message}`), undefined)
      return
    }
    const unsafe = unsafeIntegerFields(body, text)
    if (unsafe.length > 0) {
      done(new DtrError('DTR_ERR_INVALID_PAYLOAD', unsafe.join('; '), { details: { errors: unsafe } }), undefined)
      return
    }
    const unstorable = mayBeUnstorable(text) ? unstorableFields(body) : []
    if (unstorable.length > 0) {
      done(new DtrError('DTR_ERR_INVALID_PAYLOAD', unstorable.join('; '), { details: { errors: unstorable } }), undefined)
      return
    }
    request.receivedBody = body
    done(null, body)
  })

  fastify.addHook('onRequest', fastify.webhookAuth)

  const kindOf = (request: FastifyRequest): NotificationKind => request.routeOptions.config.kind ?? 'problem'

  // One tally per (kind, outcome), made once: a plain addition per request, joined to the counter
  // when it is read (src/metrics.ts). What reconciliation takes in counts with source="reconcile"
  // (src/runner/reconcile/).
  const counters = new Map<string, { inc(): void }>()
  const count = (kind: NotificationKind, outcome: string): void => {
    const key = `${kind}/${outcome}`
    let counter = counters.get(key)
    if (counter === undefined) {
      counter = fastify.metrics.notificationTally({ kind, outcome, source: 'webhook' })
      counters.set(key, counter)
    }
    counter.inc()
  }

  fastify.addHook('onError', async (request, _reply, error) => {
    count(kindOf(request), refusalOutcome[errorCodeOf(error)] ?? 'error')
  })

  // Answers are JSON text already, so Fastify sends them as they are: its serializer lookup and
  // pre-serialization pass were ~2 µs of every webhook under load, for JSON.stringify's output.
  async function intake (request: FastifyRequest, reply: FastifyReply, module: NotificationKindModule, payload: unknown): Promise<string> {
    const kind = module.kind
    reply.header('content-type', JSON_TYPE)
    if (module.isTest(payload)) {
      count(kind, 'test')
      request.logFields = { kind, status: 'test' }
      reply.code(200)
      return TEST_ANSWER
    }
    const notification = toNewNotification(uuidV7(fastify.store.clock.now(), randomUUID()), kind, payload, request.receivedBody)
    const result = await fastify.store.notifications.record(notification)
    if (result.status === 'accepted') fastify.runner.notified()
    count(kind, result.status)
    request.logFields = { kind, problemId: notification.problemId, state: notification.state, notificationId: result.notificationId, status: result.status }
    reply.code(result.status === 'accepted' ? 202 : 200)
    return JSON.stringify(result)
  }

  const routes = fastify.withTypeProvider<ZodTypeProvider>()
  for (const module of ALL_KINDS) {
    routes.post(`/webhooks/${module.kind}`, { bodyLimit: options.bodyLimit, config: { kind: module.kind }, schema: { body: module.schema } },
      async (request, reply) => intake(request, reply, module, request.body))
  }
}

export default webhookRoutes
