/**
 * What only the embedded engine has: its durability settings (and the fsyncs they cause), the
 * owner lock, and the checks on DTR_DATA_DIR before anything is opened.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { sql } from 'kysely'
import { inUseMessage, readOwner } from '../../src/store/engine/owner-lock.js'
import { DATABASE_FILE, legacyStoreMessage, openSqlite } from '../../src/store/engine/sqlite.js'
import { freshDataDir } from '../helpers/store.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

for (const thread of ['worker', 'main'] as const) {
  t.test(`the store connection (${thread} thread) runs in WAL mode with synchronous=FULL`, async (t) => {
    const engine = await openSqlite(freshDataDir(t), { thread })
    t.teardown(() => engine.close())
    const pragma = async (name: string): Promise<unknown> => Object.values((await sql.raw(`PRAGMA ${name}`).execute(engine.db)).rows[0] as object)[0]
    t.equal(await pragma('journal_mode'), 'wal')
    t.equal(await pragma('synchronous'), 2, 'FULL (2): the WAL is fsync\'d at every commit')
    t.equal(await pragma('busy_timeout'), 5000)
    t.equal(await pragma('page_size'), 8192)
    t.equal(await pragma('foreign_keys'), 1)
  })
}

const strace = spawnSync('strace', ['-f', '-o', '/dev/null', 'true']).status === 0

t.test('a burst is committed with real fsyncs, one transaction per batch', { skip: strace ? false : 'strace is not available here' }, async (t) => {
  const dataDir = freshDataDir(t)
  const trace = join(dataDir, '..', `${dataDir.split('/').at(-1) ?? 'x'}.strace`)
  t.teardown(() => rmSync(trace, { force: true }))
  const run = spawnSync('strace', ['-f', '-y', '-e', 'trace=fsync,fdatasync', '-o', trace,
    process.execPath, ...process.execArgv, 'test/fixtures/store/burst.ts', dataDir, '500'], { cwd: root, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  const { commits, stored } = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { commits: number, stored: number }
  t.equal(stored, 500)
  // Only the syncs of the store's own files count (the TypeScript loader writes elsewhere).
  const syncs = readFileSync(trace, 'utf8').split('\n').filter((l) => /\b(fsync|fdatasync)\(/.test(l) && l.includes(join(dataDir, DATABASE_FILE)))
  const walSyncs = syncs.filter((l) => l.includes(`${DATABASE_FILE}-wal`)).length
  t.ok(commits >= 1 && commits <= 50, `group commit: 500 notifications in ${commits} transactions`)
  t.ok(walSyncs >= commits, `every commit fsync'd the WAL: ${walSyncs} WAL syncs for ${commits} commits (${syncs.length} syncs of the store in all)`)
})

t.test('one owner per data directory', async (t) => {
  const dataDir = freshDataDir(t)
  const first = await openSqlite(dataDir)
  const owner = readOwner(dataDir)
  t.match(owner, { host: hostname(), pid: process.pid, startedAt: /^\d{4}-\d\d-\d\dT/ }, 'the owner is written beside the lock')
  await t.rejects(openSqlite(dataDir), { code: 'DTR_ERR_STORE', message: inUseMessage(dataDir, owner) }, 'a second open is refused, naming DTR_DATA_DIR and the owner')
  t.match(inUseMessage(dataDir, owner), /^DTR_DATA_DIR \S+ is in use by another dt-remediator \(host \S+, pid \d+, started \S+\); an embedded store serves one process at a time \(set DTR_DATABASE_URL to run several replicas\)$/)
  t.match(inUseMessage(dataDir, undefined), /in use by another process \(its owner\.json is missing or unreadable\)/)
  await first.close()
  const second = await openSqlite(dataDir)
  t.ok(second, 'once the owner closed, the next one opens')
  await second.close()
})

t.test('a data directory of the 0.1 PGlite store is refused with what to do, and left as it was', async (t) => {
  const dataDir = freshDataDir(t)
  mkdirSync(join(dataDir, 'pgdata'))
  writeFileSync(join(dataDir, 'pgdata', 'PG_VERSION'), '17\n')
  writeFileSync(join(dataDir, 'dt-remediator.lock'), '1234')
  const error = await openSqlite(dataDir).then(() => undefined, (err: Error) => err)
  t.match(error, { code: 'DTR_ERR_STORE', message: legacyStoreMessage(dataDir, ['pgdata', 'dt-remediator.lock']) })
  t.match(error?.message, /^DTR_DATA_DIR \S+ holds the PGlite store of dt-remediator 0\.1 \(pgdata, dt-remediator\.lock\), which this version does not read: .*move it aside/)
  t.notMatch(error?.message, /\n/)
  t.notOk(existsSync(join(dataDir, DATABASE_FILE)), 'no SQLite store was created beside it')
})

t.test('a data directory that cannot be written stops the open with one line naming DTR_DATA_DIR', async (t) => {
  const parent = freshDataDir(t)
  writeFileSync(join(parent, 'a-file'), '')
  // Under a regular file: no directory can be made there, not even by root (who ignores permission bits).
  await t.rejects(openSqlite(join(parent, 'a-file', 'data')), { code: 'DTR_ERR_STORE', message: /^DTR_DATA_DIR \S+\/a-file\/data is not a writable directory \(ENOTDIR\); the embedded store needs one$/ })
})

t.test('a damaged database file fails the open, names the file, and releases the lock', async (t) => {
  const dataDir = freshDataDir(t)
  writeFileSync(join(dataDir, DATABASE_FILE), 'this is not a database, just text that is long enough to have a header: '.repeat(20))
  await t.rejects(openSqlite(dataDir), { code: 'DTR_ERR_STORE', message: /^Cannot open the embedded store \S+dt-remediator\.db \(DTR_DATA_DIR\): file is not a database$/ })
  writeFileSync(join(dataDir, DATABASE_FILE), '')
  const engine = await openSqlite(dataDir)
  await engine.close()
})
