/**
 * The shared engine: a PostgreSQL server through a pg pool, required for more than one replica.
 * Loaded only when DTR_DATABASE_URL is set (engine/index.ts imports it dynamically), so the
 * embedded store does not pay for pg.
 */
import pg from 'pg'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { DtrError } from '../../errors.js'
import type { Tables } from '../schema.js'
import type { Dialect, Engine } from './dialect.js'

/** An arbitrary constant shared by every replica: "dt-remediator migrations". */
const MIGRATION_LOCK = 0x64747200
/** Another: "dt-remediator safety gates". */
const GATE_LOCK = 0x64747201

/** int8 (times in ms, counts, job ids) as a number: every value the store keeps fits in 2^53. */
const INT8_OID = 20
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
}

export const postgresDialect: Dialect = {
  engine: 'postgres',
  jsonType: 'jsonb',
  bigintType: 'bigint',
  pipelines: false,
  addIdColumn: (table) => table.addColumn('id', 'bigserial', (c) => c.primaryKey()),
  toJson: (value) => JSON.stringify(value),
  jsonValue: (text) => sql<string>`cast(${text} as jsonb)`,
  fromJson: (value) => value,
  skipLocked: (query) => query.forUpdate().skipLocked(),
  forUpdate: (query) => query.forUpdate(),
  lockGates: async (trx) => { await sql`SELECT pg_advisory_xact_lock(${GATE_LOCK})`.execute(trx) },
  lockMigrations: async (trx) => { await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx) },
  afterPrune: async () => {},
}

export interface PostgresOptions {
  readonly max?: number
}

/** Pure: host:port/database of a URL, without credentials, for messages. */
export function describeUrl (url: string): string {
  try {
    const u = new URL(url)
    return `PostgreSQL ${u.host}${u.pathname}`
  } catch {
    return 'PostgreSQL (DTR_DATABASE_URL)'
  }
}

export async function openPostgres (url: string, options: PostgresOptions = {}): Promise<Engine> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types })
  // An idle client losing its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {})
  // A client checked out of the pool (a transaction between two statements) that loses its
  // connection emits 'error' too, and the pool listens only to idle ones: without this listener
  // a server restart or pg_terminate_backend at that moment crashed the process. The statement in
  // flight still fails (503), and the pool drops the broken client when it is released.
  pool.on('connect', (client) => { client.on('error', () => {}) })
  const description = describeUrl(url)
  try {
    const client = await pool.connect()
    client.release()
  } catch (err) {
    await pool.end().catch(() => {})
    throw new DtrError('DTR_ERR_STORE', `Cannot connect to ${description} (DTR_DATABASE_URL): ${(err as Error).message}`, { cause: err })
  }
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) })
  let closed: Promise<void> | undefined
  return {
    dialect: postgresDialect,
    db,
    description,
    async close () {
      closed ??= db.destroy()
      await closed
    },
  }
}
