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
import type { Bindings, ChildLoggerOptions, LogFn, Logger } from 'pino'

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

/**
 * A request's logger (`request.log`), made only when the request logs something of its own: most
 * requests never do (their one line is written by RequestLog below), and pino's child, made for
 * every request by Fastify's default factory, was a measurable part of a test notification. The
 * child it makes on first use is the one the default factory makes (the parent's `child` with
 * the request id's binding); a level check alone does not make one.
 */
export class LazyRequestLogger {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  #real (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options)
    return this.#child
  }

  get level (): string { return this.#child?.level ?? this.#options.level ?? this.#parent.level }
  set level (level: string) { this.#real().level = level }
  isLevelEnabled (level: string): boolean {
    const logger = (this.#child ?? (this.#options.level === undefined ? this.#parent : this.#real())) as unknown as Logger
    return logger.isLevelEnabled(level)
  }

  fatal (...args: Parameters<LogFn>): void { this.#real().fatal(...args) }
  error (...args: Parameters<LogFn>): void { this.#real().error(...args) }
  warn (...args: Parameters<LogFn>): void { this.#real().warn(...args) }
  info (...args: Parameters<LogFn>): void { this.#real().info(...args) }
  debug (...args: Parameters<LogFn>): void { this.#real().debug(...args) }
  trace (...args: Parameters<LogFn>): void { this.#real().trace(...args) }
  silent (...args: Parameters<LogFn>): void { this.#real().silent(...args) }
  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger { return this.#real().child(bindings, options) }
}

/** Fastify's `childLoggerFactory`: each request's logger, made on first use (LazyRequestLogger). */
export const lazyChildLogger = (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger =>
  new LazyRequestLogger(parent, bindings, options) as unknown as FastifyBaseLogger

/** A level the request line is written at. */
export type RequestLineLevel = 'debug' | 'info' | 'warn'

/**
 * Where a request's line can be written already shaped, instead of through pino's per-call walk
 * of an object (its serializers, path redaction and generic stringify were about a tenth of a
 * test notification's CPU). The process gives one (src/server.ts), since it knows its logger
 * writes pino's default line; without one, the line goes through the logger as any other.
 */
export interface RequestLineSink {
  enabled(level: RequestLineLevel): boolean
  /** `members`: the line's own members as JSON (`"reqId":…,"req":{…},…`), without braces. */
  write(level: RequestLineLevel, members: string, msg: string): void
}

/**
 * Pure: a completed request's line members, as pino writes them for the same object: the values
 * from the request (its id, path, the route's fields, such as a problem id from the payload) are
 * hostile data, so each is JSON-encoded by JSON.stringify, never pasted.
 */
export function requestLineMembers (id: string, method: string, url: string, statusCode: number, responseTime: number, fields: Record<string, unknown> | undefined): string {
  const own = fields === undefined ? '' : JSON.stringify(fields).slice(1, -1)
  return `"reqId":${JSON.stringify(id)},"req":{"method":${JSON.stringify(method)},"url":${JSON.stringify(pathOf(url))}},"res":{"statusCode":${statusCode}},"responseTime":${JSON.stringify(responseTime)}${own === '' ? '' : `,${own}`}`
}

export class RequestLog extends LogController {
  readonly #sink: RequestLineSink | undefined

  constructor (sink?: RequestLineSink) {
    super()
    this.#sink = sink
  }

  override incomingRequest (request: FastifyRequest): void {
    // The line's object is made only when debug lines are written.
    if (!(request.log as unknown as Logger).isLevelEnabled('debug')) return
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
    const level: RequestLineLevel = statusCode >= 500 ? 'warn' : PROBES.has(request.routeOptions.url ?? '') ? 'debug' : 'info'
    const sink = this.#sink
    if (sink !== undefined) {
      if (sink.enabled(level)) sink.write(level, requestLineMembers(String(request.id), request.method, request.url, statusCode, reply.elapsedTime, request.logFields), 'request completed')
      return
    }
    const log = lineLoggerOf(request)
    if (!(log as unknown as Logger).isLevelEnabled(level)) return
    // Written through the server's logger, not the request's child: `reqId` first, where the
    // child's binding would put it.
    const line = { reqId: request.id, req: { method: request.method, url: pathOf(request.url) }, res: { statusCode }, responseTime: reply.elapsedTime, ...request.logFields }
    log[level](line, 'request completed')
  }
}
