/**
 * The action test kit (exported as `dt-remediator/testing`): runs an action the way the runner
 * does — through the same planAction/executeAction — against whatever fakes the test supplies. A
 * platform team tests its custom action in its own repository with this, without a server, a
 * store or a cluster. A simulator-backed harness is exported from `dt-remediator/sim`.
 */
import { pino, type Logger } from 'pino'
import type { z } from 'zod'
import type { Outcome } from '../domain/outcome.js'
import type { DeploymentEvent, EntityRef, ProblemInfo } from '../domain/problem.js'
import type { Target } from '../domain/target.js'
import type { DynatraceReader } from '../dynatrace/reader.js'
import type { KubernetesReader } from '../kubernetes/reader.js'
import type { ActionDefinition, ActionSettings, AnyAction } from './contract.js'
import { executeAction, planAction, type PlanInputs, type PlanResult } from './execute.js'

export interface RunActionOptions {
  params?: unknown
  problem?: Partial<ProblemInfo>
  entity?: Partial<EntityRef>
  target?: Target | null
  deploymentEvent?: DeploymentEvent
  settings?: Partial<ActionSettings>
  dryRun?: boolean
  /** Run the action this many times with the same plan (attempts 1..n), as retries would. */
  attempts?: number
  plannedAt?: number
  runId?: string
  signal?: AbortSignal
  log?: Logger
  dynatrace?: Partial<DynatraceReader>
  kubernetes?: Partial<KubernetesReader>
}

export interface RunActionResult<Plan> {
  /** What planning gave: the plan, or the action's own skip. */
  planned: PlanResult
  /** The plan every attempt received (undefined when planning skipped). */
  plan: Plan | undefined
  /** One outcome per attempt; a single `skipped` when planning skipped. */
  outcomes: Outcome[]
  outcome: Outcome
}

const unavailable = (what: string) => async (): Promise<never> => {
  throw new Error(`${what} was not provided to runAction()`)
}

/** The plan inputs runAction uses, with defaults a test can override. */
export function planInputs (options: RunActionOptions = {}): PlanInputs {
  return {
    problem: { kind: 'problem', id: 'P-TEST', displayId: 'P-1', title: 'Test problem', severity: 'ERROR', impact: 'SERVICE', url: undefined, tags: [], startTime: undefined, ...options.problem },
    entity: { id: 'SERVICE-0000000000000001', type: 'SERVICE', name: 'test-service', ...options.entity },
    target: options.target ?? null,
    params: options.params ?? {},
    deploymentEvent: options.deploymentEvent,
    settings: { gitops: 'skip', ...options.settings },
    log: options.log ?? pino({ level: 'silent' }),
    signal: options.signal ?? new AbortController().signal,
    plannedAt: options.plannedAt ?? Date.now(),
    dynatrace: { getProblem: unavailable('dynatrace.getProblem'), getEntity: unavailable('dynatrace.getEntity'), ...options.dynatrace },
    kubernetes: { get: unavailable('kubernetes.get'), ...options.kubernetes },
  }
}

/** Plans once, then runs `attempts` times with that plan, as the runner would across retries. */
export async function runAction<Schema extends z.ZodType, Plan, NeedsTarget extends boolean> (
  action: ActionDefinition<Schema, Plan, NeedsTarget>,
  options: RunActionOptions = {}
): Promise<RunActionResult<Plan>> {
  const erased = action as unknown as AnyAction
  const inputs = planInputs(options)
  const planned = await planAction(erased, inputs)
  if (planned.status === 'skipped') {
    const outcome: Outcome = { status: 'skipped', reason: planned.reason, ...(planned.details === undefined ? {} : { details: planned.details }) }
    return { planned, plan: undefined, outcomes: [outcome], outcome }
  }
  const outcomes: Outcome[] = []
  const attempts = options.attempts ?? 1
  for (let attempt = 1; attempt <= attempts; attempt++) {
    outcomes.push(await executeAction(erased, { ...inputs, plan: planned.plan, dryRun: options.dryRun ?? false, attempt, runId: options.runId ?? 'run-test' }))
  }
  return { planned, plan: planned.plan as Plan, outcomes, outcome: outcomes[outcomes.length - 1] as Outcome }
}
