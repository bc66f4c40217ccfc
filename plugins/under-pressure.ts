/**
 * Load shedding with @fastify/under-pressure: 503 with Retry-After when the event loop falls a
 * second behind. Not on event-loop utilisation: a busy but healthy service runs near 100% and
 * would refuse work it could still do. The other overload guard is the store's cap on
 * notifications waiting for a commit.
 */
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'

export interface UnderPressureOptions {
  readonly maxEventLoopDelay?: number
}

export default fp<UnderPressureOptions>(async function underPressurePlugin (fastify, options) {
  await fastify.register(underPressure, { maxEventLoopDelay: options.maxEventLoopDelay ?? 1000, retryAfter: 5 })
}, { name: 'under-pressure', fastify: '5.x' })
