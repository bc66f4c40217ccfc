/**
 * The one validation of the action contract, shared by defineAction (an author's own check, at
 * import time), the registry (built-ins and custom actions, at start-up) and the custom-action
 * loader, so a broken action is refused the same way wherever it comes from.
 */
import { DtrError } from '../errors.js'
import type { ActionDefinition, AnyAction } from './contract.js'
import type { z } from 'zod'

const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/

/** Pure: lists what is wrong with a candidate action; empty when it satisfies the contract. */
export function contractProblems (candidate: unknown): string[] {
  if (typeof candidate !== 'object' || candidate === null) return ['it is not an object']
  const c = candidate as Record<string, unknown>
  const problems: string[] = []
  if (typeof c.name !== 'string' || !NAME.test(c.name)) problems.push('name must be a namespaced lower-case string such as "acme.drain-queue"')
  if (typeof c.description !== 'string' || c.description.trim() === '') problems.push('description must be a non-empty string')
  if (!(c.entityTypes === '*' || (Array.isArray(c.entityTypes) && c.entityTypes.length > 0 && c.entityTypes.every((t) => typeof t === 'string' && /^[A-Z][A-Z0-9_]*$/.test(t))))) {
    problems.push('entityTypes must be "*" or a non-empty array of Dynatrace entity types such as "SERVICE"')
  }
  if (typeof c.params !== 'object' || c.params === null || typeof (c.params as { safeParse?: unknown }).safeParse !== 'function') problems.push('params must be a zod schema')
  if (typeof c.needsTarget !== 'boolean') problems.push('needsTarget must be a boolean')
  if (c.urlParams !== undefined && !(Array.isArray(c.urlParams) && c.urlParams.every((k) => typeof k === 'string'))) problems.push('urlParams must be an array of parameter names when given')
  if (c.plan !== undefined && typeof c.plan !== 'function') problems.push('plan must be a function when given')
  if (typeof c.run !== 'function') problems.push('run must be a function')
  return problems
}

function nameOf (candidate: unknown): string {
  const name = (candidate as { name?: unknown } | null)?.name
  return typeof name === 'string' && name !== '' ? name : '(unnamed)'
}

/** Throws DTR_ERR_ACTION_CONTRACT naming the action (and where it came from) when it is broken. */
export function assertAction (candidate: unknown, source?: string): asserts candidate is AnyAction {
  const problems = contractProblems(candidate)
  if (problems.length > 0) {
    const from = source === undefined ? '' : ` (from ${source})`
    throw new DtrError('DTR_ERR_ACTION_CONTRACT', `Action ${nameOf(candidate)}${from} does not satisfy the action contract: ${problems.join('; ')}`)
  }
}

/**
 * Checks a definition against the contract and returns it frozen. The types follow from the
 * definition: `needsTarget: true` gives `ctx.target: Target`, the plan's type flows to `ctx.plan`.
 */
export function defineAction<Schema extends z.ZodType, Plan = undefined, NeedsTarget extends boolean = boolean> (
  definition: ActionDefinition<Schema, Plan, NeedsTarget>
): ActionDefinition<Schema, Plan, NeedsTarget> {
  assertAction(definition)
  return Object.freeze({ ...definition })
}
