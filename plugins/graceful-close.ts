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

/** Below this size, the set of requests receiving their bodies is not swept. */
const SWEEP_MIN = 256

/**
 * The requests still receiving their bodies. A request leaves when it is answered (onSend). One
 * that never is (its client went away) is destroyed, and is swept out once the set has doubled
 * since the last sweep: no listener per request (adding and removing one was ~2 µs of every
 * webhook under load), and the set holds at most about twice what is really in flight, however
 * many clients give up half-way.
 */
export class Receiving<T extends { readonly destroyed: boolean }> {
  readonly #requests = new Set<T>()
  #sweepAt = SWEEP_MIN

  get size (): number { return this.#requests.size }

  add (request: T): void {
    this.#requests.add(request)
    if (this.#requests.size < this.#sweepAt) return
    for (const r of this.#requests) if (r.destroyed) this.#requests.delete(r)
    this.#sweepAt = Math.max(SWEEP_MIN, 2 * this.#requests.size)
  }

  delete (request: T): void { this.#requests.delete(request) }

  [Symbol.iterator] (): IterableIterator<T> { return this.#requests.values() }
}

const hasBody = (raw: IncomingMessage): boolean =>
  raw.headers['transfer-encoding'] !== undefined || (raw.headers['content-length'] !== undefined && raw.headers['content-length'] !== '0')

export default fp<GracefulCloseOptions>(async function gracefulClosePlugin (fastify, options) {
  const grace = options.receivingGraceMs ?? 2000
  let closing = false
  const receiving = new Receiving<IncomingMessage>()
  fastify.decorate('closing', { getter: () => closing })
  // Callback hooks, not async ones: they run on every request, and a promise each is measurable.
  fastify.addHook('onRequest', (request, _reply, next) => {
    if (closing) {
      next(new DtrError('DTR_ERR_UNAVAILABLE', 'Service is shutting down; retry later'))
      return
    }
    // A request whose body has all arrived may stay in the set until it is answered: the close
    // below looks at `complete` (and `destroyed`) rather than waiting for an event it already had.
    const raw = request.raw
    if (!raw.complete && hasBody(raw)) receiving.add(raw)
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
    const stillReceiving = (): boolean => { for (const raw of receiving) if (!raw.complete && !raw.destroyed) return true; return false }
    if (!stillReceiving()) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, grace)
      const check = (): void => { if (!stillReceiving()) { clearTimeout(timer); resolve() } }
      for (const raw of receiving) raw.once('close', check).once('end', check)
    })
    for (const raw of receiving) {
      if (raw.complete || raw.destroyed || typeof raw.socket?.end !== 'function') continue
      fastify.log.info({ code: 'DTR_ERR_REQUEST_TIMEOUT', reqUrl: raw.url?.split('?', 1)[0] }, 'closing a request still receiving its body at shutdown')
      raw.socket.end(rawErrorResponse(408, 'DTR_ERR_REQUEST_TIMEOUT', 'The service is shutting down and the request body had not arrived; send it again'))
      raw.socket.destroySoon()
    }
  })
}, { name: 'graceful-close', fastify: '5.x' })
