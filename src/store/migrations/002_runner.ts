/**
 * The runner's tables: the problems we track (occurrences), runs and their timelines, the outbox of
 * write-backs to Dynatrace, and named leases (a target's lock, the reconciler's turn); and on jobs,
 * whether the last claim took a job over from a lease that ran out (dtr_lease_takeovers_total).
 */
import { sql } from 'kysely'
import type { Migration } from './migration.js'

export const migration: Migration = {
  version: 2,
  name: '002_runner',
  async up (db, d) {
    await db.schema.alterTable('jobs').addColumn('taken_over', 'integer', (c) => c.notNull().defaultTo(0)).execute()

    await db.schema.createTable('problems')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('problem_id', 'text', (c) => c.notNull())
      .addColumn('display_id', 'text')
      .addColumn('occurrence', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('open', 'closed')`))
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('opened_at', d.bigintType, (c) => c.notNull())
      .addColumn('closed_at', d.bigintType)
      .addColumn('updated_at', d.bigintType, (c) => c.notNull())
      .addPrimaryKeyConstraint('problems_pk', ['kind', 'problem_id'])
      .execute()
    await db.schema.createIndex('problems_status_idx').on('problems').columns(['status', 'updated_at']).execute()

    await db.schema.createTable('runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('problem_id', 'text', (c) => c.notNull())
      .addColumn('display_id', 'text')
      .addColumn('occurrence', 'integer', (c) => c.notNull())
      .addColumn('notification_id', 'text', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('step', 'integer', (c) => c.notNull())
      .addColumn('entity_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', d.jsonType)
      .addColumn('target_key', 'text')
      .addColumn('namespace', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('skip_source', 'text')
      .addColumn('dry_run', 'integer', (c) => c.notNull())
      .addColumn('params', d.jsonType, (c) => c.notNull())
      .addColumn('plan', d.jsonType)
      .addColumn('facts', d.jsonType, (c) => c.notNull())
      .addColumn('settings', d.jsonType, (c) => c.notNull())
      .addColumn('outcome', d.jsonType)
      .addColumn('verification', d.jsonType)
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('approved_by', 'text')
      .addColumn('queued_at', d.bigintType, (c) => c.notNull())
      .addColumn('started_at', d.bigintType)
      .addColumn('ended_at', d.bigintType)
      .addColumn('created_at', d.bigintType, (c) => c.notNull())
      .addColumn('updated_at', d.bigintType, (c) => c.notNull())
      .execute()
    await db.schema.createIndex('runs_problem_idx').on('runs').columns(['kind', 'problem_id', 'occurrence']).execute()
    await db.schema.createIndex('runs_list_idx').on('runs').columns(['created_at', 'id']).execute()
    await db.schema.createIndex('runs_state_idx').on('runs').columns(['state', 'updated_at']).execute()
    // Cooldowns (per target and action) and budgets (global, per namespace, per rule) count the
    // runs that reached `running` within a window.
    await db.schema.createIndex('runs_cooldown_idx').on('runs').columns(['action', 'target_key', 'started_at']).execute()
    await db.schema.createIndex('runs_started_idx').on('runs').column('started_at').execute()

    await d.addIdColumn(db.schema.createTable('run_events'))
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('at', d.bigintType, (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('note', 'text', (c) => c.notNull())
      .execute()
    await db.schema.createIndex('run_events_run_idx').on('run_events').columns(['run_id', 'id']).execute()

    await db.schema.createTable('outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key', 'text', (c) => c.notNull().unique())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('problem_id', 'text', (c) => c.notNull())
      .addColumn('payload', d.jsonType, (c) => c.notNull())
      .addColumn('marker', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().check(sql`state IN ('pending', 'delivered', 'failed')`))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('created_at', d.bigintType, (c) => c.notNull())
      .addColumn('delivered_at', d.bigintType)
      .execute()
    await db.schema.createIndex('outbox_state_idx').on('outbox').columns(['state', 'created_at']).execute()
    await db.schema.createIndex('outbox_run_idx').on('outbox').column('run_id').execute()

    await db.schema.createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('until', d.bigintType, (c) => c.notNull())
      .addColumn('acquired_at', d.bigintType, (c) => c.notNull())
      .execute()
  },
}
