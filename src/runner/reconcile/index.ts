/**
 * Reconciliation with the Problems API (SPEC 8): every DTR_RECONCILE_INTERVAL, one replica at a
 * time takes in what no notification brought (pass.ts). Dynatrace documents no retry of a failed
 * webhook call, so a 503 while we restart, a network cut or an outage of our pod would otherwise
 * lose a problem for good, and a problem that closes while we are down would never be seen
 * resolved.
 *
 * - The first pass runs at start (an outage is caught up at once), then one every interval of
 *   the runner's clock; a test moves the clock instead of waiting.
 * - One replica per interval: a pass first takes the `reconcile` lease, for an interval less a
 *   second's slack (a tenth of it for short intervals), so that the holder's next tick finds it
 *   run out or its own. Any replica ticking after that may take it; one that finds it held skips.
 *   Passes are thus at least that far apart across all replicas, and a dead holder's turn passes
 *   to the next replica that ticks.
 * - A pass that fails (Dynatrace unreachable, 429s beyond the client's retries) is counted and
 *   tried again at the next interval, or later when Dynatrace asked to wait longer (Retry-After).
 */
import type { DynatraceClient } from '../../dynatrace/client.js'
import { isDynatraceApiError } from '../../dynatrace/errors.js'
import type { RunnerDeps } from '../deps.js'
import { reconcileOnce, type KindReport, type PassMemory, type PassReport } from './pass.js'

export { reconcileHorizon, reconcileOnce, TRACKED_LOOKBACK_MS } from './pass.js'
export type { KindReport, PassMemory, PassReport } from './pass.js'
export { OCCURRENCE_KEY, occurrenceOf, problemBody, reconciledNotification, securityBody } from './body.js'

/** The lease whose holder reconciles this interval. */
export const RECONCILE_LEASE = 'reconcile'

export interface Reconciler {
  /** Resolves once no pass runs and none is due (tests: after moving the clock). */
  idle(): Promise<void>
  /** Stops after the pass in flight (aborted); the lease runs out by itself. */
  stop(): Promise<void>
}

/** A pass that took nothing in logs at debug: one line every two minutes saying so helps nobody. */
const quiet = (r: KindReport | undefined): boolean => r === undefined || (r.takenIn + r.resolved + r.duplicates === 0)

/** Pure: the pass in one log line's fields. */
function summary (r: PassReport): Record<string, unknown> {
  const kind = (k: KindReport | undefined): Record<string, number> | string => k === undefined
    ? 'not listed (no rule of this kind, nothing of it open)'
    : Object.fromEntries(Object.entries(k).filter(([, v]) => v !== 0))
  return { ...Object.fromEntries(Object.entries(r.kinds).map(([name, k]) => [name, kind(k)])), horizon: new Date(r.horizon).toISOString() }
}

export function startReconciler (deps: RunnerDeps & { readonly dynatrace: DynatraceClient }, wake: () => void): Reconciler {
  const { clock, store, owner, metrics } = deps
  const intervalMs = deps.timings.reconcileIntervalMs
  const log = deps.log.child({ component: 'reconcile' })
  const stopping = new AbortController()
  let nextAt = clock.now()
  let running: Promise<void> | undefined
  let waiters: Array<() => void> = []
  const memory: PassMemory = { unreadable: new Set() }

  async function tick (): Promise<void> {
    const startedAt = clock.now()
    nextAt = startedAt + intervalMs
    let held: boolean
    try {
      held = await store.leases.acquire(RECONCILE_LEASE, owner, intervalMs - Math.min(1000, intervalMs / 10))
    } catch (err) {
      metrics.reconcile.inc({ outcome: 'failure' })
      log.warn({ err }, 'reconciliation could not take its turn (the store did not answer); trying again at the next interval')
      return
    }
    if (!held) {
      metrics.reconcile.inc({ outcome: 'skipped' })
      log.debug({ holder: await store.leases.holder(RECONCILE_LEASE).catch(() => undefined) }, 'another replica reconciles this interval')
      return
    }
    try {
      const report = await reconcileOnce({ ...deps, wake }, stopping.signal, memory)
      metrics.reconcile.inc({ outcome: 'success' })
      const level = Object.values(report.kinds).every(quiet) ? 'debug' : 'info'
      log[level]({ ...summary(report), durationMs: clock.now() - startedAt }, 'reconciled with the Problems API')
    } catch (err) {
      if (stopping.signal.aborted) return
      metrics.reconcile.inc({ outcome: 'failure' })
      const wait = isDynatraceApiError(err) ? err.retryAfterMs : undefined
      if (wait !== undefined && startedAt + wait > nextAt) nextAt = startedAt + wait
      log.warn({ err: (err as Error).message, nextAt: new Date(nextAt).toISOString() }, 'reconciliation failed: Dynatrace could not be read; trying again then')
    }
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      running = tick().finally(() => {
        running = undefined
        for (const resolve of waiters.splice(0)) resolve()
      })
      await running
      try {
        await clock.sleep(Math.max(0, nextAt - clock.now()), stopping.signal)
      } catch {
        break
      }
    }
  })()

  return {
    async idle () {
      for (;;) {
        if (running !== undefined) {
          await running
          continue
        }
        // The clock moved past the next tick: the loop is waking for it.
        if (!stopping.signal.aborted && clock.now() >= nextAt) {
          await new Promise<void>((resolve) => waiters.push(resolve))
          continue
        }
        return
      }
    },
    async stop () {
      stopping.abort(new Error('stopping'))
      await loop
      for (const resolve of waiters.splice(0)) resolve()
      waiters = []
    },
  }
}
