/**
 * The action contract (SPEC section 7). An action is a plain module: a namespaced name, a
 * description, the entity types it handles, a zod schema for its parameters, whether it needs a
 * Kubernetes target, an optional `plan` that fixes the change when the run is planned, and `run`.
 *
 * Why `plan` is separate from `run`: a run may execute several times (retry, crash, another
 * replica). What it changes must not drift between attempts — a restart annotation stamped with
 * "now" at each attempt would restart twice — so the action computes the change once, the runner
 * stores it with the run (plans are JSON), and every attempt of `run` receives the same `ctx.plan`.
 * A plan that finds nothing to do returns `skip(reason)`: the run is recorded as skipped by the
 * action itself, which lets a rule's ladder move on to its next step at once.
 *
 * `needsTarget: true` promises `ctx.target` is a Target: the runner (and the test kit) never call
 * such an action without one, so no action needs a null guard.
 *
 * Outcomes are values; exceptions are faults. A thrown `TerminalError` means "do not retry";
 * anything else thrown is retried by the runner within the rule's timeout.
 */
import type { Logger } from 'pino'
import type { z } from 'zod'
import type { Outcome } from '../domain/outcome.js'
import type { DeploymentEvent, EntityRef, ProblemInfo } from '../domain/problem.js'
import type { Target } from '../domain/target.js'
import type { DynatraceReader } from '../dynatrace/reader.js'
import type { KubernetesReader } from '../kubernetes/reader.js'

export interface ActionSettings {
  /** `kubernetes.gitops` from the rules file: whether GitOps-managed workloads may be changed. */
  readonly gitops: 'skip' | 'allow'
}

export interface PlanContext<P, T extends Target | null = Target | null> {
  readonly problem: ProblemInfo
  readonly entity: EntityRef
  readonly target: T
  readonly params: P
  readonly deploymentEvent: DeploymentEvent | undefined
  readonly settings: ActionSettings
  readonly log: Logger
  readonly signal: AbortSignal
  /** The time the run was planned (ms epoch); use it instead of Date.now() in plans. */
  readonly plannedAt: number
  readonly dynatrace: DynatraceReader
  readonly kubernetes: KubernetesReader
}

export interface ActionContext<P, Plan, T extends Target | null = Target | null> extends PlanContext<P, T> {
  readonly plan: Plan
  readonly dryRun: boolean
  /** 1 on the first attempt. */
  readonly attempt: number
  readonly runId: string
}

/** Shared by every copy of this package an installation may hold, so it survives duplicates. */
const PLAN_SKIP: unique symbol = Symbol.for('dt-remediator.plan-skip') as never

/** What `plan` returns when there is nothing to do (no older revision, already scaled…). */
export interface PlanSkip {
  readonly [PLAN_SKIP]: true
  readonly reason: string
  readonly details?: Record<string, unknown>
}

/** A plan-time skip: the run is `skipped` by the action itself, with this reason. */
export function skip (reason: string, details?: Record<string, unknown>): PlanSkip {
  return { [PLAN_SKIP]: true, reason, ...(details === undefined ? {} : { details }) }
}

export function isPlanSkip (value: unknown): value is PlanSkip {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLAN_SKIP] === true
}

type TargetFor<NeedsTarget extends boolean> = NeedsTarget extends true ? Target : null

export interface ActionDefinition<Schema extends z.ZodType = z.ZodType, Plan = unknown, NeedsTarget extends boolean = boolean> {
  /** Namespaced, lower case: `kubernetes.rollback`, `acme.drain-queue`. */
  readonly name: string
  readonly description: string
  /** Dynatrace entity types the action handles, or '*' for any. */
  readonly entityTypes: readonly string[] | '*'
  readonly params: Schema
  readonly needsTarget: NeedsTarget
  /**
   * Parameters holding a URL the action calls: their host must be in DTR_HTTP_ALLOWED_HOSTS,
   * checked when the rules file loads (a literal or `${env:…}` host) or when the run is planned
   * (a host from a placeholder).
   */
  readonly urlParams?: readonly string[]
  plan?(ctx: PlanContext<z.output<Schema>, TargetFor<NeedsTarget>>): Promise<Plan | PlanSkip>
  run(ctx: ActionContext<z.output<Schema>, Plan, TargetFor<NeedsTarget>>): Promise<Outcome>
}

/** A type-erased action as the registry and the runner hold it. */
export type AnyAction = ActionDefinition<z.ZodType, unknown, boolean>
