/**
 * Webhook intake (SPEC 4): POST /webhooks/problem and /webhooks/security. Authenticate, parse,
 * validate (the route schemas are the payload schemas of src/domain/payload.ts), answer
 * Dynatrace's test call, store durably, answer. Nothing here waits on Dynatrace or Kubernetes:
 * the work is queued in the same statement that stores the notification, and the runner picks it
 * up.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { toNewNotification } from '../domain/notification.js'
import {
  isTestNotification, problemPayloadSchema, securityPayloadSchema,
  type NotificationKind, type ProblemPayload, type SecurityPayload,
} from '../domain/payload.js'
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
  DTR_ERR_UNAVAILABLE: 'unavailable',
}

const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (fastify, options) => {
  fastify.setValidatorCompiler(fastify.zodValidator('DTR_ERR_INVALID_PAYLOAD'))
  fastify.decorateRequest('receivedBody', undefined)

  // Dynatrace sends application/json, or — when the user configured another content type — the
  // same text without JSON escaping, so both are parsed as JSON and a parse failure is the
  // user's to fix (400), never ours (500). Other media types are refused with 415.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string', bodyLimit: options.bodyLimit }, (request, text, done) => {
    const body = String(text)
    if (body.trim() === '') {
      done(new DtrError('DTR_ERR_INVALID_JSON', 'Body is empty; expected a JSON object'), undefined)
      return
    }
    try {
      request.receivedBody = JSON.parse(body)
      done(null, request.receivedBody)
    } catch (err) {
      done(new DtrError('DTR_ERR_INVALID_JSON', `Body is not valid JSON: ${(err as Error).message}`), undefined)
    }
  })

  fastify.addHook('onRequest', fastify.webhookAuth)

  const kindOf = (request: FastifyRequest): NotificationKind => request.routeOptions.config.kind ?? 'problem'

  fastify.addHook('onError', async (request, _reply, error) => {
    fastify.metrics.notifications.inc({ kind: kindOf(request), outcome: refusalOutcome[errorCodeOf(error)] ?? 'error' })
  })

  async function intake (request: FastifyRequest, reply: FastifyReply, payload: ProblemPayload | SecurityPayload): Promise<{ status: string, notificationId?: string }> {
    const kind = kindOf(request)
    if (isTestNotification(kind, payload)) {
      fastify.metrics.notifications.inc({ kind, outcome: 'test' })
      request.log.info({ kind }, 'test notification answered')
      reply.code(200)
      return { status: 'test' }
    }
    const notification = toNewNotification(randomUUID(), kind, payload, request.receivedBody)
    const result = await fastify.store.notifications.record(notification)
    if (result.status === 'accepted') fastify.runner.wake()
    fastify.metrics.notifications.inc({ kind, outcome: result.status })
    request.log.info({ kind, problemId: notification.problemId, state: notification.state, notificationId: result.notificationId, status: result.status }, 'notification stored')
    reply.code(result.status === 'accepted' ? 202 : 200)
    return result
  }

  const routes = fastify.withTypeProvider<ZodTypeProvider>()
  routes.post('/webhooks/problem', { bodyLimit: options.bodyLimit, config: { kind: 'problem' }, schema: { body: problemPayloadSchema } },
    async (request, reply) => intake(request, reply, request.body))
  routes.post('/webhooks/security', { bodyLimit: options.bodyLimit, config: { kind: 'security' }, schema: { body: securityPayloadSchema } },
    async (request, reply) => intake(request, reply, request.body))
}

export default webhookRoutes
