/**
 * Deterministic interleavings for the store: a wrapper that pauses one side at the exact point
 * between its read and its write — just before a run transition (the conditional update) — while
 * the other side commits, then lets the paused side write. No sleep widens a window: the other
 * side has committed, by construction, before the write runs.
 *
 * On PostgreSQL the other side gets the real store: its transactions take other connections and
 * commit while the paused one waits, as a second replica's would (READ COMMITTED: the paused
 * update then sees the committed row). SQLite runs one write transaction at a time, so nothing
 * can commit between a transaction's read and its write except inside that transaction: there
 * the other side gets a store whose transactions run in the paused one. Either way the paused
 * write finds the row moved on, which is what the code under test must handle.
 */
import type { RunState } from '../../src/domain/runs.js'
import type { Store, TransactionStores } from '../../src/store/index.js'
import type { RunStore } from '../../src/store/runs.js'

export interface TransitionCall { readonly id: string, readonly from: readonly RunState[], readonly to: RunState }

export interface Interleaving {
  /** The store to give the side that is paused (an app, a handler). */
  readonly store: Store
  /** Resolves once the other side has run and committed, just before the paused write. */
  readonly fired: Promise<TransitionCall>
}

/** A store whose statements run in `tx`: on SQLite, the only way to commit "between" tx's read and write. */
function insideTransaction (store: Store, tx: TransactionStores): Store {
  return {
    ...store,
    jobs: tx.jobs,
    settings: tx.settings,
    problems: tx.problems,
    runs: tx.runs,
    outbox: tx.outbox,
    leases: tx.leases,
    transaction: async <T>(fn: (t: TransactionStores) => Promise<T>): Promise<T> => fn(tx),
  }
}

/**
 * The first run transition `match` accepts waits while `other` runs (and commits) with a store of
 * its own, then goes on. Fires once; every other transition passes through untouched.
 */
export function pauseBeforeTransition (store: Store, match: (call: TransitionCall) => boolean, other: (store: Store, call: TransitionCall) => Promise<void>): Interleaving {
  let armed = true
  let fire: (call: TransitionCall) => void = () => {}
  const fired = new Promise<TransitionCall>((resolve) => { fire = resolve })
  const wrap = (runs: RunStore, otherStore: () => Store): RunStore => ({
    ...runs,
    async transition (id, from, to, note, change) {
      const call = { id, from, to }
      if (armed && match(call)) {
        armed = false
        await other(otherStore(), call)
        fire(call)
      }
      return runs.transition(id, from, to, note, change)
    },
  })
  const wrapped: Store = {
    ...store,
    runs: wrap(store.runs, () => store),
    transaction: async <T>(fn: (tx: TransactionStores) => Promise<T>): Promise<T> =>
      store.transaction(async (tx) => fn({ ...tx, runs: wrap(tx.runs, () => (store.engine === 'postgres' ? store : insideTransaction(store, tx))) })),
  }
  return { store: wrapped, fired }
}
