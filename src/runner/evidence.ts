/**
 * What the runner records for the effectiveness report (SPEC 11, issue 21): when a run's problem
 * resolved — the Problems API's `endTime` when the notification carries it (a RESOLVED with
 * ProblemDetailsJSONv2, reconciliation's closed reading, a Gen 3 body's `event.end`), else when
 * the RESOLVED or the closed reading arrived, else when a status read found it closed — and the
 * metrics that follow: `dtr_time_to_resolve_seconds`, `dtr_verdicts_total`. Also the explanation
 * of what each planned notification planned, for `GET /api/problems/:pid`.
 */
import { epochMs } from '../domain/enrichment.js'
import { timeToResolveSeconds } from '../domain/report.js'
import type { Verification } from '../domain/runs.js'
import type { TransactionStores } from '../store/index.js'
import type { Resolution } from '../store/evidence.js'
import type { RunRecord } from '../store/runs.js'
import type { RunnerDeps } from './deps.js'
import type { NotificationPlan, RulePlan } from './plan.js'

/** Pure: the problem's end as the body tells it (ProblemDetailsJSONv2.endTime, Gen 3 `event.end`); undefined when open or absent. */
export function endTimeOf (body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const b = body as Record<string, unknown>
  const v2 = b.ProblemDetailsJSONv2
  const fromV2 = typeof v2 === 'object' && v2 !== null ? (v2 as Record<string, unknown>).endTime : undefined
  // The Problems API writes -1 for a problem still open: epochMs reads that as no time.
  return epochMs(fromV2) ?? epochMs(b['event.end'])
}

/** Records the resolution on the occurrence's runs (in the caller's transaction) and observes the time to resolve of each that counts. */
export async function recordResolution (deps: Pick<RunnerDeps, 'metrics'>, tx: Pick<TransactionStores, 'evidence'>, r: Resolution): Promise<void> {
  const marked = await tx.evidence.markResolved(r)
  for (const run of marked) {
    const seconds = timeToResolveSeconds({ ...run, verdict: null })
    // Observed once per run, when its resolution is first known (a later endTime refines the store, not the histogram).
    if (seconds !== undefined) deps.metrics.timeToResolve.observe({ rule: run.rule, action: run.action, mode: run.dryRun ? 'dry-run' : 'live' }, seconds)
  }
}

export function countVerdict (deps: Pick<RunnerDeps, 'metrics'>, run: Pick<RunRecord, 'rule' | 'action'>, verification: Verification): void {
  deps.metrics.verdicts.inc({ rule: run.rule, action: run.action, verdict: verification.verdict })
}

/** Pure: a rule's explanation as kept per notification: matched or the first failed condition; per entity, its target and source, or what was tried. */
function explanationOf (rule: RulePlan): Record<string, unknown> {
  return {
    rule: rule.rule,
    matched: rule.matched,
    reason: rule.reason ?? null,
    entities: rule.entities.map((e) => ({
      entityId: e.entityId,
      type: e.type,
      name: e.name,
      matched: e.matched,
      reason: e.reason ?? null,
      target: e.target,
      targetSource: e.targetSource ?? null,
      targetNote: e.targetNote ?? null,
      tried: e.tried,
    })),
    runs: rule.runs.map((r) => ({ runKey: r.runKey, action: r.action, entityId: r.entityId, status: r.status, reason: r.reason ?? null })),
  }
}

/**
 * Keeps the plan's explanation, one row per rule (a resend of the same notification and step keeps
 * the first). What enrichment read is the notification's, the same for every rule: it is kept once,
 * in the first rule's row, and `explanationViews` gives it to each (every rule's row repeated it,
 * about 260 B a rule, a third of an explained notification's disk).
 */
export async function saveExplanations (tx: Pick<TransactionStores, 'evidence'>, notificationId: string, plan: NotificationPlan, extra: { readonly notes?: readonly string[] } = {}): Promise<void> {
  const rows = plan.rules.map((rule, i) => ({
    notificationId,
    step: plan.step,
    rule: rule.rule,
    occurrence: plan.occurrence,
    explanation: { ...explanationOf(rule), ...(i === 0 ? { enrichment: plan.enrichment } : {}), ...(extra.notes === undefined ? {} : { notes: extra.notes }) },
  }))
  await tx.evidence.saveExplanations(plan.kind, plan.problemId, rows)
}
