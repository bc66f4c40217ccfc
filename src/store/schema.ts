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

/** A JSON column: written as JSON text, read as whatever the engine returns (see Dialect.fromJson). */
export type JsonColumn = ColumnType<unknown, string, string>

export interface NotificationsTable {
  id: string
  kind: 'problem' | 'security'
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

export interface Tables {
  notifications: NotificationsTable
  jobs: JobsTable
  settings: SettingsTable
  schema_migrations: SchemaMigrationsTable
}
