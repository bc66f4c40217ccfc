/** What a migration is (its own file, so the migrations and migrate.ts need not import each other). */
import type { Kysely } from 'kysely'
import type { Dialect } from '../engine/dialect.js'

export interface Migration {
  readonly version: number
  /** NNN_name, as the file. */
  readonly name: string
  /**
   * Only for a migration that removes or changes what earlier code reads: the last migration the
   * oldest code that still works with the result knows. Additive migrations leave it out.
   */
  readonly minCodeVersion?: number
  /** Runs inside the migration transaction; the schema builder is untyped on purpose (the tables are what earlier migrations made). */
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>
}
