/**
 * One line per request, when it completes, instead of Fastify's two, carrying what the route or
 * the error handler did (`request.logFields`: the notification's kind, problem id and status, or
 * the refusal's code and reason), so that a webhook costs one log line: info, or warn for a 5xx.
 * The arrival only at debug level; probes and scrapes only at debug level (unless they fail), so
 * a kubelet polling /readyz does not drown the log. Paths are logged without their
 * query string: a token a misconfigured client puts there must not reach the log. Fastify takes
 * this as its `logController` (a constructor option, so it is a class rather than a registered
 * plugin); app.ts decorates `logFields`.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields for this request's one log line, set by the route that handled it. */
    logFields: Record<string, unknown> | undefined
  }
}

const PROBES = new Set(['/healthz', '/readyz', '/metrics'])

/** Pure: the path of a request URL, without the query string. */
export const pathOf = (url: string): string => {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

export class RequestLog extends LogController {
  override incomingRequest (request: FastifyRequest): void {
    request.log.debug({ req: { method: request.method, url: pathOf(request.url) } }, 'incoming request')
  }

  override routeNotFound (request: FastifyRequest): void {
    request.log.info({ req: { method: request.method, url: pathOf(request.url) } }, 'route not found')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) {
      super.requestCompleted(error, request, reply)
      return
    }
    const line = { req: { method: request.method, url: pathOf(request.url) }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime, ...request.logFields }
    if (PROBES.has(request.routeOptions.url ?? '') && reply.statusCode < 500) reply.log.debug(line, 'request completed')
    else if (reply.statusCode >= 500) reply.log.warn(line, 'request completed')
    else reply.log.info(line, 'request completed')
  }
}
