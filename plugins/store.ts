/**
 * Opens the store (embedded PGlite or PostgreSQL, per the configuration), applies migrations, and
 * decorates it as `fastify.store`. A store passed in by the caller (tests) is used as given and
 * left open for the caller to close; one this plugin opened is closed in onClose, after Fastify
 * has finished the in-flight requests, so every accepted notification is committed first.
 */
import fp from 'fastify-plugin'
import { createStore, openDatabase, type Store, type StoreLocation } from '../src/store/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export interface StorePluginOptions {
  readonly location: StoreLocation
  readonly store?: Store
}

export default fp<StorePluginOptions>(async function storePlugin (fastify, options) {
  const owned = options.store === undefined
  const store = options.store ?? await createStore(await openDatabase(options.location))
  fastify.decorate('store', store)
  fastify.addHook('onClose', async () => {
    if (owned) await store.close()
    else await store.notifications.drain()
  })
}, { name: 'store', fastify: '5.x' })
