/**
 * Values the service keeps for itself. `setOnce` is first-writer-wins across replicas.
 */
import type { Database } from './db.js'

export interface SettingsStore {
  get(key: string): Promise<string | undefined>
  /** Stores value unless key exists; returns the stored value and whether this call wrote it. */
  setOnce(key: string, value: string): Promise<{ value: string, created: boolean }>
}

export function createSettingsStore (db: Database): SettingsStore {
  const get = async (key: string): Promise<string | undefined> =>
    (await db.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]))[0]?.value
  return {
    get,
    async setOnce (key, value) {
      const inserted = await db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key', [key, value])
      if (inserted.length > 0) return { value, created: true }
      return { value: (await get(key)) as string, created: false }
    },
  }
}
