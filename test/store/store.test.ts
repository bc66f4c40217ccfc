import t from 'tap'
import { createStore } from '../../src/store/index.js'
import { manualClock } from '../helpers/clock.js'
import { eachEngine, openTestStore } from '../helpers/store.js'

t.test('the store', async (t) => {
  eachEngine(t, async (t, engine) => {
    t.test('a transaction across modules commits together, or not at all', async (t) => {
      const clock = manualClock()
      const store = await openTestStore(t, engine, { clock })
      await store.transaction(async (tx) => {
        await tx.jobs.enqueue('work', 'a', { n: 1 })
        await tx.settings.put('last-work', 'a')
        t.equal(tx.now(), clock.now(), 'the transaction tells the store\'s time')
      })
      t.equal(await store.jobs.pending('work'), 1)
      t.equal(await store.settings.get('last-work'), 'a')

      await t.rejects(store.transaction(async (tx) => {
        await tx.jobs.enqueue('work', 'b', { n: 2 })
        await tx.settings.put('last-work', 'b')
        throw new Error('the second step failed')
      }), /the second step failed/)
      t.equal(await store.jobs.pending('work'), 1, 'the job of the failed transaction is not there')
      t.equal(await store.settings.get('last-work'), 'a', 'nor its setting')

      const raw = await store.transaction(async (tx) => tx.db.selectFrom('jobs').select('key').where('queue', '=', 'work').execute())
      t.same(raw, [{ key: 'a' }], 'tx.db queries inside the transaction')
    })

    t.test('settings: setOnce is first-writer-wins, put replaces', async (t) => {
      const store = await openTestStore(t, engine)
      t.equal(await store.settings.get('k'), undefined)
      t.same(await store.settings.setOnce('k', 'first'), { value: 'first', created: true })
      t.same(await store.settings.setOnce('k', 'second'), { value: 'first', created: false })
      await store.settings.put('k', 'third')
      t.equal(await store.settings.get('k'), 'third')
    })

    t.test('answers ping and health, and close is idempotent', async (t) => {
      const store = await createStore(await engine.open(t))
      t.equal(store.engine, engine.name)
      t.equal(await store.ping(), true)
      t.same(await store.health(), { ready: true, store: 'ok' })
      await store.close()
      await store.close()
      t.equal(await store.ping(), false, 'a closed store does not answer')
      t.same(await store.health(), { ready: false, store: 'unreachable' })
    })
  })
})
