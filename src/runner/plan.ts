/**
 * The one planning function, shared by the runner and `simulate`: given a stored notification,
 * its enrichment, the loaded rules and the action registry, what each rule would do at one step
 * of its ladder (step 0 when the notification arrives; the runner asks for later steps when it
 * escalates). Per rule: matched, or the first condition that failed. Per impacted entity: its
 * target and the source that won, or every source tried and why. Per run: its key (SPEC 8), the
 * parameters with placeholders substituted, and what the action's `plan` gave — the plan, its own
 * skip, or a parameter/host error. Plain JSON, so the runner can store it and simulate print it.
 *
 * Nothing here writes, executes or evaluates a gate (SPEC 9): dry-run and live plan the same; the
 * runner decides what runs. `${env:…}` stays as written in the plan's parameters (applyEnv
 * gives the runner the real ones just before it executes, at the places the rule's text had them), and any value an `${env:…}` gave is
 * masked wherever it appears in a plan, a reason or details.
 */
import type { Logger } from 'pino'
import { resolveTarget, type SourceAttempt, type TargetSource } from '../domain/decide/targets.js'
import { entityOf, entityRef, problemInfo, type EntityDeploymentEvent, type Enrichment, type ImpactedEntity } from '../domain/enrichment.js'
import type { DeploymentEvent, EntityRef, ProblemInfo } from '../domain/problem.js'
import { redactValues } from '../domain/redact.js'
import { ANY_ENTITY, formatRunKey, type RunKey } from '../domain/run-key.js'
import { DEPLOYMENT_LOOKBACK_MS, deploymentEventFor, matchRule } from '../domain/rules/match.js'
import { applyEnv, substituteDeep, type EnvSite, type PlaceholderValues } from '../domain/rules/placeholders.js'
import type { LoadedRule, LoadedRules, ModeSource } from '../domain/rules/types.js'
import type { Mode } from '../domain/mode.js'
import { tagValue } from '../domain/tags.js'
import { describeTarget, targetKey, type Target } from '../domain/target.js'
import type { DynatraceReader } from '../dynatrace/reader.js'
import { errorCodeOf, isRetryable } from '../errors.js'
import type { KubernetesReader } from '../kubernetes/reader.js'
import type { ActionRegistry, ActionSettings, AnyAction, PlanInputs } from '../sdk/index.js'
import { planAction } from '../sdk/index.js'
import type { NotificationInput } from './enrich.js'

export interface PlanRequest {
  readonly notification: NotificationInput
  readonly enrichment: Enrichment
  readonly rules: LoadedRules
  readonly registry: ActionRegistry
  readonly readers: { readonly dynatrace: DynatraceReader, readonly kubernetes: KubernetesReader }
  /** For `${env:…}` (the runner's process environment). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** DTR_CLUSTER_NAME. */
  readonly clusterName: string | undefined
  /** The problem's open period, from 1 (the runner counts re-opens). */
  readonly occurrence: number
  /** The ladder step to plan; 0 at notification time. */
  readonly step?: number
  /** Plan only this rule (an escalation asks for one rule's next step). */
  readonly rule?: string
  /** ms epoch: becomes the plan's `plannedAt`, which plans use instead of the clock. */
  readonly plannedAt: number
  readonly signal?: AbortSignal
  readonly log: Logger
}

export interface EntityPlan {
  readonly entityId: string
  readonly type: string
  readonly name: string
  readonly matched: boolean
  /** Why the entity did not match the rule. */
  readonly reason: string | undefined
  /** The deployment event the entity's plan uses: matched by deployedWithin, else the newest within 2h. */
  readonly deploymentEvent: EntityDeploymentEvent | undefined
  readonly target: Target | null
  readonly targetSource: TargetSource | undefined
  /** The winning source and what it found, or every source and why it found nothing; or why resolution was skipped. */
  readonly targetNote: string | undefined
  readonly tried: readonly SourceAttempt[]
}

export type RunStatus = 'planned' | 'skipped' | 'failed'

