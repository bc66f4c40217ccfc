/**
 * Typed failures of the Dynatrace client. The caller needs three facts a generic error hides:
 * whether retrying later can help (`retryable`), whether a write may have landed although we saw no
 * answer (`outcomeUnknown`: read before writing again), and what Dynatrace itself said (its
 * `{"error":{code,message,constraintViolations}}` envelope), so a final 4xx is logged with the run.
 */
import { DtrError } from '../errors.js'

export interface DynatraceConstraintViolation {
  readonly path?: string
  readonly message?: string
  readonly parameterLocation?: string
  readonly location?: string
}

/** The body of Dynatrace's error envelope. Every field is optional: proxies answer in their own words. */
export interface DynatraceErrorBody {
  readonly code?: number
  readonly message?: string
  readonly constraintViolations?: readonly DynatraceConstraintViolation[]
}

export interface DynatraceApiErrorInit {
  readonly operation: string
  /** The HTTP status Dynatrace answered with; undefined when no answer came (timeout, connection). */
  readonly responseStatus?: number
  readonly error?: DynatraceErrorBody
  readonly retryable: boolean
  readonly outcomeUnknown?: boolean
  /** How long Dynatrace asked us to wait, when that exceeded what the client waits by itself. */
  readonly retryAfterMs?: number
  readonly attempts: number
  readonly cause?: unknown
}

export class DynatraceApiError extends DtrError {
  readonly operation: string
  readonly responseStatus: number | undefined
  readonly error: DynatraceErrorBody | undefined
  readonly retryable: boolean
  readonly outcomeUnknown: boolean
  readonly retryAfterMs: number | undefined
  readonly attempts: number

  constructor (message: string, init: DynatraceApiErrorInit) {
    super(init.retryable ? 'DTR_ERR_DYNATRACE_UNAVAILABLE' : 'DTR_ERR_DYNATRACE', message, {
      cause: init.cause,
      details: {
        operation: init.operation,
        status: init.responseStatus,
        error: init.error,
        attempts: init.attempts,
        ...(init.outcomeUnknown === true ? { outcomeUnknown: true } : {}),
        ...(init.retryAfterMs === undefined ? {} : { retryAfterMs: init.retryAfterMs }),
      },
    })
    this.name = 'DynatraceApiError'
    this.operation = init.operation
    this.responseStatus = init.responseStatus
    this.error = init.error
    this.retryable = init.retryable
    this.outcomeUnknown = init.outcomeUnknown ?? false
    this.retryAfterMs = init.retryAfterMs
    this.attempts = init.attempts
  }
}

export function isDynatraceApiError (err: unknown): err is DynatraceApiError {
  return err instanceof DynatraceApiError
}

/** Pure: extracts Dynatrace's error envelope from a parsed body, or undefined when it has none. */
export function errorBodyOf (body: unknown): DynatraceErrorBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const inner = (body as { error?: unknown }).error
  if (typeof inner !== 'object' || inner === null) return undefined
  const e = inner as Record<string, unknown>
  const violations = Array.isArray(e.constraintViolations)
    ? e.constraintViolations.filter((v): v is DynatraceConstraintViolation => typeof v === 'object' && v !== null)
    : undefined
  return {
    ...(typeof e.code === 'number' ? { code: e.code } : {}),
    ...(typeof e.message === 'string' ? { message: e.message } : {}),
    ...(violations === undefined ? {} : { constraintViolations: violations }),
  }
}
