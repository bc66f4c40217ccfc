/**
 * The facts the safety gates decide on (SPEC 9), read from the store — in the runner's gate
 * transaction, so replicas see each other's records — or, for `simulate`, from whatever store it
 * can read. The decision itself is pure (src/domain/decide/gates.ts).
 */
import type { GateFacts } from '../domain/decide/gates.js'
import type { Store } from '../store/index.js'
import type { RunRecord } from '../store/runs.js'
import { targetKey } from '../domain/target.js'
import { problemLabel } from '../domain/writeback/label.js'
import type { RunnerDeps } from './deps.js'
import { readPause } from './pause.js'
import { lockName } from './lock.js'

/** What a gate decision reads: the store's runs, leases and settings (a transaction's, or a read-only store's). */
export type GateFactSource = Pick<Store, 'runs' | 'leases' | 'settings'> & Partial<Pick<Store, 'evidence'>>

/** What the gates need to know of a run. */
export type GateRun = Pick<RunRecord, 'id' | 'action' | 'target' | 'kind' | 'problemId' | 'displayId' | 'rule' | 'occurrence' | 'dryRun' | 'approvedBy'> & { readonly settings: Pick<RunRecord['settings'], 'cooldownMs' | 'approval'> }

const SKIP_ANNOTATION = 'dt-remediator.io/skip'

/** The facts the gates decide on, read in the gate transaction (so replicas see each other's). */
export async function gateFacts (deps: Pick<RunnerDeps, 'rules' | 'ownNamespace' | 'metrics'>, tx: GateFactSource, run: GateRun, skipAnnotation: boolean, now: number): Promise<GateFacts> {
  const rules = deps.rules().rules
  const pause = await readPause(tx)
  deps.metrics.paused.set(pause.paused ? 1 : 0)
  const cooldownSince = now - run.settings.cooldownMs
  const last = await tx.runs.lastStarted(run.action, run.target === null ? { kind: run.kind, problemId: run.problemId } : { targetKey: targetKey(run.target) }, cooldownSince)
  const budgets = []
  for (const b of rules.budgets) {
    const since = now - b.perMs
    if (b.scope === 'global') budgets.push({ scope: b.scope, key: '*', max: b.max, perMs: b.perMs, used: await tx.runs.countStarted(since, 'global') })
    else if (b.scope === 'rule') budgets.push({ scope: b.scope, key: run.rule, max: b.max, perMs: b.perMs, used: await tx.runs.countStarted(since, { rule: run.rule }) })
    else if (run.target !== null) budgets.push({ scope: b.scope, key: run.target.namespace, max: b.max, perMs: b.perMs, used: await tx.runs.countStarted(since, { namespace: run.target.namespace }) })
  }
  const recurrence = await recurrenceFacts(rules, tx, run, now)
  const lock = lockName(run)
  const holder = lock === undefined ? undefined : await tx.leases.holder(lock)
  const deny = [...new Set([...rules.kubernetes.namespaces.deny, ...(deps.ownNamespace === undefined ? [] : [deps.ownNamespace])])]
  return {
    now,
    action: run.action,
    target: run.target,
    problemLabel: problemLabel(run),
    paused: pause.paused ? { since: pause.since ?? now, by: pause.by ?? 'admin', reason: pause.reason ?? 'no reason given' } : null,
    mode: rules.mode,
    ruleDryRun: run.dryRun && rules.mode === 'live',
    scope: { allow: rules.kubernetes.namespaces.allow, deny, skipAnnotation },
    targets: { count: await tx.runs.distinctTargets(run.kind, run.problemId, run.occurrence), max: rules.defaults.maxTargetsPerProblem },
    cooldown: { windowMs: run.settings.cooldownMs, last: last === undefined || last.id === run.id ? null : { runId: last.id, at: last.startedAt } },
    recurrence,
    budgets,
    lockedBy: holder === undefined || holder === run.id ? null : holder,
    approval: { required: run.settings.approval, approvedBy: run.approvedBy },
  }
}

/** Recurrence (SPEC 9): the rule's maxRecurrences (else the defaults') and the other problems this action already fixed on this target. */
async function recurrenceFacts (rules: ReturnType<RunnerDeps['rules']>['rules'], tx: GateFactSource, run: GateRun, now: number): Promise<GateFacts['recurrence']> {
  const limit = rules.rules.find((r) => r.name === run.rule)?.maxRecurrences ?? rules.defaults.maxRecurrences
  if (limit.count <= 0 || run.target === null || tx.evidence === undefined) return undefined
  const problems = await tx.evidence.recurrences(run.action, targetKey(run.target), now - limit.perMs, { kind: run.kind, problemId: run.problemId })
  return { count: limit.count, perMs: limit.perMs, problems }
}

/** What reading the workload's opt-out annotation found: `unreadable` is not "not annotated". */
export type SkipAnnotationRead =
  | { readonly read: true, readonly annotated: boolean }
  | { readonly read: false, readonly reason: string }

/**
 * Whether the live workload carries `dt-remediator.io/skip: "true"` (read before the gate
 * transaction). A failed read fails closed: the caller waits and reads again within the run's
 * timeout, or skips saying so; it never counts as "not annotated". A workload that does not exist
 * carries no annotation: the action finds it missing and skips "not found".
 */
export async function skipAnnotated (deps: Pick<RunnerDeps, 'readers'>, run: Pick<RunRecord, 'target'>, signal: AbortSignal): Promise<SkipAnnotationRead> {
  if (run.target === null) return { read: true, annotated: false }
  try {
    const live = await deps.readers.kubernetes.get({ apiVersion: 'apps/v1', kind: run.target.kind, namespace: run.target.namespace, name: run.target.name }, signal)
    const annotations = (live?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations
    return { read: true, annotated: annotations?.[SKIP_ANNOTATION] === 'true' }
  } catch (err) {
    return { read: false, reason: `${run.target.kind} ${run.target.namespace}/${run.target.name} could not be read for its ${SKIP_ANNOTATION} annotation (${(err as Error).message})` }
  }
}