export interface RunPlan {
  readonly key: RunKey
  readonly runKey: string
  readonly rule: string
  readonly step: number
  readonly action: string
  /** The entity id, or `*` for an action that needs no target. */
  readonly entityId: string
  /** The entity `ctx.entity` is (for `*`, the first matched entity). */
  readonly entity: EntityRef
  readonly target: Target | null
  readonly targetSource: TargetSource | undefined
  /** `with` with placeholders substituted but `${env:…}`, which stays as written. */
  readonly params: unknown
  /** Where the rule's own text had `${env:…}` in `params` (never where a substituted value has one). */
  readonly envSites: readonly EnvSite[]
  readonly deploymentEvent: DeploymentEvent | undefined
  /** `planned`: the action gave a plan; `skipped`: by the action itself, no target, same target, type not handled; `failed`: parameters, host, or a fault while planning. */
  readonly status: RunStatus
  readonly plan: unknown
  readonly reason: string | undefined
  readonly details: Record<string, unknown> | undefined
  /** For `failed`: the error code, and whether planning again may succeed. */
  readonly error: { readonly code: string, readonly retryable: boolean } | undefined
  /** For a run skipped because an earlier entity resolved to the same target. */
  readonly sameTargetAs: string | undefined
}

export interface RulePlan {
  readonly rule: string
  readonly matched: boolean
  readonly reason: string | undefined
  readonly entities: readonly EntityPlan[]
  readonly runs: readonly RunPlan[]
}

export interface NotificationPlan {
  readonly kind: NotificationInput['kind']
  readonly problemId: string
  readonly displayId: string | undefined
  readonly occurrence: number
  readonly step: number
  readonly plannedAt: number
  /** The rules' effective mode; the runner (and its gates) decide what it means per run. */
  readonly mode: Mode
  readonly modeSource: ModeSource
  readonly problem: ProblemInfo
  readonly enrichment: { readonly source: Enrichment['source'], readonly notes: readonly string[] }
  readonly rules: readonly RulePlan[]
  /** Distinct targets of every run with a target, across rules (the maxTargetsPerProblem gate counts these). */
  readonly targets: readonly Target[]
  readonly maxTargetsPerProblem: number
  /**
   * The gates of SPEC 9 (kill switch, mode, scope, maxTargetsPerProblem, cooldown, budgets, lock,
   * approval) are evaluated by the runner, not here: `simulate` will show them through this field
   * once they exist. Until then it is null.
   */
  readonly gates: null
}

/** Pure: what placeholders are substituted from, for one entity. */
function placeholderValues (e: Enrichment, entity: ImpactedEntity, event: DeploymentEvent | undefined): PlaceholderValues {
  const p = e.problem
  return {
    tag: (key) => tagValue(entity.details?.tags ?? [], key) ?? tagValue(p.tags, key),
    event: (key) => event?.properties[key],
    entity: { id: entity.id, name: entity.name, type: entity.type },
    problem: { id: p.id, displayId: p.displayId, title: p.title, severity: p.severity, url: p.url },
  }
}

/** The env values a rule's parameters use, to mask wherever they would show. */
function secretsOf (rule: LoadedRule, env: PlanRequest['env']): Array<readonly [string, string]> {
  return rule.env.flatMap((name) => {
    const value = env[name]
    return value === undefined || value === '' ? [] : [[`\${env:${name}}`, value] as const]
  })
}

/**
 * The inputs `planAction` received for a run, rebuilt from the plan: the runner passes these
 * (with `plan`, `dryRun`, `attempt`, `runId`) to executeAction, so every attempt sees what planning
 * saw. `${env:…}` is substituted here, at the last moment.
 */
export function runInputs (run: RunPlan, context: { readonly problem: ProblemInfo, readonly rules: LoadedRules, readonly readers: PlanRequest['readers'], readonly env: PlanRequest['env'], readonly plannedAt: number, readonly signal: AbortSignal, readonly log: Logger }): PlanInputs {
  return {
    problem: context.problem,
    entity: run.entity,
    target: run.target,
    params: applyEnv(run.params, run.envSites, context.env).value,
    deploymentEvent: run.deploymentEvent,
    settings: settingsOf(context.rules),
    log: context.log,
    signal: context.signal,
    plannedAt: context.plannedAt,
    dynatrace: context.readers.dynatrace,
    kubernetes: context.readers.kubernetes,
  }
}

