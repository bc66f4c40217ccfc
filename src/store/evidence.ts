/**
 * Evidence (issue 21, SPEC 9 and 11): when each run's problem resolved (the effectiveness
 * report's clock), the live successes of an action on a target within a window (the recurrence
 * gate, read in the gate transaction so replicas see each other's), the runs a report is built
 * from, and the explanation of what each notification planned.
 */
import type { ReportRun, ReportVerdict } from '../domain/report.js'
import type { RunState, Verification } from '../domain/runs.js'
import type { StoreContext } from './context.js'
import type { NotificationKind } from '../domain/payload.js'

/** What told us a problem resolved; `endTime` (the Problems API's) wins over the others. */
export type ResolutionSource = 'endTime' | 'notification' | 'reconcile' | 'status'

export interface Resolution {
  readonly kind: NotificationKind
  readonly problemId: string
  readonly occurrence: number
  /** ms epoch. */
  readonly at: number
  readonly source: ResolutionSource
}

/** A run whose resolution was first recorded, for the time-to-resolve histogram. */
export interface ResolvedRun {
  readonly id: string
  readonly rule: string
  readonly action: string
  readonly dryRun: boolean
  readonly state: RunState
  readonly startedAt: number | null
  readonly resolvedAt: number
}

/** A problem on which the action already succeeded live on the target. */
export interface Recurrence {
  readonly problemId: string
  readonly displayId: string | null
  readonly runId: string
  readonly startedAt: number
}

export interface StoredExplanation {
  readonly notificationId: string
  readonly step: number
  readonly rule: string
  readonly occurrence: number
  readonly explanation: unknown
  readonly at: number
}

export interface EvidenceStore {
  /**
   * Records when an occurrence's problem resolved on its runs. A run keeps the first time it was
   * told, unless the problem's own endTime comes later, which replaces an arrival time. Returns the
   * runs whose resolution this set.
   */
  markResolved(r: Resolution): Promise<ResolvedRun[]>
  /**
   * Recurrence (SPEC 9): per other problem, the newest live run of `action` on `targetKey` that
   * ended `succeeded` and started at or after `since`; problems other than (kind, problemId), so a
   * re-open of the same problem is not a recurrence. Newest first.
   */
  recurrences(action: string, targetKey: string, since: number, self: { kind: NotificationKind, problemId: string }): Promise<Recurrence[]>
  /** The runs the report counts: started (or, never started, created) in [since, until]. */
  reportRuns(since: number, until: number): Promise<ReportRun[]>
  saveExplanations(kind: NotificationKind, problemId: string, rows: readonly Omit<StoredExplanation, 'at'>[]): Promise<void>
  /** A problem's explanations (PID or display id through its runs' notifications), oldest first. */
  explanations(problemId: string): Promise<StoredExplanation[]>
}

export function createEvidenceStore ({ db, dialect, clock }: StoreContext): EvidenceStore {
  return {
    async markResolved (r) {
      const candidates = await db.selectFrom('runs')
        .select(['id', 'rule', 'action', 'dry_run', 'state', 'started_at', 'resolved_at', 'resolved_source'])
        .where('kind', '=', r.kind).where('problem_id', '=', r.problemId).where('occurrence', '=', r.occurrence)
        .execute()
      const todo = candidates.filter((c) => c.resolved_at === null || (r.source === 'endTime' && c.resolved_source !== 'endTime'))
      if (todo.length === 0) return []
      await db.updateTable('runs').set({ resolved_at: r.at, resolved_source: r.source })
        .where('id', 'in', todo.map((c) => c.id))
        // Conditional again, so a concurrent endTime is never overwritten by an arrival time.
        .where((eb) => r.source === 'endTime' ? eb.or([eb('resolved_source', 'is', null), eb('resolved_source', '!=', 'endTime')]) : eb('resolved_at', 'is', null))
        .execute()
      return todo.filter((c) => c.resolved_at === null).map((c) => ({
        id: c.id,
        rule: c.rule,
        action: c.action,
        dryRun: Number(c.dry_run) === 1,
        state: c.state as RunState,
        startedAt: c.started_at === null ? null : Number(c.started_at),
        resolvedAt: r.at,
      }))
    },

    async recurrences (action, targetKey, since, self) {
      const rows = await db.selectFrom('runs').select(['id', 'kind', 'problem_id', 'display_id', 'started_at'])
        .where('action', '=', action).where('target_key', '=', targetKey)
        .where('dry_run', '=', 0).where('state', '=', 'succeeded')
        .where('started_at', '>=', since)
        .where((eb) => eb.or([eb('kind', '!=', self.kind), eb('problem_id', '!=', self.problemId)]))
        .orderBy('started_at', 'desc')
        .execute()
      const byProblem = new Map<string, Recurrence>()
      for (const row of rows) {
        const key = `${row.kind}|${row.problem_id}`
        if (!byProblem.has(key)) byProblem.set(key, { problemId: row.problem_id, displayId: row.display_id, runId: row.id, startedAt: Number(row.started_at) })
      }
      return [...byProblem.values()]
    },

    async reportRuns (since, until) {
      const rows = await db.selectFrom('runs').select(['rule', 'action', 'dry_run', 'state', 'verification', 'started_at', 'created_at', 'resolved_at'])
        .where((eb) => eb.or([
          eb.and([eb('started_at', 'is not', null), eb('started_at', '>=', since), eb('started_at', '<=', until)]),
          eb.and([eb('started_at', 'is', null), eb('created_at', '>=', since), eb('created_at', '<=', until)]),
        ]))
        .execute()
      return rows.map((r) => {
        const verification = (dialect.fromJson(r.verification) ?? null) as Verification | null
        const verdict = verification === null ? null : verification.verdict as ReportVerdict
        return {
          rule: r.rule,
          action: r.action,
          dryRun: Number(r.dry_run) === 1,
          state: r.state as RunState,
          verdict,
          startedAt: r.started_at === null ? null : Number(r.started_at),
          resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
        }
      })
    },

    async saveExplanations (kind, problemId, rows) {
      if (rows.length === 0) return
      const now = clock.now()
      await db.insertInto('explanations').values(rows.map((r) => ({
        notification_id: r.notificationId,
        step: r.step,
        rule: r.rule,
        kind,
        problem_id: problemId,
        occurrence: r.occurrence,
        explanation: dialect.toJson(r.explanation),
        created_at: now,
      }))).onConflict((oc) => oc.columns(['notification_id', 'step', 'rule']).doNothing()).execute()
    },

    async explanations (problemId) {
      const rows = await db.selectFrom('explanations').selectAll()
        .where((eb) => eb.or([
          eb('problem_id', '=', problemId),
          eb('notification_id', 'in', eb.selectFrom('notifications').select('id').where('display_id', '=', problemId)),
        ]))
        .orderBy('created_at').orderBy('notification_id').orderBy('step').orderBy('rule')
        .execute()
      return rows.map((r) => ({ notificationId: r.notification_id, step: Number(r.step), rule: r.rule, occurrence: Number(r.occurrence), explanation: dialect.fromJson(r.explanation), at: Number(r.created_at) }))
    },
  }
}
