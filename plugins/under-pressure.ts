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
 * a liveness probe never kills a pod for being busy. Nor is anything under NEVER_SHED_PREFIXES
 * (SPEC 11): the admin API and the console are how an operator pauses or approves during the very
 * overload that sheds webhooks.
 *
 * The event-loop delay is sampled here rather than by @fastify/under-pressure: it reads an
 * interval in which no sample landed (the process was descheduled, e.g. on a loaded 2-core node)
 * as a delay of Infinity and shed everything; an interval without a sample is "unknown", never
 * overload.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import underPressure from '@fastify/under-pressure'
import type { FastifyRequest } from 'fastify'
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
  /**
   * The mean event-loop delay (ms) of the last complete sample interval, undefined when no sample
   * landed in it. Default: sampled with monitorEventLoopDelay every sampleIntervalMs (tests inject).
   */
  readonly eventLoopDelay?: () => number | undefined
}

/** Paths under these prefixes are never shed: the admin API and the operator console (SPEC 11). */
const NEVER_SHED_PREFIXES: readonly string[] = ['/api/', '/ui/']

/** Whether load shedding leaves this request alone: a probe, /metrics, the admin API or the console. */
function neverShed (request: FastifyRequest): boolean {
  if (request.routeOptions.config.loadShedding === false) return true
  const path = request.url.split('?', 1)[0] ?? ''
  return path === '/ui' || NEVER_SHED_PREFIXES.some((prefix) => path.startsWith(prefix))
}

/** Histogram resolution (ms): the histogram's own timer lateness, subtracted from its mean. */
const RESOLUTION_MS = 10

/** Samples the event loop's mean delay per interval; undefined for an interval with no sample. */
function eventLoopSampler (intervalMs: number): { read: () => number | undefined, stop: () => void } {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  histogram.enable()
  let last: number | undefined
  const timer = setInterval(() => {
    last = histogram.count === 0 ? undefined : Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS)
    histogram.reset()
  }, Math.max(intervalMs, RESOLUTION_MS))
  timer.unref()
  return { read: () => last, stop: () => { clearInterval(timer); histogram.disable() } }
}

export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 200
export const DEFAULT_MAX_IN_FLIGHT = 128

export default fp<UnderPressureOptions>(async function underPressurePlugin (fastify, options) {
  const sampleInterval = options.sampleIntervalMs ?? 500
  // @fastify/under-pressure keeps only the health check (and its Retry-After); the delay is ours.
  await fastify.register(underPressure, {
    sampleInterval,
    ...(options.healthCheck === undefined ? {} : { healthCheck: options.healthCheck, healthCheckInterval: sampleInterval }),
    retryAfter: 5,
    async pressureHandler (request, _reply, type, value) {
      if (neverShed(request)) return
      throw new DtrError('DTR_ERR_UNAVAILABLE', `Service is overloaded (${type}${value === undefined ? '' : ` ${Math.round(value)}`}); retry later`)
    },
  })

  const maxDelay = options.maxEventLoopDelayMs ?? DEFAULT_MAX_EVENT_LOOP_DELAY_MS
  let readDelay = options.eventLoopDelay
  if (readDelay === undefined) {
    const sampler = eventLoopSampler(sampleInterval)
    fastify.addHook('onClose', async () => { sampler.stop() })
    readDelay = sampler.read
  }
  const eventLoopDelay = readDelay
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
  let inFlight = 0
  const release = (): void => { inFlight-- }
  fastify.addHook('onRequest', (request, reply, next) => {
    if (neverShed(request)) {
      next()
      return
    }
    const delay = eventLoopDelay()
    if (delay !== undefined && Number.isFinite(delay) && delay > maxDelay) {
      reply.header('retry-after', '5')
      next(new DtrError('DTR_ERR_UNAVAILABLE', `Service is overloaded (eventLoopDelay ${Math.round(delay)}); retry later`))
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
