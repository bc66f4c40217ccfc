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
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, LogFn, Logger } from 'pino'

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

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/**
 * Fastify's `childLoggerFactory`: the per-request child logger (its `reqId` binding) is made only
 * when something logs through `request.log` (an error, a handler's own line), not for every
 * request. Making it was a few µs of each webhook (pino serialises the bindings and copies its
 * redaction and serializer state), and the one line per request carries `reqId` itself.
 * A call at a level the logger does not write costs a level check and nothing else.
 */
export function lazyChildLogger (this: unknown, logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  // A route's own log level: made at once, as Fastify would (rare; no route sets one today).
  if (options.level !== undefined) return logger.child(bindings, options)
  // The app's logger is pino (app.ts), which can say whether a level is written.
  const base = logger as unknown as Logger
  let real: FastifyBaseLogger | undefined
  const child = (): FastifyBaseLogger => (real ??= logger.child(bindings, options))
  const at = (level: Level): LogFn => ((...args: Parameters<LogFn>) => {
    if (real === undefined && !base.isLevelEnabled(level)) return
    // A level method's `this` must be its logger.
    const target = child()
    target[level].apply(target, args)
  }) as LogFn
  return {
    get level (): LevelWithSilentOrString { return real === undefined ? logger.level : real.level },
    set level (value: LevelWithSilentOrString) { child().level = value },
    isLevelEnabled: (level: string) => ((real ?? logger) as unknown as Logger).isLevelEnabled(level),
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    silent: () => {},
    child: (more: Bindings, moreOptions?: ChildLoggerOptions) => child().child(more, moreOptions),
  } as FastifyBaseLogger
}

/**
 * The logger that writes each request's one line: the server's own, whose `req` and `res`
 * serializers (Fastify's, made for its request and reply objects) are replaced by identity ones,
 * since the line carries plain, already-shaped `req` and `res` objects. Made once per server
 * logger; redaction still applies.
 */
const lineLoggers = new WeakMap<FastifyBaseLogger, FastifyBaseLogger>()
const asIs = <T>(value: T): T => value
function lineLoggerOf (request: FastifyRequest): FastifyBaseLogger {
  const parent = request.server.log
  let line = lineLoggers.get(parent)
  if (line === undefined) {
    line = parent.child({}, { serializers: { req: asIs, res: asIs } })
    lineLoggers.set(parent, line)
  }
  return line
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
    const statusCode = reply.statusCode
    const level = PROBES.has(request.routeOptions.url ?? '') && statusCode < 500 ? 'debug' : statusCode >= 500 ? 'warn' : 'info'
    const log = lineLoggerOf(request)
    if (!(log as unknown as Logger).isLevelEnabled(level)) return
    // `reqId` first, where the child logger's binding used to put it.
    const line = { reqId: request.id, req: { method: request.method, url: pathOf(request.url) }, res: { statusCode }, responseTime: reply.elapsedTime, ...request.logFields }
    log[level](line, 'request completed')
  }
}
