/**
 * Migrations (migrations/index.ts), applied at start-up in one transaction under the engine's
 * migration lock, so several replicas starting at once apply each exactly once: the second waits
 * for the first, then finds nothing left to do.
 *
 * Rolling updates: old and new replicas share one store for a while, so a release only adds
 * (tables, nullable columns, indexes) and stops using what it means to drop; a later release
 * removes it, declaring `minCodeVersion`: the oldest code (by the last migration it knows) that
 * still works once the removal is applied. A store whose schema is newer than the code is used
 * when every newer migration was additive (with a warning), and refused in one line when one of
 * them removed something this code needs.
 */
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import { DtrError } from '../errors.js'
import type { Engine } from './engine/dialect.js'
import { MIGRATIONS } from './migrations/index.js'
import type { Migration } from './migrations/migration.js'

export type { Migration }

export interface MigrationResult {
  /** Versions this call applied. */
  readonly applied: number[]
  /** Versions in the store that this code does not know (applied by a newer release). */
  readonly newer: number[]
}

/** Pure: the refusal for a schema this code cannot use. */
export function tooNewMessage (where: string, newest: { version: number, name: string }, needs: number, knows: number): string {
  return `The store (${where}) has schema migration ${newest.name} from a newer dt-remediator, which needs a version knowing migration ${needs} or later; ` +
    `this one knows up to ${knows}: run the newer release (or restore a backup taken before the upgrade)`
}

/** Applies what is missing; refuses a schema this code cannot use. */
export async function migrate (engine: Engine, clock: Clock, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  const { db, dialect } = engine
  const knows = Math.max(0, ...migrations.map((m) => m.version))
  return db.transaction().execute(async (trx) => {
    await dialect.lockMigrations(trx)
    await trx.schema.createTable('schema_migrations').ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('min_code_version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('applied_at', dialect.bigintType, (c) => c.notNull())
      .execute()
    const rows = await trx.selectFrom('schema_migrations').select(['version', 'name', 'min_code_version']).orderBy('version').execute()
    const needs = Math.max(0, ...rows.map((r) => Number(r.min_code_version)))
    const newer = rows.filter((r) => Number(r.version) > knows)
    if (needs > knows) {
      const newest = rows.at(-1) as { version: number, name: string }
      throw new DtrError('DTR_ERR_STORE', tooNewMessage(engine.description, newest, needs, knows))
    }
    const done = new Set(rows.map((r) => Number(r.version)))
    const applied: number[] = []
    for (const m of migrations) {
      if (done.has(m.version)) continue
      await m.up(trx as unknown as Kysely<unknown>, dialect)
      await trx.insertInto('schema_migrations').values({ version: m.version, name: m.name, min_code_version: m.minCodeVersion ?? 0, applied_at: clock.now() }).execute()
      applied.push(m.version)
    }
    return { applied, newer: newer.map((r) => Number(r.version)) }
  })
}
