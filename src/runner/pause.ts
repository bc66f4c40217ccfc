/**
 * The kill switch (SPEC 9 and 11), kept in the store's settings so every replica reads the same
 * one: once paused, no new execution starts anywhere (runs in flight finish); resuming runs
 * nothing retroactively — runs skipped by the pause stay skipped.
 */
import type { Store } from '../store/index.js'

export interface PauseState {
  readonly paused: boolean
  readonly reason?: string
  /** ms epoch. */
  readonly since?: number
  readonly by?: string
}

const PAUSE_SETTING = 'pause'

export async function readPause (store: Pick<Store, 'settings'>): Promise<PauseState> {
  const raw = await store.settings.get(PAUSE_SETTING)
  if (raw === undefined) return { paused: false }
  const value = JSON.parse(raw) as PauseState
  return value.paused ? value : { paused: false }
}

/**
 * Written under the safety gates' lock, which admission holds from its read of the kill switch
 * to its move to running: a pause answered is a pause every admission after it sees (on
 * PostgreSQL another replica's admission would otherwise read "not paused", let the pause commit
 * and be answered, and start its action after).
 */
export async function writePause (store: Pick<Store, 'transaction'>, state: PauseState): Promise<PauseState> {
  const value: PauseState = state.paused ? state : { paused: false }
  await store.transaction(async (tx) => {
    await tx.lockGates()
    await tx.settings.put(PAUSE_SETTING, JSON.stringify(value))
  })
  return value
}
