/**
 * The embedded engine: SQLite (better-sqlite3) in DTR_DATA_DIR, the default of `npm start` and of
 * the single-replica Deployment.
 *
 * - WAL with `synchronous=FULL`: every commit is fsync'd before it returns, so a notification
 *   answered 202 survives a crash or a power loss (SPEC 4); readers (a backup) never block the
 *   writer.
 * - One owner process, held by an OS lock that dies with it (owner-lock.ts).
 * - The connection lives in a worker thread (sqlite-thread.ts), so a slow fsync never pauses
 *   request handling; `thread: 'main'` keeps it on the calling thread (the bench compares both).
 *
 * Before any of that, the directory is checked: it must be writable, and a data directory left
 * by the PGlite store of 0.1 is refused with what to do about it, never silently ignored.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql, type Dialect as KyselyDialect } from 'kysely'
import { DtrError } from '../../errors.js'
import type { Tables } from '../schema.js'
import type { Dialect, Engine } from './dialect.js'
import { acquireOwnerLock, LOCK_FILE, OWNER_FILE } from './owner-lock.js'
import { runScript, SqliteThreadDialect } from './sqlite-thread.js'

export const DATABASE_FILE = 'dt-remediator.db'

/** Applied to the store's connection on open. */
const SQLITE_PRAGMAS = [
  // Before anything is written (it applies to a new file only): a notification row is about
  // 600 bytes, of which a 4 KiB page holds 6 with a sixth of it left empty; 8 KiB holds 13.
  'page_size = 8192',
  'journal_mode = WAL',
  // FULL: the WAL is fsync'd at every commit (NORMAL would fsync only at checkpoints and could
  // lose the last commits on power loss, which SPEC 4 forbids).
  'synchronous = FULL',
  'foreign_keys = ON',
  // A WAL that a long checkpoint-less stretch grew is cut back to this size afterwards.
  'journal_size_limit = 67108864',
] as const

const BUSY_TIMEOUT_MS = 5000

export const sqliteDialect: Dialect = {
  engine: 'sqlite',
  jsonType: 'text',
  bigintType: 'integer',
  pipelines: true,
  addIdColumn: (table) => table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()),
  toJson: (value) => JSON.stringify(value),
  jsonValue: (text) => sql<string>`${text}`,
  fromJson: (value) => (typeof value === 'string' ? JSON.parse(value) as unknown : value),
  skipLocked: (query) => query,
  forUpdate: (query) => query,
  lockGates: async () => {},
  // The owner lock already makes this process the only one on the file, and migrations run in a
  // BEGIN IMMEDIATE transaction.
  lockKey: async () => {},
  lockMigrations: async () => {},
  afterPrune: async (db) => { await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db) },
}

/** The same, with the connection in its writer thread: a group commit goes as one script there. */
const threadedSqliteDialect: Dialect = { ...sqliteDialect, runScript }

export interface SqliteOptions {
  /** Where the connection runs; 'worker' unless measuring the difference. */
  readonly thread?: 'worker' | 'main'
  /** The writer thread's heap limits (Node's defaults unless given; a test makes them small to see the thread die). */
  readonly writerLimits?: import('node:worker_threads').ResourceLimits
}

/** What a 0.1 data directory holds that this version does not read. */
const LEGACY_ENTRIES = ['pgdata', 'dt-remediator.lock'] as const

/** Pure: the refusal for a data directory of the 0.1 PGlite store. */
export function legacyStoreMessage (dataDir: string, found: readonly string[]): string {
  return `DTR_DATA_DIR ${dataDir} holds the PGlite store of dt-remediator 0.1 (${found.join(', ')}), which this version does not read: ` +
    'nothing in it was ever acted on, so move it aside (e.g. mv pgdata pgdata-0.1) and start again for a new SQLite store; ' +
    'if Dynatrace sends the webhook token 0.1 generated, set DTR_WEBHOOK_TOKENS to it'
}

function checkDataDir (dataDir: string): void {
  const why = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message
  try {
    mkdirSync(dataDir, { recursive: true })
    accessSync(dataDir, constants.W_OK)
  } catch (err) {
    throw new DtrError('DTR_ERR_STORE', `DTR_DATA_DIR ${dataDir} is not a writable directory (${why(err)}); the embedded store needs one`, { cause: err })
  }
  const legacy = LEGACY_ENTRIES.filter((entry) => existsSync(join(dataDir, entry)))
  if (legacy.length > 0) throw new DtrError('DTR_ERR_STORE', legacyStoreMessage(dataDir, legacy))
}

export async function openSqlite (dataDir: string, options: SqliteOptions = {}): Promise<Engine> {
  const dir = resolve(dataDir)
  checkDataDir(dir)
  let release: () => void
  try {
    release = acquireOwnerLock(dir)
  } catch (err) {
    if (err instanceof DtrError) throw err
    throw new DtrError('DTR_ERR_STORE', `DTR_DATA_DIR ${dir} is not writable (${(err as Error).message} on ${LOCK_FILE} or ${OWNER_FILE})`, { cause: err })
  }
  const path = join(dir, DATABASE_FILE)
  const threaded = options.thread === 'main'
    ? undefined
    : new SqliteThreadDialect({ path, pragmas: SQLITE_PRAGMAS, busyTimeoutMs: BUSY_TIMEOUT_MS, resourceLimits: options.writerLimits })
  const dialect: KyselyDialect = threaded ?? new SqliteDialect({
    database: () => {
      const db = new Database(path, { timeout: BUSY_TIMEOUT_MS })
      for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma)
      return Promise.resolve(db)
    },
  })
  const db = new Kysely<Tables>({ dialect })
  try {
    // Opens the connection now, so that a damaged file fails start-up rather than the first request.
    await sql`SELECT 1`.execute(db)
  } catch (err) {
    await db.destroy().catch(() => {})
    release()
    throw new DtrError('DTR_ERR_STORE', `Cannot open the embedded store ${path} (DTR_DATA_DIR): ${(err as Error).message}`, { cause: err })
  }
  let closed: Promise<void> | undefined
  return {
    dialect: threaded === undefined ? sqliteDialect : threadedSqliteDialect,
    db,
    description: `DTR_DATA_DIR ${dir}`,
    broken: () => threaded?.broken(),
    async close () {
      closed ??= db.destroy().finally(release)
      await closed
    },
  }
}
