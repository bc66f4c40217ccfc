/**
 * What the runner is built from, passed in by the composition root (src/app.ts): the store, the
 * rules in force, the Dynatrace client (absent without DTR_DYNATRACE_URL), the readers actions
 * get, the clock and every duration — time is a dependency, so a test of a ten-minute rule runs
 * in milliseconds.
 */
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { Secret } from '../domain/secrets.js'
import type { DynatraceClient } from '../dynatrace/client.js'
import type { DynatraceReader } from '../dynatrace/reader.js'
import type { KubernetesReader } from '../kubernetes/reader.js'
import type { Metrics } from '../metrics.js'
import type { Store } from '../store/index.js'
import type { RuleSet } from '../sdk/index.js'

export interface RunnerTimings {
  /** A job's lease; renewed every third of it while the work is alive (SPEC 8: about 10 s). */
  readonly leaseMs: number
  /** How often an idle worker looks for work it was not woken for. */
  readonly pollMs: number
  /** A run waiting for its target's lock tries again after this. */
  readonly lockRetryMs: number
  /** The Problems API could not be read before acting: try again after this. */
  readonly statusRetryMs: number
  /** Planning met a fault that may pass (Dynatrace or Kubernetes unreachable): try again after this. */
  readonly planRetryMs: number
  /** Backoff of write-backs and retried actions: base and cap (full jitter in between). */
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  /** How long stop() waits for work in flight before it gives the leases back. */
  readonly graceMs: number
  /**
   * At stop, how long work aborted after graceMs may take to stop before its lease is given back;
   * work still running then keeps its lease until it runs out (never handed over while in flight).
   */
  readonly settleMs: number
  /** DTR_RECONCILE_INTERVAL: a reconciliation pass with the Problems API this often; 0 turns it off. */
  readonly reconcileIntervalMs: number
  /**
   * On the embedded store (one writer), a worker waits up to this long before claiming while
   * notifications are waiting for their commit: intake goes first under a burst.
   */
  readonly intakeYieldMs: number
}

export const defaultTimings: RunnerTimings = Object.freeze({
  leaseMs: 10_000,
  pollMs: 2_000,
  lockRetryMs: 2_000,
  statusRetryMs: 5_000,
  planRetryMs: 5_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  graceMs: 20_000,
  settleMs: 5_000,
  reconcileIntervalMs: 120_000,
  intakeYieldMs: 250,
})

export interface RunnerDeps {
  readonly store: Store
  /** The rules in force, read once per job so a reload never changes them under one. */
  readonly rules: () => RuleSet
  readonly dynatrace: DynatraceClient | undefined
  readonly readers: { readonly dynatrace: DynatraceReader, readonly kubernetes: KubernetesReader }
  /** For `${env:…}` in action parameters. */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly clusterName: string | undefined
  /** DTR_RECONCILE_PROBLEM_SELECTOR: criteria added to reconciliation's listing of open problems. */
  readonly reconcileProblemSelector?: string | undefined
  /** Whether DTR_ADMIN_TOKENS is set: an approval comment says how to approve, or that nobody can. */
  readonly adminConfigured: boolean
  /** The service's own URL, for the approval comment's curl line; a placeholder when unknown. */
  readonly publicUrl: string | undefined
  /** The namespace the service runs in (denied by default, as kube-system is). */
  readonly ownNamespace: string | undefined
  readonly clock: Clock
  readonly log: Logger
  readonly metrics: Metrics
  /** This process, in leases and logs. */
  readonly owner: string
  readonly timings: RunnerTimings
  readonly random?: () => number
  /** The configuration's secrets (tokens, the database password): redacted from what runs store and say. */
  readonly secrets?: readonly Secret[]
}

/** Pure: full-jitter exponential backoff before attempt `attempt + 1`. */
export function backoffMs (attempt: number, timings: Pick<RunnerTimings, 'backoffBaseMs' | 'backoffMaxMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(timings.backoffMaxMs, timings.backoffBaseMs * 2 ** Math.max(0, attempt - 1))
  return Math.max(1, Math.floor(ceiling / 2 + random() * ceiling / 2))
}
