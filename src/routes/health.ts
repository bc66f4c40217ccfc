/**
 * Liveness, readiness and metrics (SPEC 11). No authentication: Kubernetes probes and Prometheus
 * scrape them, and they reveal nothing about notifications.
 */
import type { FastifyPluginAsync } from 'fastify'

const healthRoutes: FastifyPluginAsync = async (fastify) => {
  fastify.get('/healthz', async () => ({ status: 'ok' }))

  fastify.get('/readyz', async (_request, reply) => {
    const store = await fastify.store.ping()
    reply.code(store ? 200 : 503)
    return { status: store ? 'ready' : 'not ready', checks: { store: store ? 'ok' : 'unreachable' } }
  })

  fastify.get('/metrics', async (_request, reply) => {
    reply.type(fastify.metrics.registry.contentType)
    return fastify.metrics.registry.metrics()
  })
}

export default healthRoutes
