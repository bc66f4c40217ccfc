/**
 * Each admission's gate results, stored with the run (issue 22): the console shows what every
 * gate said when the run was admitted (or stopped), which the timeline carries only as one line.
 * A JSON array of `{at, decision, results}`, one entry per admission. Additive: code that predates
 * it never reads the column, and its inserts leave it NULL (read as no admissions).
 */
import type { Migration } from './migration.js'

export const migration: Migration = {
  version: 6,
  name: '006_gates',
  async up (db, d) {
    await db.schema.alterTable('runs').addColumn('gates', d.jsonType).execute()
  },
}
