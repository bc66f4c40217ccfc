/**
 * A clock a test moves by hand: now() is whatever the test set, and sleep() resolves when the
 * test advances time past it. Leases, retention and cache expiry are tested with it, never by
 * waiting.
 */
import type { Clock } from '../../src/clock.js'

export interface ManualClock extends Clock {
  advance(ms: number): void
  set(ms: number): void
}

export function manualClock (start = Date.UTC(2025, 0, 1)): ManualClock {
  let now = start
  let sleepers: Array<{ until: number, wake: () => void }> = []
  const wakeDue = (): void => {
    const due = sleepers.filter((s) => s.until <= now)
    sleepers = sleepers.filter((s) => s.until > now)
    for (const s of due) s.wake()
  }
  return {
    now: () => now,
    async sleep (ms, signal) {
      signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const sleeper = { until: now + ms, wake: resolve }
        sleepers.push(sleeper)
        signal?.addEventListener('abort', () => {
          sleepers = sleepers.filter((s) => s !== sleeper)
          reject(signal.reason)
        }, { once: true })
        wakeDue()
      })
    },
    advance (ms) {
      now += ms
      wakeDue()
    },
    set (ms) {
      now = ms
      wakeDue()
    },
  }
}
