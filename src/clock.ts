/**
 * Time as a dependency (STYLE): everything that waits or reads the time — leases, polls,
 * backoffs, timeouts, verifyAfter — takes a Clock, so that a test of a ten-minute rule runs in
 * milliseconds. `systemClock` is the real one; tests pass their own.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises'

export interface Clock {
  /** ms since the epoch. */
  now(): number
  /** Resolves after ms, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/** The one abortable sleep. */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await sleepTimer(ms, undefined, signal === undefined ? undefined : { signal })
}

export const systemClock: Clock = { now: () => Date.now(), sleep }
