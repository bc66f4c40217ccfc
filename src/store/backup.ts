/**
 * `dt-remediator backup <file>` (SPEC 2): an online copy of the embedded store, safe while the
 * service runs. VACUUM INTO reads one consistent snapshot in a read transaction, which in WAL
 * mode never blocks the writer, and writes a compact copy; it is checked, fsync'd, and only then
 * renamed to `file`, so a half-written copy never carries the name. The owner lock is not taken:
 * the store stays readable by design (engine/owner-lock.ts).
 *
 * Restore: stop the service, put the copy in DTR_DATA_DIR as dt-remediator.db (removing any
 * -wal and -shm beside it), start it.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { DtrError } from '../errors.js'
import { DATABASE_FILE } from './engine/sqlite.js'

export interface BackupResult {
  readonly file: string
  readonly bytes: number
  readonly notifications: number
}

function fsyncPath (path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function backupSqlite (dataDir: string, target: string): BackupResult {
  const dir = resolve(dataDir)
  const source = join(dir, DATABASE_FILE)
  const file = resolve(target)
  if (!existsSync(source)) throw new DtrError('DTR_ERR_STORE', `DTR_DATA_DIR ${dir} holds no embedded store (no ${DATABASE_FILE}); nothing to back up`)
  if (existsSync(file)) throw new DtrError('DTR_ERR_STORE', `${file} exists already; give backup a new file name`)
  const partial = `${file}.partial-${process.pid}`
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5000 })
  try {
    db.prepare('VACUUM INTO ?').run(partial)
    const copy = new Database(partial, { readonly: true })
    let check: unknown
    let notifications: number
    try {
      check = copy.pragma('quick_check', { simple: true })
      notifications = (copy.prepare('SELECT count(*) AS n FROM notifications').get() as { n: number }).n
    } finally {
      copy.close()
    }
    if (check !== 'ok') throw new DtrError('DTR_ERR_STORE', `The copy failed its integrity check (${String(check)}); ${source} may be damaged`)
    fsyncPath(partial)
    renameSync(partial, file)
    fsyncPath(dirname(file))
    return { file, bytes: statSync(file).size, notifications }
  } catch (err) {
    rmSync(partial, { force: true })
    if (err instanceof DtrError) throw err
    throw new DtrError('DTR_ERR_STORE', `Cannot back up ${source} to ${file}: ${(err as Error).message}`, { cause: err })
  } finally {
    db.close()
  }
}
