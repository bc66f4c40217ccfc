/**
 * Turning a validated payload into the record the store keeps. Pure.
 */
import { hash } from 'node:crypto'
import { kindOf } from './kinds/index.js'
import type { NotificationKind } from './payload.js'

/**
 * How a notification reached us: Dynatrace called a webhook, or reconciliation took the problem
 * in from the Problems API because no notification had brought it (SPEC 8).
 */
export type NotificationSource = 'webhook' | 'reconcile'

/** A validated notification, ready to be stored. */
export interface NewNotification {
  readonly id: string
  /** Default `webhook`. */
  readonly source?: NotificationSource
  readonly kind: NotificationKind
  readonly problemId: string
  readonly displayId: string | undefined
  readonly state: string | undefined
  readonly dedupeKey: string
  readonly body: unknown
}

/**
 * Pure: JSON with object keys sorted, so key order and whitespace do not make a new notification.
 * Its text is part of every stored dedupe key, so it never changes: an undefined value (or a
 * function) reads as null, and an array's hole as nothing (`[1,,2]`). Written with string
 * appends rather than map and join (a third less time, ~6 µs of a durable notification here);
 * test/domain/notification.test.ts checks it against the first implementation over generated
 * values.
 */
export function canonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ','
      if (i in value) out += canonicalJson(value[i])
    }
    return `${out}]`
  }
  const keys = Object.keys(value).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (i > 0) out += ','
    out += `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`
  }
  return `${out}}`
}

/**
 * Pure: the identity of a notification (SPEC 4: same kind, PID/SecurityProblemId, State and
 * body). Dynatrace resends an identical body for the same event; an event merge or a state
 * change changes the body, and is a new notification.
 */
export function dedupeKey (kind: NotificationKind, problemId: string, state: string | undefined, body: unknown): string {
  // One canonical JSON array, so no two different inputs can serialise to the same text.
  // base64url (43 characters) rather than hex (64): it is kept twice per row, in the row and its
  // unique index.
  return hash('sha256', canonicalJson([kind, problemId, state ?? null, body]), 'base64url')
}

/**
 * Pure: a UUID version 7 (RFC 9562) for time `now` (ms), with the random bits of `v4`, a random
 * UUID version 4 (crypto.randomUUID, which draws from a cached pool): time-ordered, so new rows
 * land at the end of the id indexes instead of all over them, which keeps the store's indexes
 * dense and its inserts cheap. v4 and v7 share the variant bits; the first 48 bits become the
 * time and the version nibble 7.
 */
export function uuidV7 (now: number, v4: string): string {
  const time = Math.floor(now).toString(16).padStart(12, '0')
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${v4.slice(15)}`
}

/**
 * Pure: the new record for a valid payload (`payload` is its kind's schema output); `body` is the request
 * body as received, which is what is stored and deduplicated.
 */
export function toNewNotification (id: string, kind: NotificationKind, payload: unknown, body: unknown): NewNotification {
  const { problemId, displayId, state } = kindOf(kind).identity(payload)
  return {
    id,
    source: 'webhook',
    kind,
    problemId,
    displayId,
    state,
    dedupeKey: dedupeKey(kind, problemId, state, body),
    body,
  }
}
