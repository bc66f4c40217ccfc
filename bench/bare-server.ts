/**
 * The baseline for the benchmark: a bare Fastify route that parses the same JSON body and answers
 * 202, with nothing else — no auth, no validation, no store.
 */
import Fastify from 'fastify'

// forceCloseConnections: autocannon leaves its sockets open after a run, and the baseline has
// nothing in flight worth draining.
const app = Fastify({ logger: false, bodyLimit: 1048576, forceCloseConnections: true })
app.post('/webhooks/problem', async (request, reply) => {
  reply.code(202)
  return { status: 'accepted', notificationId: typeof request.body }
})
const url = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`${JSON.stringify({ url })}\n`)
process.on('SIGTERM', () => { app.close().catch(() => {}) })
