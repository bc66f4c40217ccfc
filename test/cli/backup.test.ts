/**
 * `dt-remediator backup <file>`, run as its own process beside the store's owner, as an operator
 * runs it next to a live service.
 */
import { copyFileSync, existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { openStore } from '../../src/store/index.js'
import { DATABASE_FILE } from '../../src/store/engine/sqlite.js'
import { runCliProcess, type CliExit } from '../helpers/server-process.js'
import { freshDataDir } from '../helpers/store.js'

async function backup (env: Record<string, string>, ...args: string[]): Promise<CliExit> {
  return runCliProcess(['backup', ...args], env)
}

const record = (i: number) => ({ id: randomUUID(), kind: 'problem' as const, problemId: `b-${i}`, displayId: undefined, state: 'OPEN', dedupeKey: randomUUID(), body: { PID: `b-${i}` } })

t.test('copies the store while its owner keeps writing, and the copy opens as a store', async (t) => {
  const dataDir = freshDataDir(t)
  const owner = await openStore({ dataDir, databaseUrl: undefined })
  t.teardown(() => owner.close())
  await Promise.all(Array.from({ length: 200 }, async (_, i) => owner.notifications.record(record(i))))
  const file = join(freshDataDir(t), 'copy.db')
  // The owner goes on committing while the copy is made.
  const state = { writing: true }
  const writer = (async () => { for (let i = 200; state.writing; i++) await owner.notifications.record(record(i)) })()
  const result = await backup({ DTR_DATA_DIR: dataDir }, file)
  state.writing = false
  await writer
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, new RegExp(`^Backed up DTR_DATA_DIR ${dataDir} to ${file}: \\d+ notifications, \\d+ bytes, in \\d+ ms\\n$`))
  const copied = Number(/: (\d+) notifications/.exec(result.stdout)?.[1])
  t.ok(copied >= 200, `the copy holds the ${copied} notifications committed when it was taken`)
  t.notOk(existsSync(`${file}.partial-${process.pid}`))

  const restored = freshDataDir(t)
  copyFileSync(file, join(restored, DATABASE_FILE))
  const store = await openStore({ dataDir: restored, databaseUrl: undefined })
  t.teardown(() => store.close())
  t.equal(await store.notifications.count(), copied, 'restored as a data directory, it holds them all')
  t.equal(await store.jobs.pending('notification'), copied, 'with their queued work')
})

t.test('refuses in one line to overwrite a file, to copy a store that is not there, and to copy PostgreSQL', async (t) => {
  const dataDir = freshDataDir(t)
  const existing = join(dataDir, 'exists.db')
  writeFileSync(existing, '')
  t.match(await backup({ DTR_DATA_DIR: dataDir }, existing), { code: 1, stderr: /^dt-remediator backup: DTR_DATA_DIR \S+ holds no embedded store \(no dt-remediator\.db\); nothing to back up\n$/ })
  const owner = await openStore({ dataDir, databaseUrl: undefined })
  await owner.close()
  t.match(await backup({ DTR_DATA_DIR: dataDir }, existing), { code: 1, stderr: /^dt-remediator backup: \S+exists\.db exists already; give backup a new file name\n$/ })
  t.match(await backup({ DTR_DATABASE_URL: 'postgres://db/dtr' }, 'x.db'), { code: 1, stderr: /^dt-remediator backup: DTR_DATABASE_URL is set, so the store is in PostgreSQL: back it up with pg_dump/ })
  t.match(await backup({}), { code: 2, stderr: /error: missing required argument 'file'/ })
})
