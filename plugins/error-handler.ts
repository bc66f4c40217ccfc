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

export function errorReply (err: FastifyError | DtrError, request: FastifyRequest, reply: FastifyReply): ErrorReply {
  const error = toDtrError(err, { bodyLimit: request.routeOptions.bodyLimit, contentType: request.headers['content-type'] })
  if (error.statusCode >= 500 && error.code !== 'DTR_ERR_UNAVAILABLE' && error.code !== 'DTR_ERR_STORE') request.log.error({ err }, 'request failed')
  else if (error.statusCode >= 500) request.log.warn({ code: error.code, reason: error.message }, 'request refused')
  else request.log.info({ code: error.code, reason: error.message }, 'request refused')
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
