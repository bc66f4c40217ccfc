/**
 * The Prometheus metrics of SPEC section 11, on a registry owned by each app instance (never the
 * prom-client global one), so that two apps in one test process do not share counters.
 *
 * prom-client's index loads its default process metrics, and with them @opentelemetry/api (some 50
 * modules, a twentieth of the service's start-up and a few MB of heap), whether or not they are
 * collected. The metric classes are taken from their own files instead, and the default metrics
 * are loaded and registered when the first scrape asks for them (`exposition`): a process that is
 * never scraped never loads them, and the first scrape reads them all the same. Their counters
 * and histograms (CPU seconds, GC durations, event-loop lag) count from that first scrape.
 */
import { createRequire } from 'node:module'
import type { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

const require = createRequire(import.meta.url)
const prom = {
  Registry: require('prom-client/lib/registry') as typeof Registry,
  Counter: require('prom-client/lib/counter') as typeof Counter,
  Gauge: require('prom-client/lib/gauge') as typeof Gauge,
  Histogram: require('prom-client/lib/histogram') as typeof Histogram,
}

export interface Metrics {
  readonly registry: Registry
  /** The text of GET /metrics (the default process metrics join on the first call, when asked for). */
  exposition(): Promise<string>
  /** `source`: webhook (a Dynatrace call) or reconcile (taken in from the Problems API). */
  readonly notifications: Counter<'kind' | 'outcome' | 'source'>
  /**
   * One series of dtr_notifications_total for a path that counts on every request (the webhook):
   * its `inc()` adds to a plain number, which joins the counter whenever the counter is read (a
   * scrape, `get()`). prom-client's own labelled child hashes and checks its labels on every
   * `inc()`, ~1–2 µs of each webhook under load.
   */
  notificationTally(labels: Readonly<Record<'kind' | 'outcome' | 'source', string>>): { inc(): void }
  /** Reconciliation passes: success, failure (Dynatrace could not be read), skipped (another replica's turn). */
  readonly reconcile: Counter<'outcome'>
  readonly runs: Counter<'action' | 'outcome'>
  readonly runDuration: Histogram<'action'>
  readonly dynatraceRequests: Counter<'operation' | 'status'>
  readonly pendingRuns: Gauge
  readonly rulesReloads: Counter<'outcome'>
  /** Per run that counts in the report (SPEC 11): its start to its problem's resolution. */
  readonly timeToResolve: Histogram<'rule' | 'action' | 'mode'>
  readonly verdicts: Counter<'rule' | 'action' | 'verdict'>
  readonly writebackPending: Gauge
  readonly writebackOldest: Gauge
  readonly writebackFailed: Counter
  readonly leaseTakeovers: Counter<'queue'>
  /** Lease renewals that failed (the store did not answer): each aborted the job's work. */
  readonly leaseRenewalFailures: Counter<'queue'>
  readonly poisonJobs: Counter<'queue' | 'reason'>
  readonly paused: Gauge
  /**
   * Where the gauges of stored state (pending runs, the outbox backlog) read from at scrape time;
   * set by the runner. Read at most once a second, however many gauges ask.
   */
  useStoredState(read: () => Promise<StoredState>): void
}

export interface StoredState {
  readonly pendingRuns: number
  readonly writebackPending: number
  /** ms epoch of the oldest pending write-back, or null. */
  readonly writebackOldestAt: number | null
}

export function createMetrics (options: { defaultMetrics?: boolean, now?: () => number } = {}): Metrics {
  const registry = new prom.Registry()
  let defaults: Promise<void> | undefined = options.defaultMetrics === true ? undefined : Promise.resolve()
  const withDefaults = async (): Promise<void> => {
    const collect = require('prom-client/lib/defaultMetrics') as typeof collectDefaultMetrics
    collect({ register: registry })
  }
  const now = options.now ?? Date.now
  const tallies: Array<{ readonly labels: Readonly<Record<'kind' | 'outcome' | 'source', string>>, pending: number }> = []
  let read: (() => Promise<StoredState>) | undefined
  let cached: { at: number, state: Promise<StoredState | undefined> } | undefined
  const stored = async (): Promise<StoredState | undefined> => {
    if (read === undefined) return undefined
    if (cached === undefined || now() - cached.at > 1000) cached = { at: now(), state: read().catch(() => undefined) }
    return cached.state
  }
  return {
    useStoredState: (fn) => { read = fn; cached = undefined },
    registry,
    async exposition () {
      await (defaults ??= withDefaults())
      return registry.metrics()
    },
    notifications: new prom.Counter({
      name: 'dtr_notifications_total',
      help: 'Notifications by kind, outcome and source (webhook: Dynatrace called; reconcile: taken in from the Problems API)',
      labelNames: ['kind', 'outcome', 'source'],
      registers: [registry],
      collect () {
        for (const tally of tallies) {
          if (tally.pending === 0) continue
          this.inc(tally.labels, tally.pending)
          tally.pending = 0
        }
      },
    }),
    notificationTally (labels) {
      const tally = { labels: { ...labels }, pending: 0 }
      tallies.push(tally)
      return { inc: () => { tally.pending++ } }
    },
    reconcile: new prom.Counter({ name: 'dtr_reconcile_total', help: 'Reconciliation passes with the Problems API by outcome: success, failure (Dynatrace could not be read), skipped (another replica\'s turn)', labelNames: ['outcome'], registers: [registry] }),
    runs: new prom.Counter({ name: 'dtr_runs_total', help: 'Action runs by action and final outcome', labelNames: ['action', 'outcome'], registers: [registry] }),
    runDuration: new prom.Histogram({ name: 'dtr_run_duration_seconds', help: 'Action run duration', labelNames: ['action'], registers: [registry], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] }),
    dynatraceRequests: new prom.Counter({ name: 'dtr_dynatrace_requests_total', help: 'Requests to the Dynatrace API by operation and HTTP status (or "error")', labelNames: ['operation', 'status'], registers: [registry] }),
    pendingRuns: new prom.Gauge({ name: 'dtr_pending_runs', help: 'Runs planned, queued, awaiting approval or running', registers: [registry], async collect () { const s = await stored(); if (s !== undefined) this.set(s.pendingRuns) } }),
    writebackPending: new prom.Gauge({ name: 'dtr_writeback_pending', help: 'Write-backs to Dynatrace (comments, events) waiting in the outbox', registers: [registry], async collect () { const s = await stored(); if (s !== undefined) this.set(s.writebackPending) } }),
    writebackOldest: new prom.Gauge({ name: 'dtr_writeback_oldest_seconds', help: 'Age of the oldest write-back waiting in the outbox (0 when none)', registers: [registry], async collect () { const s = await stored(); if (s !== undefined) this.set(s.writebackOldestAt === null ? 0 : Math.max(0, (now() - s.writebackOldestAt) / 1000)) } }),
    writebackFailed: new prom.Counter({ name: 'dtr_writeback_failed_total', help: 'Write-backs Dynatrace refused for good (a 4xx other than 429)', registers: [registry] }),
    leaseTakeovers: new prom.Counter({ name: 'dtr_lease_takeovers_total', help: 'Jobs taken over after their lease ran out (a process died or stalled)', labelNames: ['queue'], registers: [registry] }),
    leaseRenewalFailures: new prom.Counter({ name: 'dtr_lease_renewal_failures_total', help: 'Job lease renewals that failed (the store did not answer); each aborted its job\'s work before the lease could run out', labelNames: ['queue'], registers: [registry] }),
    poisonJobs: new prom.Counter({ name: 'dtr_jobs_poisoned_total', help: 'Jobs failed for good as poison: taken over 5 times after their holder died (reason "crashed") or failed 5 times with an error retrying cannot cure ("error")', labelNames: ['queue', 'reason'], registers: [registry] }),
    paused: new prom.Gauge({ name: 'dtr_paused', help: '1 while the kill switch is on (PUT /api/pause): no new execution starts on any replica', registers: [registry] }),
    rulesReloads: new prom.Counter({ name: 'dtr_rules_reloads_total', help: 'Rules file reloads (SIGHUP) by outcome: success, or failure (the previous rules stay)', labelNames: ['outcome'], registers: [registry] }),
    timeToResolve: new prom.Histogram({ name: 'dtr_time_to_resolve_seconds', help: 'From a run\'s start (live) or evaluation (dry-run) to its problem\'s resolution, for runs that ended succeeded or dry_run: live against dry-run is the action\'s effect', labelNames: ['rule', 'action', 'mode'], registers: [registry], buckets: [60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400] }),
    verdicts: new prom.Counter({ name: 'dtr_verdicts_total', help: 'Verifications by rule, action and verdict (resolved, unresolved, unknown)', labelNames: ['rule', 'action', 'verdict'], registers: [registry] }),
  }
}
