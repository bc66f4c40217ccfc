/**
 * The store: opens the engine the configuration asks for, applies migrations, and offers the
 * domain stores. The only place in the service with SQL is this folder.
 */
import type { Database } from './db.js'
import { migrate } from './migrate.js'
import { createNotificationStore, type NotificationStore, type NotificationStoreOptions } from './notifications.js'
import { openPglite } from './pglite.js'
import { openPostgres } from './postgres.js'
import { createJobQueue, type JobQueue } from './queue.js'
import { createSettingsStore, type SettingsStore } from './settings.js'

export interface Store {
  readonly engine: Database['engine']
  readonly notifications: NotificationStore
  readonly jobs: JobQueue
  readonly settings: SettingsStore
  /** Whether the engine answers a trivial query. */
  ping(): Promise<boolean>
  /** Waits for pending commits, then closes the engine. */
  close(): Promise<void>
}

export interface StoreLocation {
  readonly databaseUrl: string | undefined
  readonly dataDir: string
}

export async function openDatabase (location: StoreLocation): Promise<Database> {
  return location.databaseUrl === undefined ? openPglite(location.dataDir) : openPostgres(location.databaseUrl)
}

/** Migrates db and wraps it; the store owns db from here on and closes it. */
export async function createStore (db: Database, options: { notifications?: NotificationStoreOptions } = {}): Promise<Store> {
  try {
    await migrate(db)
  } catch (err) {
    await db.close()
    throw err
  }
  const notifications = createNotificationStore(db, options.notifications)
  let closed: Promise<void> | undefined
  return {
    engine: db.engine,
    notifications,
    jobs: createJobQueue(db),
    settings: createSettingsStore(db),
    async ping () {
      try {
        await db.query('SELECT 1')
        return true
      } catch {
        return false
      }
    },
    /** Safe to call more than once (a test's teardown and the app's onClose may both call it). */
    async close () {
      closed ??= notifications.drain().then(async () => db.close())
      await closed
    },
  }
}
