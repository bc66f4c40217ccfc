/**
 * /readyz follows the real commits (issue 19 item 7): on a nearly full disk a small write still
 * fits where a notification does not, so a tiny probe write must not declare the store ready
 * while webhooks get 503 DTR_ERR_STORE. Not ready while commits fail; ready again once a commit
 * of that size succeeds (a real notification, or the probe's write as large as what failed).
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely'
import { sql } from 'kysely'
import t from 'tap'
import { createStore } from '../../src/store/index.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { eachEngine, sqliteEngine } from '../helpers/store.js'

/** Writes carrying more than `maxBytes` of query fail while `full` is set: a disk with a little room left. */
function nearlyFullDisk (maxBytes: number): KyselyPlugin & { full: boolean } {
  return {
    full: false,
    transformQuery (args: PluginTransformQueryArgs): RootOperationNode {
      if (this.full && /^(InsertQueryNode|UpdateQueryNode)$/.test(args.node.kind) && JSON.stringify(args.node).length > maxBytes) {
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
      }
      return args.node
    },
    async transformResult (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> { return args.result },
  }
}

const entities = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'SERVICE', name: `service-${i}`, entity: `SERVICE-${String(i).padStart(16, '0')}` }))
const notification = (pid: string, n: number) => ({ PID: pid, State: 'OPEN', ProblemTitle: 'Failure rate increase', ImpactedEntities: entities(n) })
const post = { method: 'POST' as const, url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' } }

eachEngine(t, async (t, engine) => {
  const opened = await engine.open(t)
  const disk = nearlyFullDisk(4000)
  const store = await createStore({ ...opened, db: opened.db.withPlugin(disk) })
  t.teardown(() => store.close())
  const app = await buildTestApp(t, { store })
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'ready to begin with')

  disk.full = true
  const refused = await app.inject({ ...post, payload: notification('big-1', 60) })
  t.equal(refused.statusCode, 503, 'a notification that does not fit is refused')
  t.equal(refused.json().code, 'DTR_ERR_STORE')
  for (let poll = 0; poll < 2; poll++) {
    const ready = await app.inject({ url: '/readyz' })
    t.equal(ready.statusCode, 503, `not ready while commits fail (poll ${poll + 1}: ${ready.body})`)
    t.same(ready.json(), { status: 'not ready', checks: { store: 'failing', rules: 'loaded' } })
  }

  t.equal((await app.inject({ ...post, payload: notification('small-1', 1) })).statusCode, 202, 'a notification that fits is stored')
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'a real commit that succeeded makes the store ready')

  t.equal((await app.inject({ ...post, payload: notification('big-2', 60) })).statusCode, 503)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503, 'not ready again after the next failed commit')
  disk.full = false
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'room again: the probe commits as much as failed, and the store is ready')
  t.equal((await app.inject({ ...post, payload: notification('big-3', 60) })).statusCode, 202)
})

t.test('sqlite: a real SQLITE_FULL (max_page_count reached) keeps /readyz at 503 until room is made', async (t) => {
  const engine = await sqliteEngine.open(t)
  const store = await createStore(engine)
  t.teardown(() => store.close())
  const app = await buildTestApp(t, { store })
  const pages = Number((await sql<{ page_count: number }>`PRAGMA page_count`.execute(engine.db)).rows[0]?.page_count)
  // The file may not grow: a 400-entity notification (about 40 KB, several 8 KiB pages) does not
  // fit, a few bytes of setting still do in a page that has room.
  await sql.raw(`PRAGMA max_page_count = ${pages}`).execute(engine.db)
  const refused = await app.inject({ ...post, payload: notification('big-1', 400) })
  t.equal(refused.statusCode, 503, `refused by the disk (${refused.body})`)
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 503, `not ready (${ready.body})`)
  await sql.raw('PRAGMA max_page_count = 1073741823').execute(engine.db)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'ready once there is room')
  t.equal((await app.inject({ ...post, payload: notification('big-1', 400) })).statusCode, 202)
})
