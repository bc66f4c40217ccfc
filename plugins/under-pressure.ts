/**
 * Load shedding with @fastify/under-pressure: when the event loop falls behind, webhooks are
 * answered 503 with Retry-After at once, instead of every request waiting longer (latency that
 * grows without bound is worse for Dynatrace than a quick 503 it resends). Not on event-loop
 * utilisation: a busy but healthy service runs near 100% and would refuse work it could still do.
 * The other overload guards are the store's caps on notifications and bytes waiting for a commit,
 * and the connection cap (app.ts); the thresholds are in the README ("Performance").
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
  /** Shed while the event loop's mean delay over a sample exceeds this many ms. */
  readonly maxEventLoopDelayMs?: number
  readonly sampleIntervalMs?: number
  /** A check of one's own, run at registration and every sample: false sheds (tests trip it). */
  readonly healthCheck?: () => Promise<boolean>
}

export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 200

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
}, { name: 'under-pressure', fastify: '5.x' })
