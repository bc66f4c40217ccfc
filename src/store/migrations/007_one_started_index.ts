/**
 * 005_evidence indexed `runs.started_at` a second time (`runs_started_at`), beside 002_runner's
 * `runs_started_idx` on the same column: every run insert and every start wrote two identical
 * index entries, and the store kept both. This drops the later one. No code names an index, so
 * code that predates it works the same on the result (additive as far as readers go).
 */
import type { Migration } from './migration.js'

export const migration: Migration = {
  version: 7,
  name: '007_one_started_index',
  async up (db) {
    await db.schema.dropIndex('runs_started_at').ifExists().execute()
  },
}
