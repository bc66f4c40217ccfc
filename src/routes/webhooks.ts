/**
 * Webhook intake (SPEC 4): POST /webhooks/problem and /webhooks/security. Authenticate, parse,
 * validate, answer Dynatrace's test call, store durably, answer. Nothing here waits on Dynatrace
 * or Kubernetes: the work is queued in the same statement that stores the notification, and the
 * runner picks it up.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { DtrError } from '../errors.js'
import { toNewNotification } from '../domain/notification.js'
import {
  isTestNotification, parseProblemPayload, parseSecurityPayload,
  type NotificationKind, type ParseResult, type ProblemPayload, type SecurityPayload,
} from '../domain/payload.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which kind of notification a webhook route takes. */
    kind?: NotificationKind
  }
}

export interface WebhookRoutesOptions {
  readonly bodyLimit: number
}

const parsers: Record<NotificationKind, (body: unknown) => ParseResult<ProblemPayload | SecurityPayload>> = {
  problem: parseProblemPayload,
  security: parseSecurityPayload,
}

/**
 * Which errors count as which refusal in dtr_notifications_total. onError sees the error as
 * thrown — ours by DTR_ERR code, Fastify's and under-pressure's by their own — not the reply the
 * error handler makes of it.
 */
const refusalOutcome: Record<string, string> = {
  DTR_ERR_UNAUTHORIZED: 'unauthorized',
  DTR_ERR_INVALID_PAYLOAD: 'invalid',
  DTR_ERR_INVALID_JSON: 'invalid',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'invalid',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid',
  FST_ERR_CTP_BODY_TOO_LARGE: 'too_large',
  DTR_ERR_UNAVAILABLE: 'unavailable',
  FST_UNDER_PRESSURE: 'unavailable',
}

const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (fastify, options) => {
  // Dynatrace sends application/json, or — when the user configured another content type — the
  // same text without JSON escaping, so both are parsed as JSON and a parse failure is the
  // user's to fix (400), never ours (500). Other media types are refused with 415.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string', bodyLimit: options.bodyLimit }, (_request, text, done) => {
    const body = String(text)
    if (body.trim() === '') {
      done(new DtrError('DTR_ERR_INVALID_JSON', 'Body is empty; expected a JSON object'), undefined)
      return
    }
    try {
      done(null, JSON.parse(body))
    } catch (err) {
      done(new DtrError('DTR_ERR_INVALID_JSON', `Body is not valid JSON: ${(err as Error).message}`), undefined)
    }
  })

  fastify.addHook('onRequest', fastify.webhookAuth)

  fastify.addHook('onError', async (request, _reply, error) => {
    const outcome = refusalOutcome[(error as { code?: string }).code ?? ''] ?? 'error'
    fastify.metrics.notifications.inc({ kind: kindOf(request), outcome })
  })

  const kindOf = (request: FastifyRequest): NotificationKind => request.routeOptions.config.kind ?? 'problem'

  async function intake (request: FastifyRequest, reply: FastifyReply): Promise<{ status: string, notificationId?: string }> {
    const kind = kindOf(request)
    const body = request.body
    const parsed = parsers[kind](body)
    if (!parsed.ok) throw new DtrError('DTR_ERR_INVALID_PAYLOAD', parsed.errors.join('; '), { details: { errors: parsed.errors } })

    if (isTestNotification(kind, parsed.value)) {
      fastify.metrics.notifications.inc({ kind, outcome: 'test' })
      request.log.info({ kind }, 'test notification answered')
      reply.code(200)
      return { status: 'test' }
    }

    const notification = toNewNotification(randomUUID(), kind, parsed.value, body)
    const result = await fastify.store.notifications.record(notification)
    fastify.metrics.notifications.inc({ kind, outcome: result.status })
    request.log.info({ kind, problemId: notification.problemId, state: notification.state, notificationId: result.notificationId, status: result.status }, 'notification stored')
    reply.code(result.status === 'accepted' ? 202 : 200)
    return result
  }

  fastify.post('/webhooks/problem', { bodyLimit: options.bodyLimit, config: { kind: 'problem' } }, intake)
  fastify.post('/webhooks/security', { bodyLimit: options.bodyLimit, config: { kind: 'security' } }, intake)
}

export default webhookRoutes
