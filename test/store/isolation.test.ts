/**
 * A transaction is its own: a statement another caller starts while it is open is not part of it.
 * SQLite has one connection, which Kysely lends to one caller at a time (its SQLite adapter says
 * it supports no more); PostgreSQL has a pool. Without that, a webhook's commit could join a
 * runner transaction and be rolled back with it.
 */
import t from 'tap'
import { eachEngine, openTestStore } from '../helpers/store.js'

eachEngine(t, async (t, engine) => {
  t.test('a write started outside an open transaction survives its rollback', async (t) => {
    const store = await openTestStore(t, engine)
    let outside: Promise<void> | undefined
    await t.rejects(store.transaction(async (tx) => {
      await tx.settings.put('inside', 'x')
      outside = store.settings.put('outside', 'y')
      // Give the outside write every chance to run while the transaction is still open.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
      throw new Error('roll back')
    }), /roll back/)
    await outside
    t.equal(await store.settings.get('outside'), 'y', 'the outside write stands')
    t.equal(await store.settings.get('inside'), undefined, 'the transaction\'s own write was rolled back')
  })
})
