/**
 * What every store module is built from: the Kysely instance (or the transaction) it queries,
 * the engine's Dialect, and the Clock it takes "now" from. A module is a factory
 * `createX(ctx: StoreContext)`; the Store builds each once over the engine, and again over a
 * transaction for Store.transaction(), so the same methods work inside and outside one.
 */
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import type { Dialect } from './engine/dialect.js'
import type { Tables } from './schema.js'

export interface StoreContext {
  /** The engine's Kysely instance, or the transaction a Store.transaction() callback runs in. */
  readonly db: Kysely<Tables>
  readonly dialect: Dialect
  readonly clock: Clock
  /**
   * Told the queue of each job a module enqueued (or brought forward), and when it comes due
   * (its run_after), once the job can be claimed: at once for a statement of its own, after the
   * commit for one in a transaction (the Store collects those and tells them when the
   * transaction has committed; a rollback tells nothing).
   */
  readonly enqueued?: (queue: string, at: number) => void
}
