/**
 * Test helper for action authors (exported as `dt-remediator/testing`): runs an action the way
 * the runner does — parameters parsed by the action's own schema, `plan` once, then `run` with
 * the stored plan — against whatever fakes the test supplies. A platform team tests its custom
 * action in its own repository with this, without a server, a store or a cluster.
 */
import { pino, type Logger } from 'pino'
import type { z } from 'zod'
import { DtrError } from '../errors.js'
import type {
  ActionContext, ActionDefinition, ActionSettings, DeploymentEvent, DynatraceReader, EntityRef,
  KubernetesReader, Outcome, PlanContext, ProblemInfo, Target,
} from './contract.js'

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
  plan: Plan
  /** One outcome per attempt. */
  outcomes: Outcome[]
  outcome: Outcome
}

const unavailable = (what: string) => async (): Promise<never> => {
  throw new Error(`${what} was not provided to runAction()`)
}

export async function runAction<Schema extends z.ZodType, Plan> (action: ActionDefinition<Schema, Plan>, options: RunActionOptions = {}): Promise<RunActionResult<Plan>> {
  const parsed = action.params.safeParse(options.params ?? {})
  if (!parsed.success) {
    throw new DtrError('DTR_ERR_ACTION_PARAMS', `${action.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`)
  }
  const base: PlanContext<z.output<Schema>> = {
    problem: { kind: 'problem', id: 'P-TEST', displayId: 'P-1', title: 'Test problem', severity: 'ERROR', impact: 'SERVICE', url: undefined, tags: [], startTime: undefined, ...options.problem },
    entity: { id: 'SERVICE-0000000000000001', type: 'SERVICE', name: 'test-service', ...options.entity },
    target: options.target ?? null,
    params: parsed.data,
    deploymentEvent: options.deploymentEvent,
    settings: { gitops: 'skip', ...options.settings },
    log: options.log ?? pino({ level: 'silent' }),
    signal: options.signal ?? new AbortController().signal,
    plannedAt: options.plannedAt ?? Date.now(),
    dynatrace: { getProblem: unavailable('dynatrace.getProblem'), getEntity: unavailable('dynatrace.getEntity'), ...options.dynatrace },
    kubernetes: { get: unavailable('kubernetes.get'), ...options.kubernetes },
  }
  const plan = (action.plan === undefined ? undefined : await action.plan(base)) as Plan
  const outcomes: Outcome[] = []
  const attempts = options.attempts ?? 1
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const ctx: ActionContext<z.output<Schema>, Plan> = { ...base, plan, dryRun: options.dryRun ?? false, attempt, runId: options.runId ?? 'run-test' }
    outcomes.push(await action.run(ctx))
  }
  return { plan, outcomes, outcome: outcomes[outcomes.length - 1] as Outcome }
}
