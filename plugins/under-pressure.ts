/**
 * Load shedding: webhooks are answered 503 with Retry-After at once, instead of every request
 * waiting longer (latency that grows without bound is worse for Dynatrace than a quick 503), when
 * - more than `maxInFlight` of them are being handled at once: the work in progress is bounded,
 *   so the latency of what is accepted is too (Little's law), however many clients connect;
 * - the event loop falls behind. Not on event-loop utilisation: a busy but healthy service runs
 *   near 100% and would refuse work it could still do;
 * - a check of one's own fails (`healthCheck`).
 * The other guards are the store's caps on notifications and bytes waiting for a commit, and the
 * connection cap (app.ts); the thresholds are in the README ("Performance").
 *
 * Routes with `config: { loadShedding: false }` are never shed: the probes and /metrics, so that
 * a liveness probe never kills a pod for being busy. Nor is anything under the admin API's and the
 * console's prefixes (SPEC 11): they are how an operator pauses or approves during the very
 * overload that sheds webhooks.
 *
 * This plugin replaced @fastify/under-pressure: that read an interval in which no event-loop
 * sample landed (the process descheduled on a loaded 2-core node) as a delay of Infinity and shed
 * everything — here such an interval is "unknown", never overload — and it cost every webhook a
 * second hook. The whole check is one synchronous onRequest hook: it runs on every webhook, so it
 * costs a few comparisons and one 'close' listener, with no promise.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
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
  /**
   * A check of one's own, run at registration and every sample: false (or a throw) sheds until it
   * passes again (tests trip it).
   */
  readonly healthCheck?: () => Promise<boolean>
  /**
   * The mean event-loop delay (ms) of the last complete sample interval, undefined when no sample
   * landed in it. Default: sampled with monitorEventLoopDelay every sampleIntervalMs (tests inject).
   */
  readonly eventLoopDelay?: () => number | undefined
}

/**
 * Whether load shedding leaves this request alone: a probe or /metrics (`loadShedding: false`),
 * or anything under the admin API's and the console's prefixes (SPEC 11). The prefixes are
 * matched on the URL as sent: a query string comes after them, so it cannot make one match.
 */
function neverShed (request: FastifyRequest): boolean {
  if (request.routeOptions.config.loadShedding === false) return true
  const url = request.url
  return url.startsWith('/api/') || url.startsWith('/ui/') || url === '/ui' || url.startsWith('/ui?')
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
const RETRY_AFTER_S = '5'

export default fp<UnderPressureOptions>(async function underPressurePlugin (fastify, options) {
  const sampleInterval = options.sampleIntervalMs ?? 500

  // The check of one's own: its last answer is what a request reads.
  let healthy = true
  const healthCheck = options.healthCheck
  if (healthCheck !== undefined) {
    const check = async (): Promise<void> => {
      try {
        healthy = await healthCheck()
      } catch (err) {
        healthy = false
        fastify.log.warn({ err }, 'the overload check failed: webhooks are shed until it passes')
      }
    }
    await check()
    let checking = false
    const timer = setInterval(() => {
      if (checking) return
      checking = true
      check().finally(() => { checking = false }).catch(() => {})
    }, sampleInterval)
    timer.unref()
    fastify.addHook('onClose', async () => { clearInterval(timer) })
  }

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
  const overloaded = (why: string): DtrError => new DtrError('DTR_ERR_UNAVAILABLE', `Service is overloaded (${why}); retry later`)
  fastify.addHook('onRequest', (request, reply, next) => {
    if (neverShed(request)) {
      next()
      return
    }
    const delay = eventLoopDelay()
    if (delay !== undefined && Number.isFinite(delay) && delay > maxDelay) {
      reply.header('retry-after', RETRY_AFTER_S)
      next(overloaded(`eventLoopDelay ${Math.round(delay)}`))
      return
    }
    if (!healthy) {
      reply.header('retry-after', RETRY_AFTER_S)
      next(overloaded('healthCheck'))
      return
    }
    if (inFlight >= maxInFlight) {
      next(overloaded(`${inFlight} requests in flight`))
      return
    }
    inFlight++
    // 'close' comes once for every response, sent or aborted, so the count never leaks (a plain
    // listener: `once` would wrap it anew for every request).
    reply.raw.on('close', release)
    next()
  })
}, { name: 'under-pressure', fastify: '5.x' })
