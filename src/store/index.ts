/**
 * The store: opens the engine the configuration asks for, applies migrations, and offers the
 * domain stores. The only place in the service with SQL is this folder.
 *
 * Adding a module (runs, an outbox, …): a migration under migrations/, its tables in schema.ts,
 * and a `createX(ctx: StoreContext)` factory listed in `modules()` below; it then appears on the
 * Store and on the `tx` of Store.transaction(), which runs several modules' writes atomically.
 */
import type { Kysely } from 'kysely'
import { systemClock, type Clock } from '../clock.js'
import type { StoreContext } from './context.js'
import type { Dialect, Engine, EngineName, WakeSignals } from './engine/dialect.js'
import { openEngine, type StoreLocation } from './engine/index.js'
import type { SqliteOptions } from './engine/sqlite.js'
import { migrate, type MigrationResult } from './migrate.js'
import { createNotificationStore, type NotificationStore, type NotificationStoreOptions } from './notifications.js'
import { createEvidenceStore } from './evidence.js'
import { createLeaseStore, type LeaseStore } from './leases.js'
import { createOutboxStore, type OutboxStore } from './outbox.js'
import { createProblemStore, type ProblemStore } from './problems.js'
import { createJobQueue, type JobQueue } from './queue.js'
import { createRunStore, type RunStore } from './runs.js'
import { createRetentionStore, type RetentionStore } from './retention.js'
import type { Tables } from './schema.js'
import { createSettingsStore, type SettingsStore } from './settings.js'

export type { WakeSignals } from './engine/dialect.js'
export type { JobQueue, LeaseStore, NotificationStore, OutboxStore, ProblemStore, RunStore, SettingsStore, StoreContext, StoreLocation }

/** The modules that work the same inside and outside a transaction. */
function modules (ctx: StoreContext) {
  return {
    jobs: createJobQueue(ctx),
    settings: createSettingsStore(ctx),
    problems: createProblemStore(ctx),
    runs: createRunStore(ctx),
    outbox: createOutboxStore(ctx),
    leases: createLeaseStore(ctx),
    evidence: createEvidenceStore(ctx),
  }
}

export type TransactionStores = ReturnType<typeof modules> & {
  /** The transaction, for queries no module offers yet. */
  readonly db: Kysely<Tables>
  readonly dialect: Dialect
  /** The store's clock: the "now" to write. */
  readonly now: () => number
  /** Serialises this transaction's gate check-and-record with every other replica's (SPEC 9). */
  lockGates(): Promise<void>
}

export interface StoreHealth {
  readonly ready: boolean
  /** ok | unreachable (no answer) | failing (commits fail, e.g. a full disk). */
  readonly store: 'ok' | 'unreachable' | 'failing'
  readonly lastError?: string
}

export interface Store extends ReturnType<typeof modules> {
  readonly engine: EngineName
  /** Where it lives, for messages: `DTR_DATA_DIR /path` or `PostgreSQL host/db`. */
  readonly description: string
  readonly notifications: NotificationStore
  readonly retention: RetentionStore
  readonly clock: Clock
  readonly migrations: MigrationResult
  /**
   * Wake-ups between the processes sharing this store (LISTEN/NOTIFY on PostgreSQL). The embedded
   * store has one process by construction (its owner lock), so there they do nothing.
   */
  readonly signals: WakeSignals
  /**
   * When the store was first created (ms epoch): the first migration's time. Reconciliation never
   * takes in a problem that started before it, so installing the service does not act on
   * problems days old (SPEC 8).
   */
  readonly createdAt: number
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: TransactionStores) => Promise<T>): Promise<T>
  /**
   * Calls `listener` with the queue of every job enqueued through this store (its modules, or a
   * transaction's) once that job can be claimed, and when it comes due (its run_after: now, or
   * later for a delayed one): the runner wakes exactly the worker that has new work, when it has
   * it, rather than every worker after every job. Returns the way to stop listening.
   */
  onEnqueued(listener: (queue: string, at: number) => void): () => void
  /** Whether the engine answers a trivial query. */
  ping(): Promise<boolean>
  /**
   * Why this store can never work again in this process, if so (the embedded store's writer
   * thread died): /healthz then fails, so the kubelet restarts the pod instead of keeping a
   * process that refuses every notification.
   */
  broken(): string | undefined
  /** For /readyz: the engine answers, and commits are not failing (a write is tried when they were). */
  health(): Promise<StoreHealth>
  /** Waits for pending commits, then closes the engine. Safe to call more than once. */
  close(): Promise<void>
}

