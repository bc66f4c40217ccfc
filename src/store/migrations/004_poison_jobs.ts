/**
 * Poison work is bounded (issue 19 item 6): per job, how many times it was taken over after its
 * holder died (`takeovers`: a notification that runs the process out of memory is taken over by
 * every restart) and how many times its handler failed with an error that retrying cannot cure
 * (`faults`). At a bound the job is marked failed with its reason instead of being tried forever.
 * Additive: code that predates it never reads the columns, and its inserts get the defaults.
 */
import type { Migration } from './migration.js'

export const migration: Migration = {
  version: 4,
  name: '004_poison_jobs',
  async up (db) {
    await db.schema.alterTable('jobs').addColumn('takeovers', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    await db.schema.alterTable('jobs').addColumn('faults', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  },
}
