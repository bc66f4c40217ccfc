/**
 * Load shedding: webhooks are answered 503 with Retry-After at once, instead of every request
 * waiting longer (latency that grows without bound is worse for Dynatrace than a quick 503), when
 * - more than `maxInFlight` of them are being handled at once: the work in progress is bounded,
 *   so the latency of what is accepted is too (Little's law), however many clients connect;
 * - the event loop falls behind (@fastify/under-pressure). Not on event-loop utilisation: a busy
 *   but healthy service runs near 100% and would refuse work it could still do.
 * The other guards are the store's caps on notifications and bytes waiting for a commit, and the
 * connection cap (app.ts); the thresholds are in the README ("Performance").
 *
 * Routes with `config: { loadShedding: false }` are never shed: the probes and /metrics, so that
 * a liveness probe never kills a pod for being busy.
 */
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { DtrError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: this route answers under load too (probes, metrics). */
    loadShedding?: boolean
  }
}

export interface UnderPressureOptions {
  /** Webhook requests handled at once, at most; more are answered 503 as they arrive. */
  readonly maxInFlight?: number
  /** Shed while the event loop's mean delay over a sample exceeds this many ms. */
  readonly maxEventLoopDelayMs?: number
  readonly sampleIntervalMs?: number
  /** A check of one's own, run at registration and every sample: false sheds (tests trip it). */
  readonly healthCheck?: () => Promise<boolean>
}

export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 200
export const DEFAULT_MAX_IN_FLIGHT = 128

export default fp<UnderPressureOptions>(async function underPressurePlugin (fastify, options) {
  const sampleInterval = options.sampleIntervalMs ?? 500
  await fastify.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs ?? DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
    sampleInterval,
    ...(options.healthCheck === undefined ? {} : { healthCheck: options.healthCheck, healthCheckInterval: sampleInterval }),
    retryAfter: 5,
    async pressureHandler (request, _reply, type, value) {
      if (request.routeOptions.config.loadShedding === false) return
      throw new DtrError('DTR_ERR_UNAVAILABLE', `Service is overloaded (${type}${value === undefined ? '' : ` ${Math.round(value)}`}); retry later`)
    },
  })

  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
  let inFlight = 0
  const release = (): void => { inFlight-- }
  fastify.addHook('onRequest', (request, reply, next) => {
    if (request.routeOptions.config.loadShedding === false) {
      next()
      return
    }
    if (inFlight >= maxInFlight) {
      next(new DtrError('DTR_ERR_UNAVAILABLE', `Service is overloaded (${inFlight} requests in flight); retry later`))
      return
    }
    inFlight++
    // 'close' comes for every response, sent or aborted, so the count never leaks.
    reply.raw.once('close', release)
    next()
  })
}, { name: 'under-pressure', fastify: '5.x' })
