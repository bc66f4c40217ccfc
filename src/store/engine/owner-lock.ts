/**
 * One owner per embedded store, held by an operating-system lock that dies with the process.
 * Node has no flock, so the lock is SQLite's own: an exclusive transaction held open on a small
 * lock database beside the store (`owner.lock`, rollback-journal mode, where EXCLUSIVE keeps
 * every other connection out). The kernel drops the lock when the process ends, however it ends
 * (SIGKILL, OOM kill, node crash), so a dead owner never blocks the next start, and the lock is
 * on the file, not on a pid, so it holds across PID namespaces (containers) too.
 *
 * Who holds it is written beside it (`owner.json`: host, pid, start time), because a process
 * refused the lock cannot read a database locked EXCLUSIVE. The store itself is not locked
 * against readers: `dt-remediator backup` copies it while the owner runs.
 */
import { hostname } from 'node:os'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { DtrError } from '../../errors.js'

export const LOCK_FILE = 'owner.lock'
export const OWNER_FILE = 'owner.json'

export interface Owner {
  readonly host: string
  readonly pid: number
  readonly startedAt: string
}

/** Pure: the line a second process is refused with. */
export function inUseMessage (dataDir: string, owner: Owner | undefined): string {
  const who = owner === undefined
    ? `another process (its ${OWNER_FILE} is missing or unreadable)`
    : `another dt-remediator (host ${owner.host}, pid ${owner.pid}, started ${owner.startedAt})`
  return `DTR_DATA_DIR ${dataDir} is in use by ${who}; an embedded store serves one process at a time (set DTR_DATABASE_URL to run several replicas)`
}

export function readOwner (dataDir: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(dataDir, OWNER_FILE), 'utf8')) as Partial<Owner>
    if (typeof owner.host === 'string' && typeof owner.pid === 'number' && typeof owner.startedAt === 'string') return owner as Owner
  } catch {
    // missing or half-written: said so in the message
  }
  return undefined
}

const isBusy = (err: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code))

/** Takes the lock or throws the one-line refusal; the returned function releases it. */
export function acquireOwnerLock (dataDir: string): () => void {
  const lock = new Database(join(dataDir, LOCK_FILE), { timeout: 0 })
  try {
    lock.pragma('journal_mode = DELETE')
    lock.exec('CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY)')
    lock.exec('BEGIN EXCLUSIVE')
  } catch (err) {
    lock.close()
    if (isBusy(err)) throw new DtrError('DTR_ERR_STORE', inUseMessage(dataDir, readOwner(dataDir)))
    throw err
  }
  try {
    const owner: Owner = { host: hostname(), pid: process.pid, startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString() }
    const temporary = join(dataDir, `${OWNER_FILE}.${process.pid}.tmp`)
    writeFileSync(temporary, `${JSON.stringify(owner)}\n`)
    renameSync(temporary, join(dataDir, OWNER_FILE))
  } catch (err) {
    lock.close()
    throw err
  }
  return () => {
    // Closing the connection ends the transaction and with it the lock.
    lock.close()
  }
}