const settingsOf = (rules: LoadedRules): ActionSettings => ({ gitops: rules.kubernetes.gitops })

function stripEvent (ev: EntityDeploymentEvent | undefined): DeploymentEvent | undefined {
  return ev === undefined ? undefined : { eventId: ev.eventId, startTime: ev.startTime, title: ev.title, properties: ev.properties }
}

async function planOne (req: PlanRequest, rule: LoadedRule, action: AnyAction, base: Omit<RunPlan, 'status' | 'plan' | 'reason' | 'details' | 'error' | 'sameTargetAs' | 'params' | 'envSites'>, rawParams: unknown, values: PlaceholderValues): Promise<RunPlan> {
  const substituted = substituteDeep(rawParams, values)
  const secrets = secretsOf(rule, req.env)
  const done = (rest: Pick<RunPlan, 'status'> & Partial<RunPlan>): RunPlan => redactValues({ ...base, params: substituted.value, envSites: substituted.envSites, plan: undefined, reason: undefined, details: undefined, error: undefined, sameTargetAs: undefined, ...rest }, secrets)
  if (substituted.missing.length > 0) {
    return done({ status: 'failed', reason: `${[...new Set(substituted.missing)].join(', ')} ${substituted.missing.length === 1 ? 'has' : 'have'} no value for this entity`, error: { code: 'DTR_ERR_ACTION_PARAMS', retryable: false } })
  }
  const withEnv = applyEnv(substituted.value, substituted.envSites, req.env)
  if (withEnv.missing.length > 0) {
    return done({ status: 'failed', reason: `${withEnv.missing.join(', ')} ${withEnv.missing.length === 1 ? 'is' : 'are'} not set`, error: { code: 'DTR_ERR_CONFIG', retryable: false } })
  }
  const inputs: PlanInputs = {
    problem: problemInfo(req.enrichment.problem),
    entity: base.entity,
    target: base.target,
    params: withEnv.value,
    deploymentEvent: base.deploymentEvent,
    settings: settingsOf(req.rules),
    log: req.log.child({ problemId: req.notification.problemId, rule: rule.name, action: action.name, runKey: base.runKey }),
    signal: req.signal ?? new AbortController().signal,
    plannedAt: req.plannedAt,
    dynatrace: req.readers.dynatrace,
    kubernetes: req.readers.kubernetes,
  }
  try {
    const planned = await planAction(action, inputs)
    if (planned.status === 'skipped') return done({ status: 'skipped', reason: planned.reason, details: planned.details })
    return done({ status: 'planned', plan: planned.plan })
  } catch (err) {
    return done({ status: 'failed', reason: (err as Error).message, error: { code: errorCodeOf(err), retryable: isRetryable(err) } })
  }
}

