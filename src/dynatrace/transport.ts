/**
 * One HTTP exchange with Dynatrace, retried as safety allows. Everything about resilience lives
 * here so that the operations in client.ts read as a list of endpoints.
 *
 * Retry policy, by what we know about the request's fate:
 * - 429: Dynatrace refused the request before doing anything, so any operation is retried.
 * - 5xx, a timeout, or a connection dropped after the request was written: the request may have
 *   been applied. Idempotent operations (reads, PUT, DELETE) are retried; a non-idempotent one
 *   (posting a comment, ingesting an event) fails with `outcomeUnknown`, and the caller reads
 *   before writing again (see postCommentOnce).
 * - A connection that never opened (refused, DNS, connect timeout): nothing was sent; retried.
 * - Any other 4xx: final, a DTR_ERR_DYNATRACE carrying Dynatrace's error envelope.
 * Every attempt is counted in dtr_dynatrace_requests_total{operation,status}.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Pool } from 'undici'
import type { Logger } from 'pino'
import type { Counter } from 'prom-client'
import { DynatraceApiError, errorBodyOf } from './errors.js'
import { importUndici } from '../imports.js'
import { Limiter } from './limiter.js'
import { nextDelayMs, serverRequestedDelayMs } from './retry.js'
import type { RetryOptions } from './retry.js'
import type { EnvironmentUrl } from './url.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

export interface ApiRequest {
  /** The OpenAPI operationId, used as the metric label and in errors. */
  readonly operation: string
  readonly method: Method
  /** Path below /api/v2, e.g. `/problems/abc`; segments already encoded. */
  readonly path: string
  readonly query?: Readonly<Record<string, string | number | undefined>>
  readonly body?: unknown
  /** Statuses that mean success. */
  readonly expect: readonly number[]
  readonly signal?: AbortSignal | undefined
  /** Overrides the method's default (GET/PUT/DELETE idempotent, POST not). */
  readonly idempotent?: boolean
}

export interface ApiResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  /** Parsed JSON, or undefined for an empty body. */
  readonly body: unknown
}

export interface TransportOptions {
  readonly environment: EnvironmentUrl
  readonly token: string
  readonly requests: Counter<'operation' | 'status'>
  readonly logger?: Logger | undefined
  readonly timeoutMs: number
  readonly maxConcurrency: number
  readonly retry: RetryOptions
  readonly now: () => number
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly random: () => number
  readonly userAgent: string
}

