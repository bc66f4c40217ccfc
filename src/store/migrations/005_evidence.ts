/**
 * Evidence (issue 21): when each run's problem resolved, so time to resolve after an action (live)
 * and without it (dry-run) can be reported per rule; and, per notification planned, the
 * explanation of what it planned (per rule: matched or the first failed condition; per entity:
 * the target and its source, or what was tried), so `GET /api/problems/:pid` shows why a rule did
 * or did not fire. Additive: code that predates it never reads these.
 */
import type { Migration } from './migration.js'

export const migration: Migration = {
  version: 5,
  name: '005_evidence',
  async up (db, d) {
    await db.schema.alterTable('runs').addColumn('resolved_at', d.bigintType).execute()
    // What told us: the problem's endTime, a RESOLVED notification, reconciliation, a status read.
    await db.schema.alterTable('runs').addColumn('resolved_source', 'text').execute()
    await db.schema.createIndex('runs_started_at').on('runs').column('started_at').execute()
    await db.schema.createTable('explanations')
      .addColumn('notification_id', 'text', (c) => c.notNull())
      .addColumn('step', 'integer', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('problem_id', 'text', (c) => c.notNull())
      .addColumn('occurrence', 'integer', (c) => c.notNull())
      .addColumn('explanation', d.jsonType, (c) => c.notNull())
      .addColumn('created_at', d.bigintType, (c) => c.notNull())
      .addPrimaryKeyConstraint('explanations_pk', ['notification_id', 'step', 'rule'])
      .execute()
    await db.schema.createIndex('explanations_problem').on('explanations').columns(['problem_id', 'created_at']).execute()
  },
}
