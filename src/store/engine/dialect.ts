/**
 * What differs between the two engines, in one small object per engine (sqlite.ts,
 * postgres.ts): the column types of ids and JSON, how JSON is read back, FOR UPDATE SKIP LOCKED,
 * the lock migrations run under, and the housekeeping after pruning. Every query in src/store/ is
 * written once, with Kysely, against this interface; none of them asks which engine it runs on.
 */
import type { CompiledQuery, CreateTableBuilder, Kysely, QueryResult, RawBuilder, SelectQueryBuilder, Transaction } from 'kysely'
import type { Tables } from '../schema.js'

export type EngineName = 'sqlite' | 'postgres'

export interface Dialect {
  readonly engine: EngineName
  /** The column type of JSON values: `jsonb` on PostgreSQL, `text` on SQLite. */
  readonly jsonType: 'jsonb' | 'text'
  /** The column type of times (ms since the epoch) and other 64-bit integers. */
  readonly bigintType: 'bigint' | 'integer'
  /**
   * Whether a transaction may send its next statements before the previous one answered: the
   * SQLite writer thread runs them in order; pg deprecates a query on a busy client.
   */
  readonly pipelines: boolean
  /**
   * Where the engine has it: runs compiled statements as one transaction of their own in one
   * round trip, all or none, and returns each one's result (the SQLite writer thread's scripts,
   * sqlite-thread.ts). Elsewhere a Kysely transaction does the same, a round trip a statement.
   * The statements are compiled already, so Kysely's plugins cannot transform them (and would be
   * handed the results' array as one query's rows): only for a database that runs none.
   */
  readonly runScript?: (db: Kysely<Tables>, statements: readonly CompiledQuery[]) => Promise<Array<QueryResult<unknown>>>
  /** Adds the auto-increment integer primary key `id`. */
  addIdColumn<T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C | 'id'>
  /** JSON as written: text, which PostgreSQL casts to jsonb and SQLite keeps. */
  toJson(value: unknown): string
  /**
   * A JSON text as a value inside a query (INSERT … SELECT), where PostgreSQL cannot infer the
   * type from a column: `cast($1 as jsonb)` there, the text itself on SQLite.
   */
  jsonValue(text: string): RawBuilder<string>
  /** JSON as read: PostgreSQL returns it parsed, SQLite as the text it stored. */
  fromJson(value: unknown): unknown
  /**
   * Lets replicas claim different rows at once (FOR UPDATE SKIP LOCKED on PostgreSQL). SQLite has
   * one writer, so a claim there is atomic without it.
   */
  skipLocked<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>
  /**
   * Locks the rows a read-then-write transaction decides on (FOR UPDATE on PostgreSQL). SQLite
   * runs one write transaction at a time, so there the transaction alone serialises them.
   */
  forUpdate<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>
  /**
   * Serialises the safety gates' check-and-record between replicas (a transaction-scoped advisory
   * lock on PostgreSQL), so concurrent runs never pass one cooldown twice or overspend a budget.
   * SQLite's single writer does this by itself.
   */
  lockGates(trx: Transaction<Tables>): Promise<void>
  /**
   * Serialises the transactions that read and then write one key's rows between replicas, also
   * while no row exists yet, which FOR UPDATE cannot lock (a problem never seen, whose OPEN and
   * RESOLVED arrive at two replicas at once): a transaction-scoped advisory lock on PostgreSQL,
   * keyed by a hash of `key` (two keys sharing a hash only wait for each other). SQLite's single
   * writer does this by itself. Call inside a transaction.
   */
  lockKey(db: Kysely<Tables>, key: string): Promise<void>
  /** Serialises migrations between replicas starting at once; called first in the migration transaction. */
  lockMigrations(trx: Transaction<Tables>): Promise<void>
  /** After a pruning pass: SQLite checkpoints and truncates its WAL; PostgreSQL leaves it to autovacuum. */
  afterPrune(db: Kysely<Tables>): Promise<void>
}

/**
 * Wake-ups between processes sharing one store: intake on one replica commits a notification,
 * every replica's workers look at once instead of at their next poll. Best effort by design —
 * polling stays the fallback, so a lost signal delays work by one poll interval, never loses it.
 */
export interface WakeSignals {
  /**
   * Tells the other processes that work is waiting: in `queue` only, or (without it) anywhere.
   * Coalesced; never throws.
   */
  send(queue?: string): void
  /**
   * Calls onWake whenever another process sends (never for this process's own sends). The
   * listening connection reconnects after `retryMs` when it drops, waking once on reconnect in
   * case a signal was missed. Resolves once listening (or, when the first connection fails,
   * once that is reported and retrying); returns how to stop.
   */
  listen(onWake: (queue?: string) => void, options: WakeListenOptions): Promise<() => Promise<void>>
}

export interface WakeListenOptions {
  readonly clock: { sleep(ms: number, signal?: AbortSignal): Promise<void> }
  readonly retryMs: number
  /** Told when the listening connection drops; it is then retried every retryMs. */
  readonly onError?: (err: Error) => void
  /** Told when it listens again after a drop. */
  readonly onReconnect?: () => void
}

/** An open engine: the one Kysely instance the store queries, and how to close it. */
export interface Engine {
  readonly dialect: Dialect
  readonly db: Kysely<Tables>
  /** Present where several processes can share the store (PostgreSQL's LISTEN/NOTIFY). */
  readonly signals?: WakeSignals
  /** Where the store lives, for messages: `DTR_DATA_DIR /path` or `PostgreSQL host:port/db`. */
  readonly description: string
  /**
   * Why the engine can never answer again in this process, if so: the embedded store's writer
   * thread ended by itself (out of memory, a crash). Absent where a lost connection is retried.
   */
  broken?(): string | undefined
  close(): Promise<void>
}
