/**
 * One catalogue of coded errors. Every error the service answers with, logs against a run, or
 * stops start-up with has a stable `DTR_ERR_*` code and the HTTP status it maps to. The error
 * handler (src/routes/error-handler.ts) reads `statusCode` and `code` from the instance; it never walks
 * an instanceof ladder. test/errors.test.ts checks that every code is documented in
 * docs/errors.md.
 */

export interface CodedErrorSpec {
  readonly code: string
  readonly statusCode: number
  readonly description: string
}

export const errorCatalogue = {
  DTR_ERR_INVALID_PAYLOAD: { statusCode: 400, description: 'The webhook body is JSON but misses or mistypes required fields.' },
  DTR_ERR_INVALID_JSON: { statusCode: 400, description: 'The webhook body is not valid JSON.' },
  DTR_ERR_UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, description: 'The body has a content type other than application/json or text/plain.' },
  DTR_ERR_BODY_TOO_LARGE: { statusCode: 413, description: 'The body exceeds DTR_BODY_LIMIT bytes.' },
  DTR_ERR_UNAUTHORIZED: { statusCode: 401, description: 'No accepted webhook or admin token was presented.' },
  DTR_ERR_NOT_FOUND: { statusCode: 404, description: 'No such route or resource.' },
  DTR_ERR_INVALID_REQUEST: { statusCode: 400, description: 'A query, path or body parameter of an admin request is invalid.' },
  DTR_ERR_UNAVAILABLE: { statusCode: 503, description: 'The service is shutting down or overloaded; Dynatrace resends.' },
  DTR_ERR_INTERNAL: { statusCode: 500, description: 'An unexpected fault; details are in the log, never in the reply.' },
  DTR_ERR_CONFIG: { statusCode: 500, description: 'A configuration value (environment or rules file) is invalid; start-up stops.' },
  DTR_ERR_STORE: { statusCode: 503, description: 'The store could not be reached or a migration failed.' },
  DTR_ERR_DYNATRACE: { statusCode: 502, description: 'Dynatrace answered with an error that is not retried (4xx other than 429).' },
  DTR_ERR_DYNATRACE_UNAVAILABLE: { statusCode: 503, description: 'Dynatrace kept answering 429/5xx or could not be reached within the retry budget.' },
  DTR_ERR_KUBERNETES: { statusCode: 502, description: 'The Kubernetes API answered with an error that is not retried.' },
  DTR_ERR_KUBERNETES_FORBIDDEN: { statusCode: 403, description: 'The service account lacks a verb on a resource; RBAC must change.' },
  DTR_ERR_ACTION_CONTRACT: { statusCode: 500, description: 'A custom action does not satisfy the action contract.' },
  DTR_ERR_ACTION_PARAMS: { statusCode: 400, description: 'Action parameters fail the action\'s schema.' },
  DTR_ERR_TERMINAL: { statusCode: 500, description: 'An action asked not to be retried.' },
} as const satisfies Record<string, Omit<CodedErrorSpec, 'code'>>

export type ErrorCode = keyof typeof errorCatalogue

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
