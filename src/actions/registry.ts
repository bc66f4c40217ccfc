/**
 * Actions keyed by name. The runner, `check-config` and the contract test all look actions up
 * here; nothing switches over action-name strings.
 */
import { DtrError } from '../errors.js'
import { contractProblems, type AnyAction } from './contract.js'

export interface ActionRegistry {
  get(name: string): AnyAction | undefined
  names(): string[]
  all(): AnyAction[]
}

export function createActionRegistry (actions: Iterable<AnyAction>): ActionRegistry {
  const byName = new Map<string, AnyAction>()
  for (const action of actions) {
    const problems = contractProblems(action)
    if (problems.length > 0) throw new DtrError('DTR_ERR_ACTION_CONTRACT', `Action ${String((action as { name?: unknown }).name)} does not satisfy the action contract: ${problems.join('; ')}`)
    if (byName.has(action.name)) throw new DtrError('DTR_ERR_ACTION_CONTRACT', `Action ${action.name} is registered twice`)
    byName.set(action.name, action)
  }
  return {
    get: (name) => byName.get(name),
    names: () => [...byName.keys()].sort(),
    all: () => [...byName.values()],
  }
}