async function planRule (req: PlanRequest, rule: LoadedRule, step: number): Promise<RulePlan> {
  const e = req.enrichment
  const match = matchRule(rule, e, { fallbackStartTime: req.notification.receivedAt })
  const ladderStep = rule.ladder[step]
  const action = ladderStep === undefined ? undefined : req.registry.get(ladderStep.use)
  const start = e.problem.startTime ?? req.notification.receivedAt
  const entities: EntityPlan[] = []
  const runs: RunPlan[] = []
  const byTarget = new Map<string, string>()

  for (const m of match.entities) {
    const entity = entityOf(e, m.entityId)
    if (entity === undefined) continue
    const event = m.deploymentEvent ?? deploymentEventFor(e, entity, DEPLOYMENT_LOOKBACK_MS, start)
    const plan: EntityPlan = { entityId: entity.id, type: entity.type, name: entity.name, matched: m.matched, reason: m.reason, deploymentEvent: event, target: null, targetSource: undefined, targetNote: undefined, tried: [] }
    if (!m.matched || !match.matched || action === undefined || ladderStep === undefined) {
      entities.push(plan)
      continue
    }
    const values = placeholderValues(e, entity, event)
    const key = (entityId: string): RunKey => ({ kind: e.problem.kind, problemId: req.notification.problemId, occurrence: req.occurrence, rule: rule.name, step, entity: entityId })

    const handled = action.entityTypes === '*' || action.entityTypes.includes(entity.type)
    if (!action.needsTarget) {
      entities.push({ ...plan, targetNote: `not resolved: ${action.name} needs no Kubernetes target` })
      // One run per occurrence and step: the first matched entity of a type the action handles.
      if (runs.length > 0 || !handled) continue
      const k = key(ANY_ENTITY)
      runs.push(await planOne(req, rule, action, { key: k, runKey: formatRunKey(k), rule: rule.name, step, action: action.name, entityId: ANY_ENTITY, entity: entityRef(entity), target: null, targetSource: undefined, deploymentEvent: stripEvent(event) }, ladderStep.with, values))
      continue
    }

    const resolution = resolveTarget({
      entity,
      ruleTarget: rule.target,
      values,
      lookup: (id) => e.related[id],
      deploymentEvent: event,
      lookbackMs: DEPLOYMENT_LOOKBACK_MS,
      eventsRead: e.eventsWindow !== undefined,
      clusterName: req.clusterName,
      problemClusters: e.problem.clusters,
    })
    const target = resolution.ok ? resolution.target : null
    entities.push({ ...plan, target, targetSource: resolution.ok ? resolution.source : undefined, targetNote: resolution.ok ? resolution.note : resolution.reason, tried: resolution.tried })
    const k = key(entity.id)
    const base = { key: k, runKey: formatRunKey(k), rule: rule.name, step, action: action.name, entityId: entity.id, entity: entityRef(entity), target, targetSource: resolution.ok ? resolution.source : undefined, deploymentEvent: stripEvent(event) }
    const none = { plan: undefined, details: undefined, error: undefined, sameTargetAs: undefined, envSites: [] }
    if (!handled) {
      runs.push({ ...base, ...none, params: ladderStep.with, status: 'skipped', reason: `${action.name} does not handle ${entity.type} entities (it handles ${(action.entityTypes as readonly string[]).join(', ')})` })
      continue
    }
    if (!resolution.ok) {
      runs.push({ ...base, ...none, params: ladderStep.with, status: 'skipped', reason: `no target: ${resolution.reason}` })
      continue
    }
    const first = byTarget.get(targetKey(resolution.target))
    if (first !== undefined) {
      runs.push({ ...base, ...none, params: ladderStep.with, status: 'skipped', reason: `same target as run ${first} (${describeTarget(resolution.target)})`, sameTargetAs: first })
      continue
    }
    byTarget.set(targetKey(resolution.target), base.runKey)
    runs.push(await planOne(req, rule, action, base, ladderStep.with, values))
  }

  let reason = match.reason
  if (match.matched && ladderStep === undefined) reason = `its ladder has no step ${step} (it has ${rule.ladder.length})`
  else if (match.matched && action === undefined) reason = `action ${ladderStep?.use ?? '?'} is not registered`
  return { rule: rule.name, matched: match.matched, reason, entities, runs }
}

/** Plans one step of every rule (or of `req.rule`) for a notification. Reads only what actions' `plan` read. */
export async function planNotification (req: PlanRequest): Promise<NotificationPlan> {
  const step = req.step ?? 0
  const rules = req.rule === undefined ? req.rules.rules : req.rules.rules.filter((r) => r.name === req.rule)
  const plans: RulePlan[] = []
  for (const rule of rules) plans.push(await planRule(req, rule, step))
  const targets = new Map<string, Target>()
  for (const run of plans.flatMap((p) => p.runs)) if (run.target !== null) targets.set(targetKey(run.target), run.target)
  return {
    kind: req.notification.kind,
    problemId: req.notification.problemId,
    displayId: req.enrichment.problem.displayId,
    occurrence: req.occurrence,
    step,
    plannedAt: req.plannedAt,
    mode: req.rules.mode,
    modeSource: req.rules.modeSource,
    problem: problemInfo(req.enrichment.problem),
    enrichment: { source: req.enrichment.source, notes: req.enrichment.notes },
    rules: plans,
    targets: [...targets.values()],
    maxTargetsPerProblem: req.rules.defaults.maxTargetsPerProblem,
    gates: null,
  }
}
