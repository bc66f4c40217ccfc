/**
 * The safety gates (SPEC section 9), in their order, as one pure decision over facts the store
 * read: kill switch → mode / the rule's dryRun → scope → maxTargetsPerProblem → cooldown →
 * recurrence → budgets → per-target lock → approval.
 *
 * Live, the first gate that does not pass decides: `skip` (with the gate named and its evidence),
 * `wait` (the target is locked by another run: stay queued until it frees, or until the run's
 * timeout passes, which is a skip "by lock"), or `approval`. In dry-run every gate is evaluated
 * and reported ("would be skipped by cooldown: …"), but a dry run uses no cooldown or budget and
 * never waits for approval: its decision is always to run, as a dry run — except that the kill
 * switch stops dry runs too (they still call the Kubernetes API).
 */
import type { Target } from '../target.js'
import { describeTarget } from '../target.js'
import { humanDuration } from '../rules/duration.js'

export const GATES = ['pause', 'mode', 'scope', 'maxTargets', 'cooldown', 'recurrence', 'budget', 'lock', 'approval'] as const
export type Gate = (typeof GATES)[number]

export interface GateFacts {
  readonly now: number
  readonly action: string
  /** The run's target; null for an action without one (its cooldown is per problem). */
  readonly target: Target | null
  readonly problemLabel: string
  readonly paused: { readonly since: number, readonly by: string, readonly reason: string } | null
  /** DTR_MODE, else the rules file's mode. */
  readonly mode: 'dry-run' | 'live'
  readonly ruleDryRun: boolean
  readonly scope: {
    /** Namespaces actions may act in; undefined = every namespace but the denied ones. */
    readonly allow: readonly string[] | undefined
    readonly deny: readonly string[]
    /** The live workload carries `dt-remediator.io/skip: "true"`. */
    readonly skipAnnotation: boolean
  }
  /** Distinct targets of this occurrence across all rules, and the limit. */
  readonly targets: { readonly count: number, readonly max: number }
  /** The last run of this action on this target (or problem) that reached `running`, if within the window. */
  readonly cooldown: { readonly windowMs: number, readonly last: { readonly runId: string, readonly at: number } | null }
  /**
   * Recurrence (maxRecurrences): the other problems on which this action already succeeded live
   * on this target within the window, newest first. Absent (or count 0) for an action without a
   * target, or when the rule turns it off.
   */
  readonly recurrence?: {
    readonly count: number
    readonly perMs: number
    readonly problems: ReadonlyArray<{ readonly problemId: string, readonly displayId: string | null }>
  } | undefined
  readonly budgets: ReadonlyArray<{ readonly scope: 'global' | 'namespace' | 'rule', readonly key: string, readonly max: number, readonly perMs: number, readonly used: number }>
  /** The run holding the target's lock, when another does. */
  readonly lockedBy: string | null
  readonly approval: { readonly required: boolean, readonly approvedBy: string | null }
}

export type GateResult =
  | { readonly gate: Gate, readonly result: 'pass' }
  | { readonly gate: Gate, readonly result: 'skip' | 'wait' | 'approval', readonly reason: string }

export type GateDecision =
  | { readonly decision: 'run', readonly dryRun: boolean, readonly results: readonly GateResult[], readonly notes: readonly string[] }
  | { readonly decision: 'skip', readonly gate: Gate, readonly reason: string, readonly results: readonly GateResult[] }
  | { readonly decision: 'wait', readonly gate: 'lock', readonly reason: string, readonly results: readonly GateResult[] }
  | { readonly decision: 'approval', readonly reason: string, readonly results: readonly GateResult[] }

const pass = (gate: Gate): GateResult => ({ gate, result: 'pass' })

