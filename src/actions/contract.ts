/**
 * The action contract (SPEC section 7). An action is a plain module: a namespaced name, a
 * description, the entity types it handles, a zod schema for its parameters, whether it needs a
 * Kubernetes target, an optional `plan` that fixes the change when the run is planned, and `run`.
 *
 * Why `plan` is separate from `run`: a run may execute several times (retry, crash, another
 * replica). What it changes must not drift between attempts — a restart annotation stamped with
 * "now" at each attempt would restart twice — so the action computes the change once, the runner
 * stores it with the run, and every attempt of `run` receives the same `ctx.plan`.
 *
 * Outcomes are values; exceptions are faults. A thrown `TerminalError` means "do not retry";
 * anything else thrown is retried by the runner within the rule's timeout.
 */
import type { Logger } from 'pino'
import type { z } from 'zod'
import { DtrError } from '../errors.js'

export type TargetKind = 'Deployment' | 'StatefulSet' | 'DaemonSet'

export interface Target {
  readonly kind: TargetKind
  readonly namespace: string
  readonly name: string
}

export interface EntityRef {
  readonly id: string
  readonly type: string
  readonly name: string
}

/** What an action knows about the notification that triggered it. */
export interface ProblemInfo {
  readonly kind: 'problem' | 'security'
  /** PID for problems (the v2 problemId), SecurityProblemId for security problems. */
  readonly id: string
  /** ProblemID (P-…) or the security display id (S-…), when known. */
  readonly displayId: string | undefined
  readonly title: string | undefined
  readonly severity: string | undefined
  readonly impact: string | undefined
  readonly url: string | undefined
  readonly tags: readonly string[]
  /** When the problem started (ms epoch), when known from enrichment. */
  readonly startTime: number | undefined
}

/** The CUSTOM_DEPLOYMENT event the rule matched (`deployedWithin`), if any. */
export interface DeploymentEvent {
  readonly eventId: string
  readonly startTime: number
  readonly title: string
  readonly properties: Readonly<Record<string, string>>
}

export type Outcome =
  | { readonly status: 'succeeded', readonly summary: string, readonly details?: Record<string, unknown> }
  | { readonly status: 'skipped', readonly reason: string, readonly details?: Record<string, unknown> }
  | { readonly status: 'failed', readonly summary: string, readonly details?: Record<string, unknown> }

/** Read-only Dynatrace helpers offered to every action. */
export interface DynatraceReader {
  getProblem(problemId: string, signal?: AbortSignal): Promise<unknown>
  getEntity(entityId: string, signal?: AbortSignal): Promise<unknown>
}

/** Read-only Kubernetes helpers offered to every action. */
export interface KubernetesReader {
  /** GET an object by apiVersion/kind/namespace/name; undefined when it does not exist. */
  get(ref: { apiVersion: string, kind: string, namespace: string, name: string }, signal?: AbortSignal): Promise<Record<string, unknown> | undefined>
}

export interface ActionSettings {
  /** `kubernetes.gitops` from the rules file: whether GitOps-managed workloads may be changed. */
  readonly gitops: 'skip' | 'allow'
}

export interface PlanContext<P> {
  readonly problem: ProblemInfo
  readonly entity: EntityRef
  readonly target: Target | null
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

export interface ActionContext<P, Plan> extends PlanContext<P> {
  readonly plan: Plan
  readonly dryRun: boolean
  /** 1 on the first attempt. */
  readonly attempt: number
  readonly runId: string
}

export interface ActionDefinition<Schema extends z.ZodType = z.ZodType, Plan = unknown> {
  /** Namespaced, lower case: `kubernetes.rollback`, `acme.drain-queue`. */
  readonly name: string
  readonly description: string
  /** Dynatrace entity types the action handles, or '*' for any. */
  readonly entityTypes: readonly string[] | '*'
  readonly params: Schema
  readonly needsTarget: boolean
  plan?(ctx: PlanContext<z.output<Schema>>): Promise<Plan>
  run(ctx: ActionContext<z.output<Schema>, Plan>): Promise<Outcome>
}

/** A type-erased action as the registry and the runner hold it. */
export type AnyAction = ActionDefinition<z.ZodType, unknown>

/** Thrown by an action for a fault that retrying cannot fix (the runner marks the run failed). */
export class TerminalError extends DtrError {
  constructor (message: string, options?: { cause?: unknown, details?: Record<string, unknown> }) {
    super('DTR_ERR_TERMINAL', message, options)
    this.name = 'TerminalError'
  }
}

const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/

/**
 * Checks a value against the contract and returns it frozen. Used for built-in actions and for
 * every plugin module at start-up, so a broken custom action stops start-up with its name.
 */
export function defineAction<Schema extends z.ZodType, Plan = undefined> (definition: ActionDefinition<Schema, Plan>): ActionDefinition<Schema, Plan> {
  const problems = contractProblems(definition)
  if (problems.length > 0) {
    const name = typeof (definition as { name?: unknown })?.name === 'string' ? (definition as { name: string }).name : '(unnamed)'
    throw new DtrError('DTR_ERR_ACTION_CONTRACT', `Action ${name} does not satisfy the action contract: ${problems.join('; ')}`)
  }
  return Object.freeze({ ...definition })
}

/** Pure: lists what is wrong with a candidate action; empty when it satisfies the contract. */
export function contractProblems (candidate: unknown): string[] {
  if (typeof candidate !== 'object' || candidate === null) return ['it is not an object']
  const c = candidate as Record<string, unknown>
  const problems: string[] = []
  if (typeof c.name !== 'string' || !NAME.test(c.name)) problems.push('name must be a namespaced lower-case string such as "acme.drain-queue"')
  if (typeof c.description !== 'string' || c.description.trim() === '') problems.push('description must be a non-empty string')
  if (!(c.entityTypes === '*' || (Array.isArray(c.entityTypes) && c.entityTypes.every((t) => typeof t === 'string')))) problems.push('entityTypes must be "*" or an array of entity type strings')
  if (typeof c.params !== 'object' || c.params === null || typeof (c.params as { safeParse?: unknown }).safeParse !== 'function') problems.push('params must be a zod schema')
  if (typeof c.needsTarget !== 'boolean') problems.push('needsTarget must be a boolean')
  if (c.plan !== undefined && typeof c.plan !== 'function') problems.push('plan must be a function when given')
  if (typeof c.run !== 'function') problems.push('run must be a function')
  return problems
}
