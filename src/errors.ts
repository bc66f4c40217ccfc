/**
 * One catalogue of coded errors. Every error the service answers with, logs against a run, or
 * stops start-up with has a stable `DTR_ERR_*` code and the HTTP status it maps to. The error
 * handler (plugins/error-handler.ts) reads `statusCode` and `code` from the instance; it never walks
 * an instanceof ladder. test/errors.test.ts checks that every code is documented in
 * docs/errors.md.
 */

export interface CodedErrorSpec {
  readonly code: string
  readonly statusCode: number
  readonly description: string
}

export const errorCatalogue = {
  DTR_ERR_INVALID_PAYLOAD: { statusCode: 400, description: 'The webhook body is JSON but misses or mistypes required fields, nests too deep, or holds a value the store cannot keep.' },
  DTR_ERR_INVALID_JSON: { statusCode: 400, description: 'The webhook body is not valid JSON (or not valid UTF-8).' },
  DTR_ERR_UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, description: 'The body has a content type other than application/json or text/plain, or a Content-Encoding other than identity.' },
  DTR_ERR_REQUEST_TIMEOUT: { statusCode: 408, description: 'The request\'s headers or body did not arrive in time; the connection is closed.' },
  DTR_ERR_BODY_TOO_LARGE: { statusCode: 413, description: 'The body exceeds DTR_BODY_LIMIT bytes.' },
  DTR_ERR_UNAUTHORIZED: { statusCode: 401, description: 'No accepted webhook or admin token was presented.' },
  DTR_ERR_NOT_FOUND: { statusCode: 404, description: 'No such route or resource.' },
  DTR_ERR_CONFLICT: { statusCode: 409, description: 'The run is not in a state that allows this (approving or rejecting a run that is not awaiting approval); the message names its state.' },
  DTR_ERR_INVALID_REQUEST: { statusCode: 400, description: 'A query, path or body parameter of an admin request is invalid.' },
  DTR_ERR_UNAVAILABLE: { statusCode: 503, description: 'The service is shutting down or overloaded; Dynatrace resends.' },
  DTR_ERR_INTERNAL: { statusCode: 500, description: 'An unexpected fault; details are in the log, never in the reply.' },
  DTR_ERR_CONFIG: { statusCode: 500, description: 'A configuration value (environment or rules file) is invalid; start-up stops.' },
  DTR_ERR_STORE: { statusCode: 503, description: 'The store could not be opened, reached or written, or its schema is not one this version can use.' },
  DTR_ERR_DYNATRACE: { statusCode: 502, description: 'Dynatrace answered with an error that is not retried (4xx other than 429).' },
  DTR_ERR_DYNATRACE_UNAVAILABLE: { statusCode: 503, description: 'Dynatrace kept answering 429/5xx or could not be reached within the retry budget.' },
  DTR_ERR_KUBERNETES: { statusCode: 502, description: 'The Kubernetes API answered with an error that is not retried.' },
  DTR_ERR_KUBERNETES_FORBIDDEN: { statusCode: 403, description: 'The service account lacks a verb on a resource; RBAC must change.' },
  DTR_ERR_ACTION_CONTRACT: { statusCode: 500, description: 'A custom action does not satisfy the action contract.' },
  DTR_ERR_ACTION_PARAMS: { statusCode: 400, description: 'Action parameters fail the action\'s schema.' },
  DTR_ERR_TERMINAL: { statusCode: 500, description: 'An action asked not to be retried.' },
} as const satisfies Record<string, Omit<CodedErrorSpec, 'code'>>

export type ErrorCode = keyof typeof errorCatalogue

/** What a client-caused framework error needs to be explained: the route's limit, the sent type. */
export interface ClientErrorContext {
  readonly bodyLimit: number | undefined
  readonly contentType: string | undefined
}

/**
 * The one table of Fastify and plugin error codes a client can cause, with the code we answer and
 * the message. Anything not listed that carries a 404 is a DTR_ERR_NOT_FOUND; the rest is a 500.
 */
export const frameworkErrors: Readonly<Record<string, { readonly code: ErrorCode, message(err: { message: string }, ctx: ClientErrorContext): string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'DTR_ERR_BODY_TOO_LARGE', message: (_e, c) => `Body is larger than the limit of ${c.bodyLimit ?? 'DTR_BODY_LIMIT'} bytes (DTR_BODY_LIMIT)` },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'DTR_ERR_INVALID_REQUEST', message: () => 'Content-Length does not match the body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'DTR_ERR_UNSUPPORTED_MEDIA_TYPE', message: (_e, c) => `Content-Type ${c.contentType ?? '(none)'} is not supported; send application/json or text/plain` },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'DTR_ERR_INVALID_JSON', message: () => 'Body is empty; expected a JSON object' },
  FST_UNDER_PRESSURE: { code: 'DTR_ERR_UNAVAILABLE', message: () => 'Service is overloaded; retry later' },
  FST_ERR_VALIDATION: { code: 'DTR_ERR_INVALID_REQUEST', message: (e) => e.message },
}

