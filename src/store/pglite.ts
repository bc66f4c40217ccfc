/**
 * The embedded engine: PGlite (PostgreSQL compiled to WASM) in DTR_DATA_DIR, so `npm start` needs
 * no database server. PGlite serialises every query through one connection, and two processes
 * on one data directory would corrupt it, so the directory is guarded by a lock file holding the
 * owner's pid: a live owner refuses the second process with a clear message, a dead one (crash,
 * SIGKILL) is taken over — PGlite replays its WAL on open, as PostgreSQL does after a crash.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { DtrError } from '../errors.js'
import type { Database, Queryable } from './db.js'

const LOCK_FILE = 'dt-remediator.lock'

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function acquireLock (dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE)
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const owner = Number.parseInt(readFileSync(path, 'utf8'), 10)
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      throw new DtrError('DTR_ERR_STORE', `The data directory ${dataDir} is in use by process ${owner}; an embedded store serves one process (set DTR_DATABASE_URL to run several replicas)`)
    }
    writeFileSync(path, String(process.pid))
  }
  return () => rmSync(path, { force: true })
}

function wrap (q: PGlite | Transaction): Queryable {
  return {
    async query<Row> (sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      return (await q.query<Row>(sql, params as unknown[])).rows
    },
    async exec (sql: string): Promise<void> {
      await q.exec(sql)
    },
  }
}

export async function openPglite (dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true })
  const release = acquireLock(dataDir)
  let pg: PGlite
  try {
    pg = await PGlite.create(join(dataDir, 'pgdata'))
  } catch (err) {
    release()
    throw new DtrError('DTR_ERR_STORE', `Cannot open the embedded store in ${dataDir}: ${(err as Error).message}`, { cause: err })
  }
  const base = wrap(pg)
  return {
    engine: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: async (fn) => pg.transaction(async (tx) => fn(wrap(tx))),
    async close () {
      try {
        await pg.close()
      } finally {
        release()
      }
    },
  }
}
