/**
 * Stores for tests. Creating a PGlite data directory takes seconds, so one migrated template is
 * made per set of migrations (shared by concurrent test processes through an atomic rename) and
 * each test gets a copy. PostgreSQL tests get a database of their own, dropped at teardown.
 */
import { createHash, randomUUID } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Test } from 'tap'
import { loadMigrations, migrate } from '../../src/store/migrate.js'
import { openPglite } from '../../src/store/pglite.js'
import { createStore, type Store } from '../../src/store/index.js'

let template: Promise<string> | undefined

async function makeTemplate (): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(loadMigrations())).digest('hex').slice(0, 12)
  const dir = join(tmpdir(), `dtr-pglite-template-${hash}`)
  if (existsSync(join(dir, 'pgdata'))) return dir
  const building = mkdtempSync(join(tmpdir(), 'dtr-pglite-building-'))
  const db = await openPglite(building)
  await migrate(db)
  await db.close()
  try {
    renameSync(building, dir)
  } catch {
    // Another test process won the race; its template is as good as ours.
    rmSync(building, { recursive: true, force: true })
  }
  return dir
}

/** A fresh data directory holding a migrated embedded store; removed at teardown. */
export async function freshDataDir (t: Test): Promise<string> {
  template ??= makeTemplate()
  const dir = mkdtempSync(join(tmpdir(), 'dtr-data-'))
  cpSync(join(await template, 'pgdata'), join(dir, 'pgdata'), { recursive: true })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function openTestStore (t: Test): Promise<Store> {
  const store = await createStore(await openPglite(await freshDataDir(t)))
  t.teardown(() => store.close())
  return store
}

export const testDatabaseUrl = process.env.DTR_TEST_DATABASE_URL

export const skipWithoutPostgres = testDatabaseUrl === undefined
  ? 'DTR_TEST_DATABASE_URL is not set: PostgreSQL tests skipped (CI sets it; see README)'
  : false

/** A new empty database on the test server, dropped at teardown; returns its URL. */
export async function freshPostgresDatabase (t: Test): Promise<string> {
  if (testDatabaseUrl === undefined) throw new Error('DTR_TEST_DATABASE_URL is not set')
  const name = `dtr_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`
  const admin = new pg.Client({ connectionString: testDatabaseUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: testDatabaseUrl })
    await c.connect()
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await c.end()
  })
  const url = new URL(testDatabaseUrl)
  url.pathname = `/${name}`
  return url.toString()
}
