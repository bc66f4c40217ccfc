import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import t from 'tap'
import { systemClock } from '../../src/clock.js'
import { migrate, tooNewMessage } from '../../src/store/migrate.js'
import { MIGRATIONS } from '../../src/store/migrations/index.js'
import { createStore } from '../../src/store/index.js'
import { eachEngine, postgresEngine } from '../helpers/store.js'

const latest = Math.max(...MIGRATIONS.map((m) => m.version))

t.test('the migration list is every file under migrations/, in order, numbered as named', async (t) => {
  const dir = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url))
  const files = readdirSync(dir).filter((f) => /^\d{3}_.+\.ts$/.test(f)).map((f) => f.replace(/\.ts$/, '')).sort()
  t.same(MIGRATIONS.map((m) => m.name), files, 'every file is listed, none twice')
  for (const m of MIGRATIONS) t.equal(m.version, Number.parseInt(m.name, 10), `${m.name} has version ${m.version}`)
  t.same(MIGRATIONS.map((m) => m.version), [...MIGRATIONS.map((m) => m.version)].sort((a, b) => a - b), 'ascending')
})

t.test('migrations', async (t) => {
  eachEngine(t, async (t, engine) => {
    t.test('apply once; a second start applies nothing', async (t) => {
      const opened = await engine.open(t)
      t.same(await migrate(opened, systemClock), { applied: MIGRATIONS.map((m) => m.version), newer: [] })
      t.same(await migrate(opened, systemClock), { applied: [], newer: [] })
      const rows = await opened.db.selectFrom('schema_migrations').select(['version', 'name']).execute()
      t.same(rows.map((r) => [Number(r.version), r.name]), MIGRATIONS.map((m) => [m.version, m.name]))
    })

    t.test('no two indexes of the schema index the same thing (each costs a write per row and its disk)', async (t) => {
      const opened = await engine.open(t)
      await migrate(opened, systemClock)
      // Each index as its definition without its name: two equal definitions are one index kept twice.
      const definitions = engine.name === 'sqlite'
        ? (await sql<{ tbl: string, idx: string, uniq: number, cols: string, ddl: string | null }>`
            SELECT m.name AS tbl, il.name AS idx, il."unique" AS uniq,
              (SELECT group_concat(name, ',') FROM (SELECT ii.name FROM pragma_index_info(il.name) AS ii ORDER BY ii.seqno)) AS cols,
              (SELECT s.sql FROM sqlite_schema AS s WHERE s.type = 'index' AND s.name = il.name) AS ddl
            FROM sqlite_schema AS m, pragma_index_list(m.name) AS il WHERE m.type = 'table'`.execute(opened.db)).rows
            // A partial index's WHERE is part of what it indexes (it is in its CREATE statement only).
            .map((r) => ({ name: r.idx, definition: `${r.uniq === 1 ? 'unique ' : ''}${r.tbl}(${r.cols})${(/ where .*$/is.exec(r.ddl ?? '')?.[0] ?? '').toLowerCase()}` }))
        : (await sql<{ indexname: string, indexdef: string }>`
            SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()`.execute(opened.db)).rows
            .map((r) => ({ name: r.indexname, definition: r.indexdef.replace(/INDEX \S+ ON/, 'INDEX ON') }))
      t.ok(definitions.some((d) => d.name === 'runs_started_idx'), 'runs.started_at keeps its index')
      t.notOk(definitions.some((d) => d.name === 'runs_started_at'), "005's second index on runs.started_at is gone")
      const seen = new Map<string, string>()
      for (const d of definitions) {
        t.notOk(seen.has(d.definition), `${d.name} is not ${seen.get(d.definition) ?? 'another index'} again (${d.definition})`)
        seen.set(d.definition, d.name)
      }
    })

    t.test('a schema a newer release extended additively is used, and reported', async (t) => {
      const opened = await engine.open(t)
      await migrate(opened, systemClock)
      await opened.db.insertInto('schema_migrations').values({ version: latest + 1, name: `${latest + 1}_future_table`, min_code_version: 0, applied_at: 0 }).execute()
      const store = await createStore(opened)
      t.teardown(() => store.close())
      t.same(store.migrations, { applied: [], newer: [latest + 1] })
    })

    t.test('a schema a newer release changed incompatibly refuses start-up in one line', async (t) => {
      const location = await engine.location(t)
      const opened = await engine.open(t, location)
      await migrate(opened, systemClock)
      await opened.db.insertInto('schema_migrations').values({ version: latest + 2, name: `${latest + 2}_drop_old_column`, min_code_version: latest + 1, applied_at: 0 }).execute()
      const error = await createStore(opened).then(() => undefined, (err: Error) => err)
      t.match(error, { code: 'DTR_ERR_STORE', message: tooNewMessage(opened.description, { version: latest + 2, name: `${latest + 2}_drop_old_column` }, latest + 1, latest) })
      t.notMatch(error?.message, /\n/, 'one line')
      t.match(error?.message, engine.name === 'sqlite' ? /DTR_DATA_DIR/ : /PostgreSQL/, 'naming where the store is')
      // createStore closed the engine: the location is free for the next process.
      const again = await engine.open(t, location)
      t.ok(again)
    })
  })
})

t.test('migrations from several instances starting at once apply each version exactly once', { skip: postgresEngine.skip }, async (t) => {
  const location = await postgresEngine.location(t)
  const instances = await Promise.all(Array.from({ length: 4 }, async () => postgresEngine.open(t, location)))
  const results = await Promise.all(instances.map(async (db) => migrate(db, systemClock)))
  t.same(results.flatMap((r) => r.applied).sort(), MIGRATIONS.map((m) => m.version), 'each version applied by exactly one instance')
})
