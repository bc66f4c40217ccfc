/**
 * How Kubernetes API failures become outcomes. The API server answers errors with a `Status`
 * object; we keep its reason and message so that what the user reads in the run (and in the
 * Dynatrace comment) is what `kubectl` would have printed.
 *
 * - 409 Conflict: someone changed the object between our read and our write. Re-read, recompute,
 *   write again (`withConflictRetry`) — the standard optimistic-concurrency loop.
 * - 403 Forbidden: the service account lacks a verb; no retry fixes that, so it is terminal and
 *   names the verb, the resource and the namespace to grant.
 * - 404 Not Found on the target: the workload is gone (renamed, deleted): a skip, not a failure.
 * - Anything else (5xx, 429, network): thrown as is, so the runner retries within the timeout.
 */
import { sleep } from '../clock.js'
import { DtrError, TerminalError } from '../errors.js'
import { qualifiedName, type ResourceType } from './resources.js'

export type Verb = 'get' | 'list' | 'patch' | 'update'

export interface ApiStatus {
  kind?: string
  status?: string
  message?: string
  reason?: string
  code?: number
}

/**
 * A non-2xx answer from the API server, with what we asked for. A DTR_ERR_KUBERNETES (its
 * `statusCode` is the one we would answer with); the API server's own status is `responseStatus`.
 */
export class KubernetesApiError extends DtrError {
  readonly responseStatus: number
  /** 5xx, 429 and 409 may pass when tried again; other answers will not change. */
  readonly retryable: boolean
  readonly status: ApiStatus | undefined
  readonly verb: Verb
  readonly type: ResourceType
  readonly namespace: string
  readonly objectName: string | undefined
  readonly subresource: string | undefined

  constructor (init: { responseStatus: number, status: ApiStatus | undefined, verb: Verb, type: ResourceType, namespace: string, name?: string, subresource?: string }) {
    const what = `${init.verb} ${qualifiedName(init.type, init.subresource)}${init.name === undefined ? '' : ` ${init.name}`} in namespace ${init.namespace}`
    super('DTR_ERR_KUBERNETES', `Kubernetes API answered ${init.responseStatus}${init.status?.reason === undefined ? '' : ` ${init.status.reason}`} to ${what}: ${init.status?.message ?? '(no message)'}`,
      { details: { responseStatus: init.responseStatus, reason: init.status?.reason } })
    this.name = 'KubernetesApiError'
    this.responseStatus = init.responseStatus
    this.retryable = init.responseStatus >= 500 || init.responseStatus === 429 || init.responseStatus === 409
    this.status = init.status
    this.verb = init.verb
    this.type = init.type
    this.namespace = init.namespace
    this.objectName = init.name
    this.subresource = init.subresource
  }
}

export function isKubernetesApiError (err: unknown, responseStatus?: number): err is KubernetesApiError {
  return err instanceof KubernetesApiError && (responseStatus === undefined || err.responseStatus === responseStatus)
}

/**
 * Pure: the terminal error for a 403, naming what to grant. The cause is a coded
 * DTR_ERR_KUBERNETES_FORBIDDEN error so that logs and the error catalogue agree.
 */
export function forbiddenError (err: KubernetesApiError): TerminalError {
  const resource = qualifiedName(err.type, err.subresource)
  const rbacResource = err.subresource === undefined ? err.type.resource : `${err.type.resource}/${err.subresource}`
  const message = `forbidden: cannot ${err.verb} ${resource} in namespace ${err.namespace} — grant the service account the verb "${err.verb}" on resource "${rbacResource}" in API group "${err.type.group}" (as deploy/kubernetes/rbac.yaml does)`
  const details = { code: 'DTR_ERR_KUBERNETES_FORBIDDEN', verb: err.verb, resource, namespace: err.namespace, apiMessage: err.status?.message }
  return new TerminalError(message, { cause: new DtrError('DTR_ERR_KUBERNETES_FORBIDDEN', message, { cause: err, details }), details })
}

/**
 * Maps a failure of a write (or of the reads leading to it) to what the action should do:
 * 403 → terminal; other 4xx except 404/409/429 → terminal DTR_ERR_KUBERNETES (our request is
 * wrong, a retry sends the same); everything else is rethrown for the runner to retry.
 * 404 and 409 are handled by the callers, which know which object was missing.
 */
export function toActionError (err: unknown): unknown {
  if (!(err instanceof KubernetesApiError)) return err
  const status = err.responseStatus
  if (status === 403) return forbiddenError(err)
  if (status >= 400 && status < 500 && status !== 404 && status !== 409 && status !== 429) {
    return new TerminalError(err.message, { cause: err, details: { code: 'DTR_ERR_KUBERNETES', responseStatus: status } })
  }
  return err
}

export interface ConflictRetryOptions {
  /** Attempts in all, including the first. */
  attempts?: number
  signal?: AbortSignal
  /** Called before each retry (tests count them; the action logs them). */
  onConflict?: (attempt: number, err: KubernetesApiError) => void
}

/**
 * Runs `fn` (read, compute, write) again while it fails with 409 Conflict. A short, growing,
 * jittered pause between attempts lets a competing writer finish; the loop stops on abort.
 */
export async function withConflictRetry<T> (fn: () => Promise<T>, options: ConflictRetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!isKubernetesApiError(err, 409) || attempt >= attempts) throw err
      options.onConflict?.(attempt, err)
      await sleep(Math.round(10 * 2 ** attempt * (0.5 + Math.random() / 2)), options.signal)
    }
  }
}