/** Pure: every gate's result for these facts, in SPEC order. */
export function evaluateGates (f: GateFacts): GateResult[] {
  const what = f.target === null ? f.problemLabel : describeTarget(f.target)
  const results: GateResult[] = []
  results.push(f.paused === null
    ? pass('pause')
    : { gate: 'pause', result: 'skip', reason: `skipped by the kill switch: paused by ${f.paused.by} ${humanDuration(f.now - f.paused.since)} ago (${f.paused.reason})` })
  results.push(f.mode === 'live' && !f.ruleDryRun
    ? pass('mode')
    : { gate: 'mode', result: 'skip', reason: f.mode !== 'live' ? 'dry-run mode' : 'the rule sets dryRun: true' })
  const ns = f.target?.namespace
  if (ns === undefined) results.push(pass('scope'))
  else if (f.scope.deny.includes(ns)) results.push({ gate: 'scope', result: 'skip', reason: `skipped by scope: namespace ${ns} is denied (kubernetes.namespaces.deny)` })
  else if (f.scope.allow !== undefined && !f.scope.allow.includes(ns)) results.push({ gate: 'scope', result: 'skip', reason: `skipped by scope: namespace ${ns} is not in kubernetes.namespaces.allow [${f.scope.allow.join(', ')}]` })
  else if (f.scope.skipAnnotation) results.push({ gate: 'scope', result: 'skip', reason: `skipped by scope: ${what} is annotated dt-remediator.io/skip: "true"` })
  else results.push(pass('scope'))
  results.push(f.targets.count <= f.targets.max
    ? pass('maxTargets')
    : { gate: 'maxTargets', result: 'skip', reason: `skipped by maxTargetsPerProblem: ${f.problemLabel} resolves to ${f.targets.count} targets, more than ${f.targets.max}` })
  const last = f.cooldown.last
  results.push(last === null || f.now - last.at >= f.cooldown.windowMs
    ? pass('cooldown')
    : { gate: 'cooldown', result: 'skip', reason: `skipped by cooldown: ${f.action} ran on ${what} ${humanDuration(f.now - last.at)} ago (run ${last.runId}), cooldown ${humanDuration(f.cooldown.windowMs)}` })
  results.push(recurrenceResult(f))
  const spent = f.budgets.find((b) => b.used >= b.max)
  results.push(spent === undefined
    ? pass('budget')
    : { gate: 'budget', result: 'skip', reason: `skipped by budget: ${spent.used} live runs ${spent.scope === 'global' ? 'in all' : `in ${spent.scope} ${spent.key}`} in the last ${humanDuration(spent.perMs)}, at most ${spent.max}` })
  results.push(f.lockedBy === null
    ? pass('lock')
    : { gate: 'lock', result: 'wait', reason: `waiting for the lock on ${what}, held by run ${f.lockedBy}` })
  results.push(!f.approval.required || f.approval.approvedBy !== null
    ? pass('approval')
    : { gate: 'approval', result: 'approval', reason: `awaiting approval to run ${f.action} on ${what}` })
  return results
}

/** Pure: the recurrence gate (SPEC 9): `count` or more other problems fixed by this action on this target within `per`. */
function recurrenceResult (f: GateFacts): GateResult {
  const r = f.recurrence
  if (r === undefined || r.count <= 0 || f.target === null || r.problems.length < r.count) return pass('recurrence')
  const ids = r.problems.map((p) => p.displayId ?? p.problemId)
  const shown = ids.length > 10 ? `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more` : ids.join(', ')
  return {
    gate: 'recurrence',
    result: 'skip',
    reason: `skipped by recurrence: ${f.action} succeeded on ${describeTarget(f.target)} for ${ids.length} problems in the last ${humanDuration(r.perMs)} (${shown}); the fix does not last, a person should look`,
  }
}

/** Pure: the decision of SPEC 9 for these facts. */
export function decideGates (f: GateFacts): GateDecision {
  const results = evaluateGates(f)
  const stopped = (r: GateResult): r is Extract<GateResult, { reason: string }> => r.result !== 'pass'
  const pause = results[0]
  if (pause !== undefined && stopped(pause)) return { decision: 'skip', gate: 'pause', reason: pause.reason, results }
  const dryRun = f.mode !== 'live' || f.ruleDryRun
  if (dryRun) {
    const notes = results.slice(2).filter(stopped).map((r) => {
      if (r.result === 'approval') return `would be held for approval: ${r.reason}`
      return `would be ${r.result === 'wait' ? 'held' : 'skipped'} by ${r.gate}: ${r.reason.replace(/^skipped by [^:]+: /, '')}`
    })
    return { decision: 'run', dryRun: true, results, notes }
  }
  const first = results.find(stopped)
  if (first === undefined) return { decision: 'run', dryRun: false, results, notes: [] }
  if (first.result === 'wait') return { decision: 'wait', gate: 'lock', reason: first.reason, results }
  if (first.result === 'approval') return { decision: 'approval', reason: first.reason, results }
  return { decision: 'skip', gate: first.gate, reason: first.reason, results }
}
