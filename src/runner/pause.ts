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

export async function writePause (store: Pick<Store, 'settings'>, state: PauseState): Promise<PauseState> {
  const value: PauseState = state.paused ? state : { paused: false }
  await store.settings.put(PAUSE_SETTING, JSON.stringify(value))
  return value
}
