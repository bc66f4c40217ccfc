/**
 * Opens the engine a configuration asks for: PostgreSQL when a database URL is given, else the
 * embedded SQLite store in the data directory. pg is imported only in the first case.
 */
import type { Engine } from './dialect.js'
import { openSqlite, type SqliteOptions } from './sqlite.js'

export type { Dialect, Engine, EngineName } from './dialect.js'

export interface StoreLocation {
  readonly databaseUrl: string | undefined
  readonly dataDir: string
}

export async function openEngine (location: StoreLocation, options: SqliteOptions = {}): Promise<Engine> {
  if (location.databaseUrl === undefined) return openSqlite(location.dataDir, options)
  const { openPostgres } = await import('./postgres.js')
  return openPostgres(location.databaseUrl)
}
