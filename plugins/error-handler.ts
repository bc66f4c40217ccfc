/**
 * The one error handler: every reply for an error is `{"code":"DTR_ERR_…","message":"…"}` with
 * the catalogue's status. Our own errors carry their code; the few Fastify and plugin errors a
 * client can cause are mapped by src/errors.ts's one table; anything else is a 500 whose details
 * stay in the log. Unknown routes answer in the same shape.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { errorCatalogue, toDtrError, type DtrError } from '../src/errors.js'

interface ErrorReply { code: string, message: string }

/**
 * Pure: a whole HTTP/1.1 error response in our shape, for the few places that answer on the raw
 * socket, before or outside Fastify's reply (a request past its timeout), and close it.
 */
export function rawErrorResponse (status: 400 | 408, code: string, message: string): string {
  const body = JSON.stringify({ code, message })
  const reason = status === 408 ? 'Request Timeout' : 'Bad Request'
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
}

function errorReply (err: FastifyError | DtrError, request: FastifyRequest, reply: FastifyReply): ErrorReply {
  const error = toDtrError(err, { bodyLimit: request.routeOptions.bodyLimit, contentType: request.headers['content-type'] })
  // A refusal is told in the request's one completed line (plugins/request-log.ts); a fault gets
  // its own error line with the stack, and a store failure names its cause.
  const cause = error.cause instanceof Error ? error.cause.message : undefined
  request.logFields = { ...request.logFields, code: error.code, reason: error.message, ...(error.code === 'DTR_ERR_STORE' && cause !== undefined ? { cause } : {}) }
  if (error.statusCode >= 500 && error.code !== 'DTR_ERR_UNAVAILABLE' && error.code !== 'DTR_ERR_STORE') request.log.error({ err }, 'request failed')
  if (error.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="dt-remediator", Basic realm="dt-remediator"')
  if (error.statusCode === 503) reply.header('retry-after', '5')
  reply.code(error.statusCode)
  return { code: error.code, message: error.statusCode === 500 ? errorCatalogue.DTR_ERR_INTERNAL.description : error.message }
}

export default fp(async function errorHandlerPlugin (fastify) {
  fastify.setErrorHandler(async (err: FastifyError | DtrError, request, reply) => errorReply(err, request, reply))
  fastify.setNotFoundHandler(async (request, reply) => {
    reply.code(404)
    return { code: 'DTR_ERR_NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}` }
  })
}, { name: 'error-handler', fastify: '5.x' })
