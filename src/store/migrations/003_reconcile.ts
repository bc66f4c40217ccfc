/**
 * Reconciliation with the Problems API (SPEC 8): how each notification reached us, `webhook` (a
 * Dynatrace call) or `reconcile` (taken in from the Problems API because no notification brought
 * it). Additive: code that predates it never reads the column, and its inserts get the default.
 */
import { sql } from 'kysely'
import type { Migration } from './migration.js'

export const migration: Migration = {
  version: 3,
  name: '003_reconcile',
  async up (db) {
    await db.schema.alterTable('notifications')
      .addColumn('source', 'text', (c) => c.notNull().defaultTo('webhook').check(sql`source IN ('webhook', 'reconcile')`))
      .execute()
  },
}
