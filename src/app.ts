/**
 * The composition root: buildApp(deps) registers the infrastructure plugins (plugins/), then the
 * routes. Tests call it with `logger: false` and a store of their own; src/server.ts calls it with
 * the process's configuration and logger. Time and the intake's limits are dependencies too, so
 * a test of a 30-second timeout or a 30-day retention runs in milliseconds.
 */
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { serializerCompiler } from 'fastify-type-provider-zod'
import errorHandlerPlugin, { rawErrorResponse } from '../plugins/error-handler.js'
import gracefulClosePlugin from '../plugins/graceful-close.js'
import metricsPlugin from '../plugins/metrics.js'
import { RequestLog } from '../plugins/request-log.js'
import retentionPlugin from '../plugins/retention.js'
import storePlugin from '../plugins/store.js'
import underPressurePlugin, { type UnderPressureOptions } from '../plugins/under-pressure.js'
import validationPlugin, { zodValidator } from '../plugins/validation.js'
import webhookAuthPlugin from '../plugins/webhook-auth.js'
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config.js'
import type { Metrics } from './metrics.js'
import healthRoutes from './routes/health.js'
import webhookRoutes from './routes/webhooks.js'
import type { Store } from './store/index.js'
import type { NotificationStoreOptions } from './store/notifications.js'

/** How long and how much a client may take (SPEC 4). */
export interface IntakeLimits {
  /** A request whose headers and body have not all arrived this long after it started is closed with 408. */
  readonly requestTimeoutMs: number
  /** A request whose headers have not arrived within this is closed with 408. */
  readonly headersTimeoutMs: number
  /** How often the server looks for requests past those timeouts. */
  readonly timeoutCheckIntervalMs: number
  /** Open connections at most; more are closed as they arrive. */
  readonly maxConnections: number
  /** When the app starts closing, a request still receiving its body gets this long before its connection is closed. */
  readonly closingRequestTimeoutMs: number
}

export const DEFAULT_LIMITS: IntakeLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  timeoutCheckIntervalMs: 1000,
  maxConnections: 1024,
  closingRequestTimeoutMs: 2000,
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
  /** Where "now" comes from, for the store, leases and retention. */
  readonly clock?: Clock
  readonly limits?: Partial<IntakeLimits>
  readonly underPressure?: UnderPressureOptions
  /** Group commit and its caps, for a store the app opens. */
  readonly notifications?: NotificationStoreOptions
  /** The retention pass: how often, and the longest cooldown or budget window it must keep. */
  readonly retention?: { readonly intervalMs?: number, readonly batch?: number, readonly longestWindowMs?: number }
}

/**
 * Fastify's factories for the compilers of routes that plugins/validation.ts does not reach.
 * Fastify types them for ajv and fast-json-stringify; at run time a factory only has to return a
 * compiler, and these return the zod ones.
 */
type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
const zodCompilers = {
  buildValidator: () => zodValidator('DTR_ERR_INVALID_REQUEST'),
  buildSerializer: () => serializerCompiler,
} as unknown as CompilersFactory

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`

/**
 * Answers what Node refuses before Fastify sees a request — a request past its headers or request
 * timeout (408), or bytes that are not HTTP (400) — in our error shape, and closes the connection.
 */
function clientErrorHandler (limits: IntakeLimits) {
  return function onClientError (this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    const code = timeout ? 'DTR_ERR_REQUEST_TIMEOUT' : 'DTR_ERR_INVALID_REQUEST'
    const message = timeout
      ? `The request did not arrive in time (headers within ${seconds(limits.headersTimeoutMs)}, all of it within ${seconds(limits.requestTimeoutMs)}); the connection is closed`
      : 'The request is not valid HTTP'
    this.log.info({ code, reason: err.code }, 'connection closed')
    if (socket.writable) socket.end(rawErrorResponse(timeout ? 408 : 400, code, message))
    socket.destroySoon()
  }
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  const clock = options.clock ?? systemClock
  const limits = { ...DEFAULT_LIMITS, ...options.limits }
  const logger = options.logger ?? false
  const app = Fastify({
    ...(typeof logger === 'object' && logger !== null && 'child' in logger ? { loggerInstance: logger } : { logger }),
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID()
    },
    bodyLimit: config.bodyLimit,
    // plugins/graceful-close answers 503 itself while closing, in our error shape.
    return503OnClosing: false,
    logController: new RequestLog(),
    // Every schema is a zod schema (plugins/validation.ts), so Fastify's default compilers (ajv,
    // fast-json-stringify) are never used; naming ours here keeps them from being loaded at all,
    // which saves about 70 ms of start-up and some memory.
    schemaController: { compilersFactory: zodCompilers },
    // Node closes a request whose body has not arrived within requestTimeout (Fastify's default
    // turns that off, and a client stalling mid-body held its socket for minutes).
    requestTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    clientErrorHandler: clientErrorHandler(limits),
  })
  app.server.maxConnections = limits.maxConnections
  app.decorateRequest('logFields', undefined)

  await app.register(errorHandlerPlugin)
  await app.register(gracefulClosePlugin, { receivingGraceMs: limits.closingRequestTimeoutMs })
  await app.register(underPressurePlugin, options.underPressure ?? {})
  await app.register(validationPlugin)
  await app.register(metricsPlugin, { metrics: options.metrics, defaultMetrics: options.defaultMetrics })
  await app.register(storePlugin, {
    location: config,
    store: options.store,
    clock,
    notifications: { retentionMs: config.retentionMs, ...options.notifications },
  })
  await app.register(retentionPlugin, { retentionMs: config.retentionMs, clock: options.store?.clock ?? clock, ...options.retention })
  await app.register(webhookAuthPlugin, { tokens: config.webhookTokens, header: config.webhookTokenHeader })

  await app.register(healthRoutes)
  await app.register(webhookRoutes, { bodyLimit: config.bodyLimit })
  return app
}
