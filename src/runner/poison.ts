/**
 * Poison work (issue 19 item 6): which failures retrying can cure, and how many times a job may
 * crash its process or fail deterministically before it is marked failed. A fault that may pass
 * (Dynatrace or Kubernetes unreachable, 429, 5xx, the store's connection or a busy or full disk)
 * is retried with capped backoff as before; any other error thrown by a handler ("too many SQL
 * variables", a TypeError, a value the store refuses) would fail the same way each time, so it
 * counts toward the bound.
 */
import { isDtrError } from '../errors.js'

/** Takeovers (the holder died) or incurable failures after which a job is failed for good. */
export const MAX_POISON_ATTEMPTS = 5

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED'])
/** SQLite result codes of a store that may work again: busy, locked, full, I/O. */
const SQLITE_TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|PROTOCOL|READONLY)/

/** Pure: whether the error is a fault that may pass when the job is tried again later. */
export function isTransientFault (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { name?: unknown, code?: unknown, retryable?: unknown, responseStatus?: unknown, cause?: unknown }
  if (e.name === 'AbortError') return true
  if (typeof e.retryable === 'boolean') return e.retryable
  if (typeof e.responseStatus === 'number') return e.responseStatus === 429 || e.responseStatus >= 500
  const code = typeof e.code === 'string' ? e.code : undefined
  if (code !== undefined) {
    if (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_') || SQLITE_TRANSIENT.test(code)) return true
    // PostgreSQL SQLSTATE: connection (08), resources (53), operator intervention (57P),
    // serialization failure and deadlock (40001, 40P01).
    // 08P01 is not: PostgreSQL answers it to a statement with more than 65,535 parameters.
    if ((/^(08|53|57P)/.test(code) && code !== '08P01') || code === '40001' || code === '40P01') return true
    if (code === 'DTR_ERR_STORE' || code === 'DTR_ERR_UNAVAILABLE') return true
  }
  if (isDtrError(err) && err.statusCode >= 500 && err.statusCode !== 500) return true
  return e.cause !== undefined && e.cause !== err ? isTransientFault(e.cause) : false
}
