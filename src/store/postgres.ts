/**
 * The shared engine: a PostgreSQL server through a pg pool, required for more than one replica.
 */
import pg from 'pg'
import type { Database, Queryable } from './db.js'

export interface PostgresOptions {
  readonly max?: number
}

function wrap (client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row> (sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      const result = await client.query(sql, params as unknown[])
      return result.rows as Row[]
    },
    async exec (sql: string): Promise<void> {
      await client.query(sql)
    },
  }
}

export async function openPostgres (url: string, options: PostgresOptions = {}): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 })
  // An idle client losing its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {})
  const client = await pool.connect()
  client.release()
  const base = wrap(pool)
  return {
    engine: 'postgres',
    query: base.query,
    exec: base.exec,
    async transaction (fn) {
      const conn = await pool.connect()
      try {
        await conn.query('BEGIN')
        const result = await fn(wrap(conn))
        await conn.query('COMMIT')
        return result
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        conn.release()
      }
    },
    close: async () => pool.end(),
  }
}
