/**
 * One info line per request, when it completes, instead of Fastify's two; the arrival only at
 * debug level; probes and scrapes only at debug level, so a kubelet polling /readyz does not
 * drown the log. Paths are logged without their query string: a token a misconfigured client puts
 * there must not reach the log. Fastify takes this as its `logController` (a constructor option,
 * so it is a class rather than a registered plugin).
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

const PROBES = new Set(['/healthz', '/readyz', '/metrics'])

/** Pure: the path of a request URL, without the query string. */
export const pathOf = (url: string): string => url.split('?', 1)[0] ?? url

export class RequestLog extends LogController {
  override incomingRequest (request: FastifyRequest): void {
    request.log.debug({ req: { method: request.method, url: pathOf(request.url) } }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) {
      super.requestCompleted(error, request, reply)
      return
    }
    const line = { req: { method: request.method, url: pathOf(request.url) }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }
    if (PROBES.has(request.routeOptions.url ?? '')) reply.log.debug(line, 'request completed')
    else reply.log.info(line, 'request completed')
  }
}
