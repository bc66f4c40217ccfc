/**
 * Actions keyed by name. The runner, `check-config`, `simulate` and the contract test all look
 * actions up here; nothing switches over action-name strings. Built-in and custom actions come in
 * through the same door, and the same contract check.
 */
import { DtrError } from '../errors.js'
import type { AnyAction } from './contract.js'
import { assertAction } from './define.js'

export interface ActionRegistry {
  get(name: string): AnyAction | undefined
  names(): string[]
  all(): AnyAction[]
}

export interface RegisteredAction {
  readonly action: unknown
  /** Where it came from (a module path or package name), for the error message. */
  readonly source?: string
}

export function createActionRegistry (actions: Iterable<AnyAction | RegisteredAction>): ActionRegistry {
  const byName = new Map<string, AnyAction>()
  for (const entry of actions) {
    const { action, source } = 'run' in entry ? { action: entry, source: undefined } : entry
    assertAction(action, source)
    if (byName.has(action.name)) throw new DtrError('DTR_ERR_ACTION_CONTRACT', `Action ${action.name}${source === undefined ? '' : ` (from ${source})`} is registered twice`)
    byName.set(action.name, action)
  }
  return {
    get: (name) => byName.get(name),
    names: () => [...byName.keys()].sort(),
    all: () => [...byName.values()],
  }
}
