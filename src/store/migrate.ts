/**
 * Numbered SQL migrations (src/store/migrations/NNN_name.sql), applied at start-up in one
 * transaction under an advisory lock, so several replicas starting at once apply each exactly
 * once: the second waits for the first, then finds nothing left to do.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Database } from './db.js'

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))
/** An arbitrary constant shared by every replica: "dt-remediator migrations". */
const MIGRATION_LOCK = 0x64747200

export function loadMigrations (dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((file) => ({ version: Number.parseInt(file, 10), name: file.replace(/\.sql$/, ''), sql: readFileSync(dir + file, 'utf8') }))
    .sort((a, b) => a.version - b.version)
}

/** Applies what is missing; returns the versions this call applied. */
export async function migrate (db: Database, migrations: readonly Migration[] = loadMigrations()): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())')
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations')
    const applied = new Set(rows.map((r) => r.version))
    const done: number[] = []
    for (const m of migrations) {
      if (applied.has(m.version)) continue
      await tx.exec(m.sql)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
      done.push(m.version)
    }
    return done
  })
}
