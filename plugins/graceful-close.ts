/**
 * While the app closes, requests that still arrive on kept-alive connections get 503 with
 * Retry-After, and every response asks the client to close its connection, so that clients stop
 * reusing connections the server is about to drop. Requests already in flight finish normally;
 * Fastify's own 503-on-closing is turned off (`return503OnClosing: false`) so this answer has our
 * error shape.
 *
 * One kind of in-flight request is not waited for: one still receiving its body when the close
 * begins gets `receivingGraceMs`, then a 408 and its connection closed. A stalled client would
 * otherwise hold the shutdown until its request timeout (Node stops checking those timeouts once
 * the server closes); nothing of such a request was accepted, so nothing is lost.
 */
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import { DtrError } from '../src/errors.js'
import { rawErrorResponse } from './error-handler.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** True once close() has begun. */
    readonly closing: boolean
  }
}

export interface GracefulCloseOptions {
  /** How long a request still receiving its body may go on once the close has begun. */
  readonly receivingGraceMs?: number
}

const hasBody = (raw: IncomingMessage): boolean =>
  raw.headers['transfer-encoding'] !== undefined || (raw.headers['content-length'] !== undefined && raw.headers['content-length'] !== '0')

export default fp<GracefulCloseOptions>(async function gracefulClosePlugin (fastify, options) {
  const grace = options.receivingGraceMs ?? 2000
  let closing = false
  const receiving = new Set<IncomingMessage>()
  fastify.decorate('closing', { getter: () => closing })
  // Callback hooks, not async ones: they run on every request, and a promise each is measurable.
  fastify.addHook('onRequest', (request, _reply, next) => {
    if (closing) {
      next(new DtrError('DTR_ERR_UNAVAILABLE', 'Service is shutting down; retry later'))
      return
    }
    // One listener: a request whose body has all arrived stays in the set until it closes, and
    // the close below looks at `complete` rather than waiting for an 'end' it already had.
    const raw = request.raw
    if (!raw.complete && hasBody(raw)) {
      receiving.add(raw)
      raw.once('close', () => { receiving.delete(raw) })
    }
    next()
  })
  fastify.addHook('onSend', (request, reply, payload, next) => {
    // Answered (early, e.g. 401 or 415): no longer waiting for its body.
    receiving.delete(request.raw)
    if (closing) reply.header('connection', 'close')
    next(null, payload)
  })
  fastify.addHook('preClose', async () => {
    closing = true
    const stillReceiving = (): boolean => { for (const raw of receiving) if (!raw.complete) return true; return false }
    if (!stillReceiving()) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, grace)
      const check = (): void => { if (!stillReceiving()) { clearTimeout(timer); resolve() } }
      for (const raw of receiving) raw.once('close', check).once('end', check)
    })
    for (const raw of receiving) {
      if (raw.complete || typeof raw.socket?.end !== 'function') continue
      fastify.log.info({ code: 'DTR_ERR_REQUEST_TIMEOUT', reqUrl: raw.url?.split('?', 1)[0] }, 'closing a request still receiving its body at shutdown')
      raw.socket.end(rawErrorResponse(408, 'DTR_ERR_REQUEST_TIMEOUT', 'The service is shutting down and the request body had not arrived; send it again'))
      raw.socket.destroySoon()
    }
  })
}, { name: 'graceful-close', fastify: '5.x' })
