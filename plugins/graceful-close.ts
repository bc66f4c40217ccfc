/**
 * While the app closes, requests that still arrive on kept-alive connections get 503 with
 * Retry-After, and every response asks the client to close its connection, so that clients stop
 * reusing connections the server is about to drop. Requests already in flight finish normally;
 * Fastify's own 503-on-closing is turned off (`return503OnClosing: false`) so this answer has our
 * error shape.
 */
import fp from 'fastify-plugin'
import { DtrError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** True once close() has begun. */
    readonly closing: boolean
  }
}

export default fp(async function gracefulClosePlugin (fastify) {
  let closing = false
  fastify.decorate('closing', { getter: () => closing })
  fastify.addHook('preClose', async () => { closing = true })
  fastify.addHook('onRequest', async () => {
    if (closing) throw new DtrError('DTR_ERR_UNAVAILABLE', 'Service is shutting down; retry later')
  })
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
}, { name: 'graceful-close', fastify: '5.x' })
