/**
 * Opens the store (embedded SQLite or PostgreSQL, per the configuration), applies migrations, and
 * decorates it as `fastify.store`. A store passed in by the caller (tests) is used as given and
 * left open for the caller to close; one this plugin opened is closed in onClose, after Fastify
 * has finished the in-flight requests, so every accepted notification is committed first.
 */
import fp from 'fastify-plugin'
import type { Clock } from '../src/clock.js'
import { openStore, type Store, type StoreLocation } from '../src/store/index.js'
import type { NotificationStoreOptions } from '../src/store/notifications.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export interface StorePluginOptions {
  readonly location: StoreLocation
  readonly store?: Store
  readonly clock?: Clock
  readonly notifications?: NotificationStoreOptions
}

export default fp<StorePluginOptions>(async function storePlugin (fastify, options) {
  const owned = options.store === undefined
  const store = options.store ?? await openStore(options.location, { clock: options.clock, notifications: options.notifications })
  fastify.decorate('store', store)
  if (store.migrations.newer.length > 0) {
    fastify.log.warn({ newer: store.migrations.newer }, 'the store has schema migrations from a newer dt-remediator; they are additive, so this version runs on it')
  }
  fastify.addHook('onClose', async () => {
    if (owned) await store.close()
    else await store.notifications.drain()
  })
}, { name: 'store', fastify: '5.x' })
