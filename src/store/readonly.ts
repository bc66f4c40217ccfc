/**
 * The store opened for reading only, beside a running service: for `simulate`, which shows the
 * gates a notification would meet now (the kill switch, cooldowns, budgets, locks). On SQLite the
 * database file is opened read-only, without the owner's lock (WAL lets a reader in while the
 * service writes); on PostgreSQL it is an ordinary connection. Nothing is migrated or written.
 * Undefined when there is no store there yet.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { systemClock, type Clock } from '../clock.js'
import type { StoreContext } from './context.js'
import type { StoreLocation } from './engine/index.js'
import { DATABASE_FILE, sqliteDialect } from './engine/sqlite.js'
import { createEvidenceStore, type EvidenceStore } from './evidence.js'
import { createLeaseStore, type LeaseStore } from './leases.js'
import { createRunStore, type RunStore } from './runs.js'
import type { Tables } from './schema.js'
import { createSettingsStore, type SettingsStore } from './settings.js'

export interface ReadOnlyStore {
  readonly runs: RunStore
  readonly leases: LeaseStore
  readonly settings: SettingsStore
  /** Recurrences for simulate's gates, and the runs `dt-remediator report` reads. */
  readonly evidence: EvidenceStore
  /** Where it was read: `DTR_DATA_DIR /path` or `PostgreSQL host/db`. */
  readonly description: string
  close(): Promise<void>
}

export async function openStoreReadOnly (location: StoreLocation, clock: Clock = systemClock): Promise<ReadOnlyStore | undefined> {
  let ctx: StoreContext
  let description: string
  let close: () => Promise<void>
  if (location.databaseUrl === undefined) {
    const path = join(resolve(location.dataDir), DATABASE_FILE)
    if (!existsSync(path)) return undefined
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 }) }) })
    ctx = { db, dialect: sqliteDialect, clock }
    description = `DTR_DATA_DIR ${resolve(location.dataDir)}`
    close = async () => db.destroy()
  } else {
    const { openPostgres } = await import('./engine/postgres.js')
    const engine = await openPostgres(location.databaseUrl, { max: 2 })
    ctx = { db: engine.db, dialect: engine.dialect, clock }
    description = engine.description
    close = async () => engine.close()
  }
  return { runs: createRunStore(ctx), leases: createLeaseStore(ctx), settings: createSettingsStore(ctx), evidence: createEvidenceStore(ctx), description, close }
}
