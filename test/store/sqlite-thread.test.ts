/**
 * The writer thread's driver: what a transaction sends (its BEGIN rides with the first
 * statement, an empty one sends nothing), that a statement behind a transaction SQLite rolled
 * back never runs outside it, that one failure fails only its own caller, that statements keep
 * their order, that a script is one round trip and all or nothing, and that a thread that dies
 * fails every caller still waiting.
 */
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { Kysely, sql, type Generated } from 'kysely'
import { runScript, SqliteThreadDialect } from '../../src/store/engine/sqlite-thread.js'
import { freshDataDir } from '../helpers/store.js'

interface Db { items: { id: Generated<number>, name: string }, refs: { id: Generated<number>, item: string } }

async function open (t: Test, limits?: import('node:worker_threads').ResourceLimits): Promise<{ db: Kysely<Db>, dialect: SqliteThreadDialect }> {
  const dialect = new SqliteThreadDialect({ path: join(freshDataDir(t), 'test.db'), pragmas: ['journal_mode = WAL', 'foreign_keys = ON'], busyTimeoutMs: 1000, ...(limits === undefined ? {} : { resourceLimits: limits }) })
  const db = new Kysely<Db>({ dialect })
  t.teardown(async () => db.destroy())
  await sql`create table items (id integer primary key, name text not null unique)`.execute(db)
  return { db, dialect }
}

const names = async (db: Kysely<Db>): Promise<string[]> => (await db.selectFrom('items').select('name').orderBy('id').execute()).map((r) => r.name)

t.test('a transaction costs one round trip per statement and one for its commit; an empty one costs none', async (t) => {
  const { db, dialect } = await open(t)
  let before = dialect.roundTrips()
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('items').values({ name: 'a' }).execute()
    await trx.insertInto('items').values({ name: 'b' }).execute()
  })
  t.equal(dialect.roundTrips() - before, 3, 'BEGIN went with the first statement')
  before = dialect.roundTrips()
  t.equal(await db.transaction().execute(async () => 'nothing'), 'nothing')
  await t.rejects(db.transaction().execute(async () => { throw new Error('before any statement') }), /before any statement/)
  t.equal(dialect.roundTrips() - before, 0, 'nothing was sent for transactions that ran no statement')
  t.same(await names(db), ['a', 'b'])
})

t.test('a rolled-back transaction leaves nothing, and the next one works', async (t) => {
  const { db } = await open(t)
  await t.rejects(db.transaction().execute(async (trx) => {
    await trx.insertInto('items').values({ name: 'gone' }).execute()
    throw new Error('changed my mind')
  }), /changed my mind/)
  await db.transaction().execute(async (trx) => { await trx.insertInto('items').values({ name: 'kept' }).execute() })
  t.same(await names(db), ['kept'])
})

t.test('a statement behind one that made SQLite roll the transaction back fails instead of committing on its own', async (t) => {
  const { db } = await open(t)
  // RAISE(ROLLBACK) ends the whole transaction, as a full disk or an I/O error may.
  await sql`create trigger refuse before insert on items when new.name = 'poison' begin select raise(rollback, 'poison refused'); end`.execute(db)
  const after = await db.transaction().execute(async (trx) => {
    await trx.insertInto('items').values({ name: 'first' }).execute()
    await t.rejects(trx.insertInto('items').values({ name: 'poison' }).execute(), /poison refused/)
    // The caller carries on regardless: this statement must not run outside the transaction.
    return trx.insertInto('items').values({ name: 'orphan' }).execute().then(() => 'ran', (err: Error & { code?: string }) => err)
  }).catch((err: Error) => err)
  t.match(after, { message: /no longer open/, code: 'SQLITE_ABORT' })
  t.same(await names(db), [], 'neither the first statement nor the orphan was stored')
  await db.transaction().execute(async (trx) => { await trx.insertInto('items').values({ name: 'next' }).execute() })
  t.same(await names(db), ['next'], 'the next transaction opens as usual')
})

t.test('a failing statement fails only its own caller and transaction', async (t) => {
  const { db } = await open(t)
  await db.insertInto('items').values({ name: 'taken' }).execute()
  const results = await Promise.allSettled([
    db.transaction().execute(async (trx) => { await trx.insertInto('items').values({ name: 'one' }).execute() }),
    db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'two' }).execute()
      await trx.insertInto('items').values({ name: 'taken' }).execute()
    }),
    db.insertInto('items').values({ name: 'taken' }).execute(),
    db.transaction().execute(async (trx) => { await trx.insertInto('items').values({ name: 'three' }).execute() }),
    db.insertInto('items').values({ name: 'four' }).execute(),
  ])
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled'])
  t.match((results[1] as PromiseRejectedResult).reason, { code: 'SQLITE_CONSTRAINT_UNIQUE' })
  t.same(await names(db), ['taken', 'one', 'three', 'four'], 'the failed transaction left nothing; the others are stored, in order')
})

