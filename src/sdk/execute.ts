/**
 * The one way an action is planned and executed, shared by the runner and the test kit, so what a
 * platform team's test exercises is what production does: parameters parsed by the action's own
 * schema, the missing-target rule, the typed plan-time skip, then `run` with the stored plan.
 * Errors thrown by `run` are left to the caller, which decides on retries (isRetryable).
 */
import type { z } from 'zod'
import { DtrError } from '../errors.js'
import type { Outcome } from '../domain/outcome.js'

import { isPlanSkip, type ActionContext, type AnyAction, type PlanContext } from './contract.js'

export type PlanInputs = Omit<PlanContext<unknown>, 'params'> & {
  /** The rule's `with`, after placeholder substitution, not yet parsed. */
  readonly params: unknown
}

export type PlanResult =
  | { readonly status: 'planned', readonly plan: unknown }
  | { readonly status: 'skipped', readonly reason: string, readonly details?: Record<string, unknown> }

export type ExecuteInputs = PlanInputs & Pick<ActionContext<unknown, unknown>, 'plan' | 'dryRun' | 'attempt' | 'runId'>

/** Pure: `path: message` for each issue, e.g. `max: Invalid input: expected number`. */
export function describeIssues (issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length === 0 ? '(params)' : i.path.map(String).join('.')}: ${i.message}`).join('; ')
}

/** Parses `with` by the action's schema; DTR_ERR_ACTION_PARAMS names each bad field. */
export function parseParams (action: AnyAction, raw: unknown): unknown {
  const parsed = action.params.safeParse(raw ?? {})
  if (!parsed.success) throw new DtrError('DTR_ERR_ACTION_PARAMS', `${action.name}: ${describeIssues(parsed.error.issues)}`)
  return parsed.data
}

const NO_TARGET = 'no Kubernetes target'

function contextFor (action: AnyAction, inputs: PlanInputs): PlanContext<unknown> {
  return { ...inputs, params: parseParams(action, inputs.params) }
}

/** Plans one run: a missing target is a skip, never a call; a plan's `skip()` is a skip too. */
export async function planAction (action: AnyAction, inputs: PlanInputs): Promise<PlanResult> {
  const ctx = contextFor(action, inputs)
  if (action.needsTarget && ctx.target === null) return { status: 'skipped', reason: NO_TARGET }
  const plan = action.plan === undefined ? undefined : await action.plan(ctx)
  if (isPlanSkip(plan)) return { status: 'skipped', reason: plan.reason, ...(plan.details === undefined ? {} : { details: plan.details }) }
  return { status: 'planned', plan }
}

/** One attempt of a planned run. */
export async function executeAction (action: AnyAction, inputs: ExecuteInputs): Promise<Outcome> {
  const ctx = { ...contextFor(action, inputs), plan: inputs.plan, dryRun: inputs.dryRun, attempt: inputs.attempt, runId: inputs.runId }
  if (action.needsTarget && ctx.target === null) return { status: 'skipped', reason: NO_TARGET }
  return action.run(ctx)
}
