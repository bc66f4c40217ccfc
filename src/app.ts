/**
 * The composition root: buildApp(options) registers the infrastructure plugins, then the routes.
 * Tests call it with `logger: false` and a store of their own; src/server.ts calls it with the
 * process's configuration and logger.
 */
import { randomUUID } from 'node:crypto'
import underPressure from '@fastify/under-pressure'
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import { DtrError } from './errors.js'
import type { Metrics } from './metrics.js'
import metricsPlugin from './plugins/metrics.js'
import storePlugin from './plugins/store.js'
import webhookAuthPlugin from './plugins/webhook-auth.js'
import { errorHandler, notFoundHandler } from './routes/error-handler.js'
import healthRoutes from './routes/health.js'
import webhookRoutes from './routes/webhooks.js'
import type { Store } from './store/index.js'

const PROBES = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * One info line per request, when it completes, instead of Fastify's two; the arrival only at
 * debug level; probes and scrapes only at debug level, so a kubelet polling /readyz does not
 * drown the log.
 */
class RequestLog extends LogController {
  override incomingRequest (request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) {
      super.requestCompleted(error, request, reply)
      return
    }
    const line = { req: { method: request.method, url: request.url }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }
    if (PROBES.has(request.routeOptions.url ?? '')) reply.log.debug(line, 'request completed')
    else reply.log.info(line, 'request completed')
  }
}

export interface AppOptions {
  readonly config: Config
  /** Fastify's logger option: pino options, an instance, or false. */
  readonly logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance']
  /** A store to use instead of opening the configured one; the caller closes it. */
  readonly store?: Store
  readonly metrics?: Metrics
  /** Collect default process metrics (the server does; tests need not). */
  readonly defaultMetrics?: boolean
}

/** Redacted wherever they could appear in a log line. */
export function redactPaths (tokenHeader: string): string[] {
  return [
    'req.headers.authorization',
    `req.headers["${tokenHeader}"]`,
    'req.headers.cookie',
    'headers.authorization',
    `headers["${tokenHeader}"]`,
  ]
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  const logger = options.logger ?? false
  const app = Fastify({
    ...(typeof logger === 'object' && logger !== null && 'child' in logger ? { loggerInstance: logger } : { logger }),
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID()
    },
    bodyLimit: config.bodyLimit,
    // We answer 503 ourselves while closing, in our error shape (see the preClose hook below).
    return503OnClosing: false,
    logController: new RequestLog(),
  })

  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)

  // While closing, requests that still arrive on kept-alive connections get 503, and every
  // response asks the client to close its connection, so that clients stop reusing connections
  // the server is about to drop; Dynatrace resends. Requests already in flight finish normally.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onRequest', async () => {
    if (closing) throw new DtrError('DTR_ERR_UNAVAILABLE', 'Service is shutting down; retry later')
  })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })

  await app.register(underPressure, {
    // Shed load when the event loop falls a second behind. Not on event-loop utilisation: a busy
    // but healthy service runs near 100% and would refuse work it could still do. The other
    // overload guard is the store's cap on notifications waiting for a commit.
    maxEventLoopDelay: 1000,
    retryAfter: 5,
  })
  await app.register(metricsPlugin, { metrics: options.metrics, defaultMetrics: options.defaultMetrics })
  await app.register(storePlugin, { location: config, store: options.store })
  await app.register(webhookAuthPlugin, { tokens: config.webhookTokens, header: config.webhookTokenHeader })

  await app.register(healthRoutes)
  await app.register(webhookRoutes, { bodyLimit: config.bodyLimit })
  return app
}