t.test('statements run in the order they were made', async (t) => {
  const { db } = await open(t)
  const all = Array.from({ length: 60 }, (_, i) => `n${i}`)
  await Promise.all(all.map(async (name, i) => i % 3 === 0
    ? db.insertInto('items').values({ name }).execute()
    : i % 3 === 1
      ? db.transaction().execute(async (trx) => trx.insertInto('items').values({ name }).execute())
      : runScript(db, [db.insertInto('items').values({ name }).compile()])))
  t.same(await names(db), all)
})

t.test('a script is one round trip and one transaction, and answers each statement in order', async (t) => {
  const { db, dialect } = await open(t)
  const before = dialect.roundTrips()
  const results = await runScript(db, [
    db.insertInto('items').values({ name: 'a' }).compile(),
    db.insertInto('items').values([{ name: 'b' }, { name: 'c' }]).compile(),
    db.selectFrom('items').select('name').orderBy('id').compile(),
  ])
  t.equal(dialect.roundTrips() - before, 1, 'BEGIN, three statements and COMMIT in one message')
  t.match(results, [{ rows: [], numAffectedRows: 1n }, { rows: [], numAffectedRows: 2n }, { rows: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }])
  t.same(await runScript(db, []), [], 'an empty script commits nothing and answers nothing')
})

t.test('a script that fails anywhere, COMMIT included, leaves nothing and fails its caller with SQLite\'s error', async (t) => {
  const { db } = await open(t)
  await db.insertInto('items').values({ name: 'taken' }).execute()
  await sql`create trigger refuse before insert on items when new.name = 'poison' begin select raise(rollback, 'poison refused'); end`.execute(db)
  // Checked only at COMMIT: the statement succeeds and the COMMIT fails, leaving the transaction open.
  await sql`create table refs (id integer primary key, item text not null references items(name) deferrable initially deferred)`.execute(db)
  const failures = {
    'a statement (the transaction stays open)': [db.insertInto('items').values({ name: 'one' }).compile(), db.insertInto('items').values({ name: 'taken' }).compile()],
    'a statement SQLite rolled the transaction back for': [db.insertInto('items').values({ name: 'two' }).compile(), db.insertInto('items').values({ name: 'poison' }).compile(), db.insertInto('items').values({ name: 'three' }).compile()],
    'the COMMIT': [db.insertInto('items').values({ name: 'four' }).compile(), db.insertInto('refs').values({ item: 'nowhere' }).compile()],
  }
  const codes = { 'a statement (the transaction stays open)': 'SQLITE_CONSTRAINT_UNIQUE', 'a statement SQLite rolled the transaction back for': 'SQLITE_CONSTRAINT_TRIGGER', 'the COMMIT': 'SQLITE_CONSTRAINT_FOREIGNKEY' } as const
  for (const [where, statements] of Object.entries(failures)) {
    await t.rejects(runScript(db, statements), { code: codes[where as keyof typeof codes] }, `failing at ${where}`)
    t.same(await names(db), ['taken'], `failing at ${where}: nothing of it was stored`)
    t.same(await db.selectFrom('refs').selectAll().execute(), [])
    // The next transaction and the next script open as usual: nothing was left open.
    await db.transaction().execute(async (trx) => { await trx.insertInto('items').values({ name: `after ${where}` }).execute() })
    await runScript(db, [db.deleteFrom('items').where('name', '=', `after ${where}`).compile()])
  }
  await t.rejects(db.transaction().execute(async (trx) => runScript(trx, [db.insertInto('items').values({ name: 'inside' }).compile()])), /a transaction of its own/, 'refused inside a transaction')
  t.same(await names(db), ['taken'])
})

t.test('a writer thread that dies fails every caller still waiting, and every later one', async (t) => {
  const { db, dialect } = await open(t, { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 })
  await db.insertInto('items').values({ name: 'before' }).execute()
  const hugeRead = sql`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT x, hex(randomblob(64)) AS h FROM c`
  const waiting = await Promise.allSettled([
    hugeRead.execute(db),
    db.selectFrom('items').selectAll().execute(),
    db.transaction().execute(async (trx) => trx.insertInto('items').values({ name: 'during' }).execute()),
    db.insertInto('items').values({ name: 'queued' }).execute(),
  ])
  for (const [i, r] of waiting.entries()) t.match(r, { status: 'rejected', reason: { code: 'DTR_ERR_STORE' } }, `caller ${i} failed`)
  for (let i = 0; i < 10_000 && dialect.broken() === undefined; i++) await new Promise((resolve) => setImmediate(resolve))
  t.match(dialect.broken(), /ERR_WORKER_OUT_OF_MEMORY/, 'the store reports itself broken')
  await t.rejects(db.selectFrom('items').selectAll().execute(), { code: 'DTR_ERR_STORE' }, 'a later caller fails at once')
})
