/**
 * The tables, as Kysely sees them: one interface per table, its columns as written and as read.
 * Adding a table is three steps: a migration under migrations/, its interface here, and a module
 * beside notifications.ts that takes a StoreContext (README, "Adding to the store").
 *
 * Conventions that both engines read identically:
 * - times are integer milliseconds since the epoch (`bigint` on PostgreSQL, parsed to a number;
 *   INTEGER on SQLite), taken from the injected Clock, never from the database's clock;
 * - JSON is written as text (Dialect.toJson) and read back through Dialect.fromJson: `jsonb` on
 *   PostgreSQL, TEXT on SQLite;
 * - ids the service makes are text (UUIDs); the job id is the engine's integer sequence.
 */
import type { ColumnType, Generated } from 'kysely'
import type { NotificationSource } from '../domain/notification.js'
import type { NotificationKind } from '../domain/payload.js'

/** A JSON column: written as JSON text, read as whatever the engine returns (see Dialect.fromJson). */
export type JsonColumn = ColumnType<unknown, string, string>

export interface NotificationsTable {
  id: string
  kind: NotificationKind
  /** PID for problems, SecurityProblemId for security problems. */
  problem_id: string
  /** ProblemID (P-…) when given. */
  display_id: string | null
  /** OPEN / RESOLVED / any string Dynatrace sent; NULL for security notifications. */
  state: string | null
  /** sha256 of kind, problem id, state and the canonical body: one row per distinct notification. */
  dedupe_key: string
  body: JsonColumn
  received_at: number
  /** How it reached us: a Dynatrace call, or reconciliation with the Problems API (migration 003). */
  source: ColumnType<NotificationSource, NotificationSource | undefined, NotificationSource>
}

export type JobState = 'ready' | 'active' | 'done' | 'failed'

export interface JobsTable {
  id: Generated<number>
  queue: string
  /** One job per (queue, key): enqueueing the same work twice is a no-op. */
  key: string
  payload: JsonColumn
  state: ColumnType<JobState, JobState | undefined, JobState>
  attempts: ColumnType<number, number | undefined, number>
  run_after: number
  lease_owner: string | null
  lease_until: number | null
  last_error: string | null
  created_at: number
  updated_at: number
  /** 1 when the last claim took the job over from a lease that ran out (migration 002). */
  taken_over: ColumnType<number, number | undefined, number>
  /** Claims that took the job over from a holder that died (migration 004). */
  takeovers: ColumnType<number, number | undefined, number>
  /** Failures retrying cannot cure (migration 004). */
  faults: ColumnType<number, number | undefined, number>
}

export interface SettingsTable {
  key: string
  value: string
  created_at: number
}

export interface SchemaMigrationsTable {
  version: number
  name: string
  /** The oldest code (by the last migration it knows) that can use the schema once this is applied; 0 when additive. */
  min_code_version: number
  applied_at: number
}

/** A JSON column that may be NULL. */
export type NullableJsonColumn = ColumnType<unknown, string | null, string | null>

/** One row per problem or security problem we track: its current occurrence and whether it is open. */
export interface ProblemsTable {
  kind: NotificationKind
  problem_id: string
  display_id: string | null
  /** 1 for the first open period; a re-open is the next. */
  occurrence: number
  status: 'open' | 'closed'
  /** How the current occurrence reached us: a notification, or reconciliation with the Problems API. */
  source: 'webhook' | 'reconcile'
  opened_at: number
  closed_at: number | null
  updated_at: number
}

/** Runs (SPEC 8): the plan and the facts it was made from, the state, the outcome, the verdict. */
export interface RunsTable {
  id: string
  /** kind|problem|occurrence|rule|step|entity: unique, so a resend never plans twice. */
  key: string
  kind: NotificationKind
  problem_id: string
  display_id: string | null
  occurrence: number
  notification_id: string
  rule: string
  step: number
  entity_id: string
  action: string
  target: NullableJsonColumn
  /** `Deployment/shop/checkout`, for locks and cooldowns; NULL without a target. */
  target_key: string | null
  namespace: string | null
  state: string
  reason: string | null
  /** Who skipped it: the action, a gate, or the lack of a target. */
  skip_source: 'action' | 'gate' | 'target' | null
  /** 1 when the run executes as a dry run (mode or the rule's dryRun). */
  dry_run: number
  params: JsonColumn
  plan: NullableJsonColumn
  /** What the rule saw (entity, event, conditions): for the audit and the comment. */
  facts: JsonColumn
  /** The rule's effective settings when planned: timeout, verifyAfter, cooldown, approval… */
  settings: JsonColumn
  outcome: NullableJsonColumn
  verification: NullableJsonColumn
  /** Each admission's gate results (migration 006): `[{at, decision, results}]`, NULL before the first. */
  gates: NullableJsonColumn
  attempts: number
  approved_by: string | null
  queued_at: number
  /** When it reached `running` (cooldowns and budgets count from here). */
  started_at: number | null
  ended_at: number | null
  created_at: number
  updated_at: number
  /** When the run's problem (occurrence) resolved, and what told us (migration 005). */
  resolved_at: ColumnType<number | null, number | null | undefined, number | null>
  resolved_source: ColumnType<string | null, string | null | undefined, string | null>
}

/** Per notification planned, per step and rule: why the rule did or did not fire (migration 005). */
export interface ExplanationsTable {
  notification_id: string
  step: number
  rule: string
  kind: NotificationKind
  problem_id: string
  occurrence: number
  explanation: JsonColumn
  created_at: number
}

export interface RunEventsTable {
  id: Generated<number>
  run_id: string
  at: number
  state: string
  note: string
}

/** Write-backs to Dynatrace, kept until delivered (SPEC 10). */
export interface OutboxTable {
  id: string
  /** `result:<run>`, `verdict:<run>`, `approval:<run>`: one of each per run. */
  key: string
  run_id: string
  /** A problem comment, or an event ingested on a security problem's entities. */
  kind: 'comment' | 'event'
  problem_id: string
  payload: JsonColumn
  /** Text the delivered write-back contains, to find one that may have landed. */
  marker: string
  state: 'pending' | 'delivered' | 'failed'
  attempts: number
  last_error: string | null
  created_at: number
  delivered_at: number | null
}

/** Named leases shared by replicas: a target's lock, the reconciler's turn. */
export interface LeasesTable {
  name: string
  holder: string
  until: number
  acquired_at: number
}

export interface Tables {
  notifications: NotificationsTable
  jobs: JobsTable
  settings: SettingsTable
  schema_migrations: SchemaMigrationsTable
  problems: ProblemsTable
  runs: RunsTable
  run_events: RunEventsTable
  outbox: OutboxTable
  leases: LeasesTable
  explanations: ExplanationsTable
}