const IDEMPOTENT: ReadonlySet<Method> = new Set(['GET', 'PUT', 'DELETE'])
/** Error codes meaning the request never left this process. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])

type Attempt =
  | { readonly kind: 'response', readonly response: ApiResponse }
  | { readonly kind: 'failure', readonly timedOut: boolean, readonly sent: boolean, readonly cause: unknown }

export class Transport {
  readonly #o: TransportOptions
  /** Made at the first request: undici (some 110 modules) is imported only then, not at start-up. */
  #pool: Promise<Pool> | undefined
  #closed: Promise<void> | undefined
  readonly #limiter: Limiter

  constructor (options: TransportOptions) {
    this.#o = options
    this.#limiter = new Limiter(options.maxConcurrency)
  }

  get inFlight (): number { return this.#limiter.active }

  async #connections (): Promise<Pool> {
    // The pool's connection count matches the limiter so that no request waits for a socket
    // while its timeout runs.
    this.#pool ??= importUndici().then(({ Pool }) => new Pool(this.#o.environment.origin, { connections: this.#o.maxConcurrency, pipelining: 1 }))
    return this.#pool
  }

  /** Closes the connections once; safe to call again. */
  async close (): Promise<void> {
    const pool = this.#pool
    this.#closed ??= pool === undefined ? Promise.resolve() : pool.then(async (p) => p.close())
    await this.#closed
  }

  async request (req: ApiRequest): Promise<ApiResponse> {
    const { retry, logger } = this.#o
    const idempotent = req.idempotent ?? IDEMPOTENT.has(req.method)
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(req)
      let retryable: boolean
      let serverDelay: number | undefined
      if (result.kind === 'response') {
        const { response } = result
        if (req.expect.includes(response.status)) return response
        const error = errorBodyOf(response.body)
        const transient = response.status === 429 || response.status >= 500
        if (!transient) {
          throw new DynatraceApiError(`Dynatrace ${req.operation} answered ${response.status}${error?.message === undefined ? '' : `: ${error.message}`}`,
            { operation: req.operation, responseStatus: response.status, error, retryable: false, attempts: attempt })
        }
        serverDelay = serverRequestedDelayMs(response.headers, this.#o.now())
        retryable = response.status === 429 || idempotent
        if (!retryable) {
          throw new DynatraceApiError(`Dynatrace ${req.operation} answered ${response.status}; the request may have been applied`,
            { operation: req.operation, responseStatus: response.status, error, retryable: true, outcomeUnknown: true, attempts: attempt })
        }
        if (serverDelay !== undefined && serverDelay > retry.maxRetryAfterMs) {
          throw new DynatraceApiError(`Dynatrace ${req.operation} asked to retry after ${serverDelay} ms, more than the ${retry.maxRetryAfterMs} ms the client waits`,
            { operation: req.operation, responseStatus: response.status, error, retryable: true, retryAfterMs: serverDelay, attempts: attempt })
        }
        if (attempt >= retry.maxAttempts) {
          throw new DynatraceApiError(`Dynatrace ${req.operation} still answered ${response.status} after ${attempt} attempts`,
            { operation: req.operation, responseStatus: response.status, error, retryable: true, attempts: attempt, ...(serverDelay === undefined ? {} : { retryAfterMs: serverDelay }) })
        }
      } else {
        const what = result.timedOut ? `timed out after ${this.#o.timeoutMs} ms` : `failed: ${describe(result.cause)}`
        if (result.sent && !idempotent) {
          throw new DynatraceApiError(`Dynatrace ${req.operation} ${what}; the request may have been applied`,
            { operation: req.operation, retryable: true, outcomeUnknown: true, attempts: attempt, cause: result.cause })
        }
        if (attempt >= retry.maxAttempts) {
          throw new DynatraceApiError(`Dynatrace ${req.operation} ${what} (${attempt} attempts)`,
            { operation: req.operation, retryable: true, attempts: attempt, cause: result.cause })
        }
      }
      const delay = nextDelayMs(attempt, serverDelay, retry, this.#o.random)
      logger?.warn({ operation: req.operation, attempt, delayMs: delay, status: result.kind === 'response' ? result.response.status : 'error' }, 'Dynatrace request will be retried')
      await this.#o.sleep(delay, req.signal)
    }
  }

  async #attempt (req: ApiRequest): Promise<Attempt> {
    await this.#limiter.acquire(req.signal)
    // The timeout starts once a slot is held: time queued behind our own limiter is not
    // Dynatrace's slowness.
    const timeout = AbortSignal.timeout(this.#o.timeoutMs)
    const signal = req.signal === undefined ? timeout : AbortSignal.any([req.signal, timeout])
    let status = 'error'
    try {
      if (this.#closed !== undefined) throw new Error('the Dynatrace client is closed')
      const pool = await this.#connections()
      const { statusCode, headers, body } = await pool.request({
        method: req.method,
        path: this.#path(req),
        headers: {
          authorization: `Api-Token ${this.#o.token}`,
          accept: 'application/json; charset=utf-8',
          'user-agent': this.#o.userAgent,
          ...(req.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        },
        ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
        signal,
      })
      const text = await body.text()
      status = String(statusCode)
      return { kind: 'response', response: { status: statusCode, headers, body: parseBody(text) } }
    } catch (err) {
      // The caller's own abort (shutdown, run timeout) is not a Dynatrace failure: surface it as is.
      if (req.signal?.aborted === true) throw req.signal.reason
      const timedOut = timeout.aborted
      const code = (err as { code?: unknown }).code
      const sent = timedOut || !(typeof code === 'string' && NOT_SENT.has(code))
      return { kind: 'failure', timedOut, sent, cause: err }
    } finally {
      this.#o.requests.inc({ operation: req.operation, status })
      this.#limiter.release()
    }
  }

  #path (req: ApiRequest): string {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params.set(k, String(v))
    const qs = params.toString()
    return `${this.#o.environment.basePath}/api/v2${req.path}${qs === '' ? '' : `?${qs}`}`
  }
}

function parseBody (text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    // A proxy's HTML error page: keep it readable in the error rather than failing to parse.
    return { error: { message: text.slice(0, 500) } }
  }
}

function describe (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? `${code} ${err.message}` : err.message
  }
  return String(err)
}
