/**
 * The Prometheus metrics of SPEC section 11, on a registry owned by each app instance (never the
 * prom-client global one), so that two apps in one test process do not share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface Metrics {
  readonly registry: Registry
  readonly notifications: Counter<'kind' | 'outcome'>
  readonly runs: Counter<'action' | 'outcome'>
  readonly runDuration: Histogram<'action'>
  readonly dynatraceRequests: Counter<'operation' | 'status'>
  readonly pendingRuns: Gauge
  readonly rulesReloads: Counter<'outcome'>
  readonly writebackPending: Gauge
  readonly writebackOldest: Gauge
  readonly writebackFailed: Counter
  readonly leaseTakeovers: Counter<'queue'>
  readonly paused: Gauge
}

export function createMetrics (options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry })
  return {
    registry,
    notifications: new Counter({ name: 'dtr_notifications_total', help: 'Webhook notifications by kind and outcome', labelNames: ['kind', 'outcome'], registers: [registry] }),
    runs: new Counter({ name: 'dtr_runs_total', help: 'Action runs by action and final outcome', labelNames: ['action', 'outcome'], registers: [registry] }),
    runDuration: new Histogram({ name: 'dtr_run_duration_seconds', help: 'Action run duration', labelNames: ['action'], registers: [registry], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] }),
    dynatraceRequests: new Counter({ name: 'dtr_dynatrace_requests_total', help: 'Requests to the Dynatrace API by operation and HTTP status (or "error")', labelNames: ['operation', 'status'], registers: [registry] }),
    pendingRuns: new Gauge({ name: 'dtr_pending_runs', help: 'Runs planned, queued or running', registers: [registry] }),
    writebackPending: new Gauge({ name: 'dtr_writeback_pending', help: 'Write-backs to Dynatrace (comments, events) waiting in the outbox', registers: [registry] }),
    writebackOldest: new Gauge({ name: 'dtr_writeback_oldest_seconds', help: 'Age of the oldest write-back waiting in the outbox (0 when none)', registers: [registry] }),
    writebackFailed: new Counter({ name: 'dtr_writeback_failed_total', help: 'Write-backs Dynatrace refused for good (a 4xx other than 429)', registers: [registry] }),
    leaseTakeovers: new Counter({ name: 'dtr_lease_takeovers_total', help: 'Jobs taken over after their lease ran out (a process died or stalled)', labelNames: ['queue'], registers: [registry] }),
    paused: new Gauge({ name: 'dtr_paused', help: '1 while the kill switch is on (PUT /api/pause): no new execution starts on any replica', registers: [registry] }),
    rulesReloads: new Counter({ name: 'dtr_rules_reloads_total', help: 'Rules file reloads (SIGHUP) by outcome: success, or failure (the previous rules stay)', labelNames: ['outcome'], registers: [registry] }),
  }
}
