/**
 * The one error handler: every reply for an error is `{"code":"DTR_ERR_…","message":"…"}` with
 * the catalogue's status. Our own errors carry their code; the few Fastify and plugin errors a
 * client can cause are mapped by their code in one table; anything else is a 500 whose details
 * stay in the log.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DtrError, errorCatalogue, isDtrError, type ErrorCode } from '../errors.js'

interface Mapped { code: ErrorCode, message: (err: FastifyError, request: FastifyRequest) => string }

const byFastifyCode: Record<string, Mapped> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'DTR_ERR_BODY_TOO_LARGE', message: (_e, r) => `Body is larger than the limit of ${r.routeOptions.bodyLimit ?? 'DTR_BODY_LIMIT'} bytes (DTR_BODY_LIMIT)` },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'DTR_ERR_INVALID_REQUEST', message: () => 'Content-Length does not match the body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'DTR_ERR_UNSUPPORTED_MEDIA_TYPE', message: (_e, r) => `Content-Type ${r.headers['content-type'] ?? '(none)'} is not supported; send application/json or text/plain` },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'DTR_ERR_INVALID_JSON', message: () => 'Body is empty; expected a JSON object' },
  FST_UNDER_PRESSURE: { code: 'DTR_ERR_UNAVAILABLE', message: () => 'Service is overloaded; retry later' },
  FST_ERR_VALIDATION: { code: 'DTR_ERR_INVALID_REQUEST', message: (e) => e.message },
}

export function toDtrError (err: FastifyError | DtrError, request: FastifyRequest): DtrError {
  if (isDtrError(err)) return err
  const mapped = err.code === undefined ? undefined : byFastifyCode[err.code]
  if (mapped !== undefined) return new DtrError(mapped.code, mapped.message(err, request), { cause: err })
  if (err.statusCode === 404) return new DtrError('DTR_ERR_NOT_FOUND', err.message, { cause: err })
  return new DtrError('DTR_ERR_INTERNAL', 'Internal error', { cause: err })
}

export async function errorHandler (err: FastifyError | DtrError, request: FastifyRequest, reply: FastifyReply): Promise<{ code: string, message: string }> {
  const error = toDtrError(err, request)
  if (error.statusCode >= 500) request.log.error({ err }, 'request failed')
  else request.log.info({ code: error.code, reason: error.message }, 'request refused')
  if (error.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="dt-remediator", Basic realm="dt-remediator"')
  if (error.statusCode === 503) reply.header('retry-after', '5')
  reply.code(error.statusCode)
  return { code: error.code, message: error.statusCode === 500 ? errorCatalogue.DTR_ERR_INTERNAL.description : error.message }
}

export async function notFoundHandler (request: FastifyRequest, reply: FastifyReply): Promise<{ code: string, message: string }> {
  reply.code(404)
  return { code: 'DTR_ERR_NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}` }
}