export interface StoreOptions {
  readonly clock?: Clock
  readonly notifications?: NotificationStoreOptions
}

/** The readiness probe's largest write: DTR_BODY_LIMIT is 1 MiB by default; a probe of more would cost each poll more than it proves. */
const MAX_PROBE_BYTES = 16 * 1024 * 1024

/** The embedded store's: one process, nobody else to wake. */
const noSignals: WakeSignals = { send: () => {}, listen: async () => async () => {} }

/** Opens the configured engine and creates the store on it. */
export async function openStore (location: StoreLocation, options: StoreOptions & SqliteOptions = {}): Promise<Store> {
  return createStore(await openEngine(location, { thread: options.thread, writerLimits: options.writerLimits }), options)
}

/** Migrates the engine and wraps it; the store owns the engine from here on and closes it. */
export async function createStore (engine: Engine, options: StoreOptions = {}): Promise<Store> {
  const clock = options.clock ?? systemClock
  let migrations: MigrationResult
  let createdAt: number
  try {
    migrations = await migrate(engine, clock)
    const first = await engine.db.selectFrom('schema_migrations').select((eb) => eb.fn.min('applied_at').as('at')).executeTakeFirst()
    createdAt = Number(first?.at ?? clock.now())
  } catch (err) {
    await engine.close()
    throw err
  }
  const listeners = new Set<(queue: string, at: number) => void>()
  // Told after a commit: a listener that throws must not make a committed transaction look failed.
  const enqueued = (queue: string, at: number): void => { for (const listener of listeners) try { listener(queue, at) } catch { /* the listener's own fault */ } }
  const ctx: StoreContext = { db: engine.db, dialect: engine.dialect, clock, enqueued }
  const notifications = createNotificationStore(ctx, options.notifications)
  const base = modules(ctx)
  let closed: Promise<void> | undefined

  async function ping (): Promise<boolean> {
    try {
      await engine.db.selectFrom('settings').select('key').limit(1).execute()
      return true
    } catch {
      return false
    }
  }

  return {
    ...base,
    engine: engine.dialect.engine,
    description: engine.description,
    notifications,
    retention: createRetentionStore(ctx),
    clock,
    migrations,
    signals: engine.signals ?? noSignals,
    createdAt,
    async transaction (fn) {
      // A job enqueued in the transaction is claimable once it commits, not before: on
      // PostgreSQL a worker woken earlier would find nothing, and sleep until its next poll.
      const told: Array<readonly [string, number]> = []
      const result = await engine.db.transaction().execute(async (trx) =>
        fn({ ...modules({ ...ctx, db: trx, enqueued: (queue, at) => { told.push([queue, at]) } }), db: trx, dialect: engine.dialect, now: () => clock.now(), lockGates: async () => engine.dialect.lockGates(trx) }))
      // Each queue once for what is due by now, however many of its jobs the transaction
      // enqueued (and in however many clock ticks), and once for each later time.
      const committedAt = clock.now()
      const seen = new Set<string>()
      for (const [queue, at] of told) {
        const due = Math.max(at, committedAt)
        const key = `${queue} ${due}`
        if (seen.has(key)) continue
        seen.add(key)
        enqueued(queue, due)
      }
      return result
    },
    onEnqueued (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    ping,
    broken: () => engine.broken?.(),
    async health () {
      if (!(await ping())) return { ready: false, store: 'unreachable' }
      const commits = notifications.health()
      if (!commits.failing) return { ready: true, store: 'ok' }
      // Readiness follows the real commits: a small probe write succeeded on a full tmpfs where
      // every notification's commit failed, and /readyz said ready while webhooks got 503. So the
      // probe commits as many bytes as the smallest notification that failed (then shrinks the
      // row again, in the same transaction); only that, or a real commit, makes the store ready.
      const filler = 'x'.repeat(Math.min(Math.max(commits.failedBytes ?? 0, 64), MAX_PROBE_BYTES))
      try {
        await engine.db.transaction().execute(async (trx) => {
          const settings = createSettingsStore({ ...ctx, db: trx })
          await settings.put('readiness-probe', filler)
          await settings.put('readiness-probe', new Date(clock.now()).toISOString())
        })
        if (notifications.health().failing) notifications.markHealthy()
        return { ready: true, store: 'ok' }
      } catch {
        return { ready: false, store: 'failing', lastError: commits.lastError }
      }
    },
    async close () {
      closed ??= notifications.drain().then(async () => engine.close())
      await closed
    },
  }
}
