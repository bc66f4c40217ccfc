/**
 * Named leases shared by every replica: the lock of a target (never two runs on one workload at
 * once), the reconciler's turn (one replica reconciles per interval). A lease is held until
 * released or until it runs out, so a holder that died frees it by itself.
 */
import type { StoreContext } from './context.js'

export interface LeaseStore {
  /** Takes the lease if it is free, expired, or already `holder`'s (then extends it); true when held. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>
  /** Frees it if `holder` holds it. */
  release(name: string, holder: string): Promise<void>
  /** The current holder, if the lease is held and not expired. */
  holder(name: string): Promise<string | undefined>
}

export function createLeaseStore ({ db, clock }: StoreContext): LeaseStore {
  return {
    async acquire (name, holder, ttlMs) {
      const now = clock.now()
      const rows = await db.insertInto('leases').values({ name, holder, until: now + ttlMs, acquired_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ holder, until: now + ttlMs, acquired_at: now })
          .where((eb) => eb.or([eb('leases.until', '<', now), eb('leases.holder', '=', holder)])))
        .returning('holder').execute()
      return rows.length > 0
    },
    async release (name, holder) {
      await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute()
    },
    async holder (name) {
      const row = await db.selectFrom('leases').select(['holder', 'until']).where('name', '=', name).executeTakeFirst()
      return row === undefined || Number(row.until) < clock.now() ? undefined : row.holder
    },
  }
}
