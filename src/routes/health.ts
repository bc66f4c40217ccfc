/**
 * Liveness, readiness and metrics (SPEC 11). No authentication: Kubernetes probes and Prometheus
 * scrape them, and they reveal nothing about notifications.
 */
import type { FastifyPluginAsync } from 'fastify'

const healthRoutes: FastifyPluginAsync = async (fastify) => {
  fastify.get('/healthz', async () => ({ status: 'ok' }))

  fastify.get('/readyz', async (_request, reply) => {
    const store = await fastify.store.ping()
    // The rules plugin refuses to start without valid rules, and a reload keeps the old ones.
    const rules = fastify.hasDecorator('rules')
    reply.code(store && rules ? 200 : 503)
    return { status: store && rules ? 'ready' : 'not ready', checks: { store: store ? 'ok' : 'unreachable', rules: rules ? 'loaded' : 'not loaded' } }
  })

  fastify.get('/metrics', async (_request, reply) => {
    reply.type(fastify.metrics.registry.contentType)
    return fastify.metrics.registry.metrics()
  })
}

export default healthRoutes
