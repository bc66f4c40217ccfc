/**
 * Stores for tests, on both engines. Every store test runs once per engine through eachEngine():
 * SQLite always (a fresh data directory, removed at teardown), PostgreSQL when
 * DTR_TEST_DATABASE_URL is set (a schema of its own in that database, dropped at teardown);
 * without it the PostgreSQL half is reported as skipped, with the reason.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely'
import pg from 'pg'
import type { Test } from 'tap'
import type { Engine } from '../../src/store/engine/dialect.js'
import { openPostgres } from '../../src/store/engine/postgres.js'
import { openSqlite } from '../../src/store/engine/sqlite.js'
import { createStore, type Store, type StoreOptions } from '../../src/store/index.js'

export const testDatabaseUrl = process.env.DTR_TEST_DATABASE_URL

export const skipWithoutPostgres = testDatabaseUrl === undefined
  ? 'DTR_TEST_DATABASE_URL is not set: PostgreSQL tests skipped (CI sets it; see README)'
  : false

/** A fresh, empty data directory; removed at teardown. */
export function freshDataDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-data-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A new empty schema on the test server, dropped at teardown; returns a URL whose connections use
 * it and carry its name as application_name, so a test that kills connections
 * (pg_terminate_backend) can pick its own out of pg_stat_activity and leave other files' alone.
 */
export async function freshPostgresSchema (t: Test): Promise<string> {
  if (testDatabaseUrl === undefined) throw new Error('DTR_TEST_DATABASE_URL is not set')
  const schema = `dtr_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`
  const admin = new pg.Client({ connectionString: testDatabaseUrl })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: testDatabaseUrl })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
  })
  const url = new URL(testDatabaseUrl)
  url.searchParams.set('options', `-c search_path=${schema}`)
  url.searchParams.set('application_name', schema)
  return url.toString()
}

export interface TestEngine {
  readonly name: 'sqlite' | 'postgres'
  /** false, or why this engine's tests are skipped. */
  readonly skip: string | false
  /** A location of its own for this test: a data directory, or a PostgreSQL URL with its own schema. */
  location(t: Test): Promise<{ dataDir: string, databaseUrl: string | undefined }>
  /** An open, unmigrated engine on a location of its own; closed at teardown. */
  open(t: Test, location?: { dataDir: string, databaseUrl: string | undefined }): Promise<Engine>
}

export const sqliteEngine: TestEngine = {
  name: 'sqlite',
  skip: false,
  location: async (t) => ({ dataDir: freshDataDir(t), databaseUrl: undefined }),
  async open (t, location) {
    const engine = await openSqlite((location ?? await this.location(t)).dataDir)
    t.teardown(() => engine.close())
    return engine
  },
}

export const postgresEngine: TestEngine = {
  name: 'postgres',
  skip: skipWithoutPostgres,
  location: async (t) => ({ dataDir: '', databaseUrl: await freshPostgresSchema(t) }),
  async open (t, location) {
    const engine = await openPostgres((location ?? await this.location(t)).databaseUrl as string)
    t.teardown(() => engine.close())
    return engine
  },
}

export const engines: readonly TestEngine[] = [sqliteEngine, postgresEngine]

/** Runs body as one subtest per engine, named after it. */
export function eachEngine (t: Test, body: (t: Test, engine: TestEngine) => Promise<void>): void {
  for (const engine of engines) t.test(engine.name, { skip: engine.skip }, async (t) => body(t, engine))
}

/** A migrated store on a fresh location of the engine; closed at teardown. */
export async function openTestStore (t: Test, engine: TestEngine = sqliteEngine, options: StoreOptions = {}): Promise<Store> {
  const store = await createStore(await engine.open(t), options)
  t.teardown(() => store.close())
  return store
}

/** A Kysely plugin that makes every write fail while `failing` is true: a full disk, as the store sees it. */
export function writeFailures (): KyselyPlugin & { failing: boolean } {
  return {
    failing: false,
    transformQuery (args: PluginTransformQueryArgs): RootOperationNode {
      if (this.failing && /^(InsertQueryNode|UpdateQueryNode|DeleteQueryNode)$/.test(args.node.kind)) {
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
      }
      return args.node
    },
    async transformResult (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> { return args.result },
  }
}

/** A migrated store whose writes fail while `failures.failing` is set; closed at teardown. */
export async function storeWithFailingWrites (t: Test, engine: TestEngine = sqliteEngine, options: StoreOptions = {}): Promise<{ store: Store, failures: ReturnType<typeof writeFailures> }> {
  const opened = await engine.open(t)
  const failures = writeFailures()
  const store = await createStore({ ...opened, db: opened.db.withPlugin(failures) }, options)
  t.teardown(() => store.close())
  return { store, failures }
}