/** Pure: the catalogue code an error is answered with. */
export function errorCodeOf (err: unknown): ErrorCode {
  if (isDtrError(err)) return err.code
  const e = err as { code?: unknown, statusCode?: unknown } | null
  const mapped = typeof e?.code === 'string' ? frameworkErrors[e.code] : undefined
  if (mapped !== undefined) return mapped.code
  return (typeof e?.statusCode === 'number' ? byStatus[e.statusCode] : undefined) ?? 'DTR_ERR_INTERNAL'
}

/** HTTP errors made by status (@fastify/sensible's httpErrors), as the catalogue names them. */
const byStatus: Readonly<Record<number, ErrorCode>> = { 400: 'DTR_ERR_INVALID_REQUEST', 401: 'DTR_ERR_UNAUTHORIZED', 404: 'DTR_ERR_NOT_FOUND', 409: 'DTR_ERR_CONFLICT', 503: 'DTR_ERR_UNAVAILABLE' }

/** Pure: the error as one of ours; a framework error keeps its own as the cause. */
export function toDtrError (err: unknown, ctx: ClientErrorContext): DtrError {
  if (isDtrError(err)) return err
  const e = err as { code?: unknown, message?: unknown } | null
  const mapped = typeof e?.code === 'string' ? frameworkErrors[e.code] : undefined
  const message = typeof e?.message === 'string' ? e.message : String(err)
  if (mapped !== undefined) return new DtrError(mapped.code, mapped.message({ message }, ctx), { cause: err })
  const code = errorCodeOf(err)
  return new DtrError(code, code === 'DTR_ERR_INTERNAL' ? 'Internal error' : message, { cause: err })
}

export class DtrError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown, details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DtrError'
    this.code = code
    this.statusCode = errorCatalogue[code].statusCode
    this.details = options?.details
  }
}

export function isDtrError (err: unknown): err is DtrError {
  return err instanceof DtrError
}

/**
 * Thrown by an action (or the mechanics under it) for a fault that retrying cannot fix: the runner
 * fails the run at once instead of retrying it.
 */
export class TerminalError extends DtrError {
  constructor (message: string, options?: { cause?: unknown, details?: Record<string, unknown> }) {
    super('DTR_ERR_TERMINAL', message, options)
    this.name = 'TerminalError'
  }
}

/** An invalid configuration value (environment variable or rules file): start-up stops. */
export class ConfigError extends DtrError {
  readonly variable: string
  constructor (variable: string, problem: string) {
    super('DTR_ERR_CONFIG', `${variable}: ${problem}`)
    this.name = 'ConfigError'
    this.variable = variable
  }
}

/**
 * Whether retrying the operation that threw `err` may succeed. Terminal errors and every coded
 * error whose code names a fault of the request itself say no; an error that declares
 * `retryable` (the Dynatrace client's) is taken at its word; anything else — a network error, a
 * Kubernetes 5xx, a bug that may be transient — is retried within the run's timeout.
 */
export function isRetryable (err: unknown): boolean {
  if (err instanceof TerminalError) return false
  if (typeof err === 'object' && err !== null && typeof (err as { retryable?: unknown }).retryable === 'boolean') {
    return (err as { retryable: boolean }).retryable
  }
  if (isDtrError(err)) return !NOT_RETRYABLE.has(err.code)
  return true
}

const NOT_RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'DTR_ERR_INVALID_PAYLOAD', 'DTR_ERR_INVALID_JSON', 'DTR_ERR_UNSUPPORTED_MEDIA_TYPE', 'DTR_ERR_BODY_TOO_LARGE', 'DTR_ERR_REQUEST_TIMEOUT',
  'DTR_ERR_UNAUTHORIZED', 'DTR_ERR_NOT_FOUND', 'DTR_ERR_INVALID_REQUEST', 'DTR_ERR_CONFIG', 'DTR_ERR_DYNATRACE',
  'DTR_ERR_KUBERNETES', 'DTR_ERR_KUBERNETES_FORBIDDEN', 'DTR_ERR_ACTION_CONTRACT', 'DTR_ERR_ACTION_PARAMS', 'DTR_ERR_TERMINAL',
])
