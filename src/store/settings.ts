/**
 * Values the service keeps for itself. `setOnce` is first-writer-wins across replicas.
 */
import type { StoreContext } from './context.js'

export interface SettingsStore {
  get(key: string): Promise<string | undefined>
  /** Stores value unless key exists; returns the stored value and whether this call wrote it. */
  setOnce(key: string, value: string): Promise<{ value: string, created: boolean }>
  /** Stores value under key, replacing what was there. */
  put(key: string, value: string): Promise<void>
}

export function createSettingsStore ({ db, clock }: StoreContext): SettingsStore {
  const get = async (key: string): Promise<string | undefined> =>
    (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value
  return {
    get,
    async setOnce (key, value) {
      const inserted = await db.insertInto('settings').values({ key, value, created_at: clock.now() })
        .onConflict((oc) => oc.column('key').doNothing()).returning('key').execute()
      if (inserted.length > 0) return { value, created: true }
      return { value: (await get(key)) as string, created: false }
    },
    async put (key, value) {
      await db.insertInto('settings').values({ key, value, created_at: clock.now() })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: (eb) => eb.ref('excluded.value') })).execute()
    },
  }
}
