/**
 * Start-up's memory, given back once the service is ready and idle.
 *
 * Loading ~800 modules grows V8's young generation to its largest semi-spaces (8 MB each with
 * the image's NODE_OPTIONS) and leaves garbage behind. V8 gives that back only when its memory
 * reducer next finds the process idle, seconds later, so a freshly started pod sat ~17 MB above
 * its settled RSS until then. A memory-reducing collection just after ready gives it back at once.
 *
 * The collection is V8's "low memory notification": full collections that shrink the young
 * generation and compact the old one (~40 ms on the main thread, once). JavaScript reaches it
 * through the in-process inspector (HeapProfiler.collectGarbage), with no port opened and no
 * flag: `gc()` from --expose-gc is a plain full collection on Node 20 (V8 11.3 ignores the
 * options that would make it reduce memory), which leaves the young generation at its size and
 * the RSS where it was.
 *
 * It runs at most once, after ready (never in the way of the first /readyz), and not while the
 * service is busy: a process taking requests or running jobs has a young generation in use, and
 * a pause there would only delay them. While busy it looks again each interval, and gives up
 * after a while: V8's own memory reducer takes over whenever the process next goes idle.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { Clock } from './clock.js'
import { importInspector } from './imports.js'

export interface StartupMemoryOptions {
  readonly clock: Clock
  /** Whether the service did work since the previous look (the first: since ready). */
  readonly busy: () => boolean
  /** Gives the memory back; resolves when it is done. */
  readonly release: () => Promise<void>
  /** Aborted when the service stops: no release after that. */
  readonly signal: AbortSignal
  /** After ready, the first look; while busy, between looks. */
  readonly intervalMs?: number
  /** Looks at most before giving up. */
  readonly looks?: number
}

export type StartupMemoryOutcome =
  | { readonly released: true, readonly look: number }
  | { readonly released: false, readonly reason: 'busy' | 'stopped' }

export const STARTUP_RELEASE_INTERVAL_MS = 1000
export const STARTUP_RELEASE_LOOKS = 30

/** Waits an interval, then releases unless the service was busy in it; at most once. */
export async function releaseStartupMemory (options: StartupMemoryOptions): Promise<StartupMemoryOutcome> {
  const intervalMs = options.intervalMs ?? STARTUP_RELEASE_INTERVAL_MS
  const looks = options.looks ?? STARTUP_RELEASE_LOOKS
  for (let look = 1; look <= looks; look++) {
    try {
      await options.clock.sleep(intervalMs, options.signal)
    } catch {
      return { released: false, reason: 'stopped' }
    }
    if (options.busy()) continue
    await options.release()
    return { released: true, look }
  }
  return { released: false, reason: 'busy' }
}

/** Above this share of an interval spent running (not waiting for I/O), the service is busy. */
export const BUSY_UTILIZATION = 0.05

/**
 * Whether the event loop was busy since the previous call (the first: since this was made), from
 * its utilization: requests, jobs and timers alike, at no cost per request. Idle, `serve` runs
 * under 1%; a trickle of webhooks or probes stays under the threshold, where a pause costs nothing
 * worth deferring for.
 */
export function eventLoopBusy (threshold = BUSY_UTILIZATION, read: (now?: EventLoopUtilization, before?: EventLoopUtilization) => EventLoopUtilization = performance.eventLoopUtilization): () => boolean {
  let last = read()
  return () => {
    const now = read()
    const busy = read(now, last).utilization > threshold
    last = now
    return busy
  }
}

/** V8's low memory notification, through an in-process inspector session (no port, no flag). */
export async function lowMemoryNotification (): Promise<void> {
  const { Session } = await importInspector()
  const session = new Session()
  session.connect()
  try {
    await session.post('HeapProfiler.collectGarbage')
  } finally {
    session.disconnect()
  }
}
