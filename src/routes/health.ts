/**
 * Liveness, readiness and metrics (SPEC 11). No authentication: Kubernetes probes and Prometheus
 * scrape them, and they reveal nothing about notifications. None of them is shed under load
 * (`loadShedding: false`): /healthz says the process is alive, however busy, so a liveness probe
 * never kills a busy pod; /readyz says whether the store answers and accepts commits (503 while
 * they fail, e.g. on a full disk), not how loaded the service is. /healthz fails only when the
 * process can never work again: the embedded store's writer thread has died (out of memory),
 * so every notification would get 503 until a restart, which the kubelet then does.
 */
import type { FastifyPluginAsync } from 'fastify'

const healthRoutes: FastifyPluginAsync = async (fastify) => {
  const always = { config: { loadShedding: false } }

  let reported = false
  fastify.get('/healthz', always, async (_request, reply) => {
    const broken = fastify.store.broken()
    if (broken === undefined) return { status: 'ok' }
    if (!reported) {
      reported = true
      fastify.log.error({ event: 'store-broken', reason: broken }, `The store can no longer be used in this process (${broken}); /healthz answers 503 so that it is restarted`)
    }
    reply.code(503)
    return { status: 'failing', reason: broken }
  })

  fastify.get('/readyz', always, async (_request, reply) => {
    const health = await fastify.store.health()
    // The rules plugin refuses to start without valid rules, and a reload keeps the old ones.
    const rules = fastify.hasDecorator('rules')
    const ready = health.ready && rules
    reply.code(ready ? 200 : 503)
    return { status: ready ? 'ready' : 'not ready', checks: { store: health.store, rules: rules ? 'loaded' : 'not loaded' } }
  })

  fastify.get('/metrics', always, async (_request, reply) => {
    reply.type(fastify.metrics.registry.contentType)
    return fastify.metrics.exposition()
  })
}

export default healthRoutes
