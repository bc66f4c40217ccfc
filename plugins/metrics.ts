/**
 * The app's Prometheus metrics, decorated as `fastify.metrics` so routes and the runner count into
 * one registry. Default process metrics are collected only when asked, since they install timers
 * and several apps in one test process would each collect them.
 */
import fp from 'fastify-plugin'
import { createMetrics, type Metrics } from '../src/metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

export interface MetricsPluginOptions {
  readonly metrics?: Metrics
  readonly defaultMetrics?: boolean
}

export default fp<MetricsPluginOptions>(async function metricsPlugin (fastify, options) {
  fastify.decorate('metrics', options.metrics ?? createMetrics({ defaultMetrics: options.defaultMetrics }))
}, { name: 'metrics', fastify: '5.x' })
