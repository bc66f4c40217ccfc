/**
 * When to retry and how long to wait. Pure: the clock and the random source are parameters, so
 * the arithmetic is tested without waiting.
 *
 * Dynatrace's access-limit page documents 429 without headers; the Managed cluster API sends
 * `X-RateLimit-Reset` as an epoch timestamp in microseconds, and proxies in front of either send
 * `Retry-After` (seconds or an HTTP date). We honour whichever arrives and otherwise back off
 * exponentially with full jitter, so that many replicas do not retry in lockstep.
 */
import type { IncomingHttpHeaders } from 'node:http'

export interface RetryOptions {
  /** Attempts in total, including the first. */
  readonly maxAttempts: number
  /** First backoff step; attempt n waits up to base * 2^(n-1). */
  readonly baseDelayMs: number
  /** Upper bound of one computed backoff step. */
  readonly maxDelayMs: number
  /** A server-requested wait longer than this is not waited for: the call fails with `retryAfterMs`. */
  readonly maxRetryAfterMs: number
}

export const defaultRetryOptions: RetryOptions = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
})

function header (headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** Pure: `Retry-After` as milliseconds from `now` (delta-seconds or HTTP date); undefined if absent or unreadable. */
export function parseRetryAfter (value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}

/** Pure: `X-RateLimit-Reset` (epoch microseconds) as milliseconds from `now`. */
export function parseRateLimitReset (value: string | undefined, now: number): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined
  return Math.max(0, Math.ceil(Number(value.trim()) / 1000 - now))
}

/** Pure: the wait the server asked for, the longer of the two headers when both are present. */
export function serverRequestedDelayMs (headers: IncomingHttpHeaders, now: number): number | undefined {
  const retryAfter = parseRetryAfter(header(headers, 'retry-after'), now)
  const reset = parseRateLimitReset(header(headers, 'x-ratelimit-reset'), now)
  if (retryAfter === undefined) return reset
  if (reset === undefined) return retryAfter
  return Math.max(retryAfter, reset)
}

/** Pure: full-jitter exponential backoff before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelayMs (attempt: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1))
  return Math.floor(random() * ceiling)
}

/**
 * Pure: the wait before the next attempt. A server-requested wait is a floor (plus a little jitter
 * so that replicas told the same second spread out); without one, the jittered backoff applies.
 */
export function nextDelayMs (attempt: number, serverDelay: number | undefined, options: RetryOptions, random: () => number): number {
  if (serverDelay === undefined) return backoffDelayMs(attempt, options, random)
  return serverDelay + Math.floor(random() * Math.min(options.baseDelayMs, 1000))
}
