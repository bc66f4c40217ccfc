/**
 * The safety gates (SPEC section 9): a table of named gates in their order — kill switch → mode /
 * the rule's dryRun → scope → maxTargetsPerProblem → cooldown → recurrence → budgets → per-target
 * lock → approval — each a pure function of the facts the store read. Adding a gate is one entry
 * in GATE_TABLE (and its facts in GateFacts, read by src/runner/gates.ts).
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

/** What a gate says when it does not pass: skip the run, wait (for the lock), or ask for approval. */
export interface GateStop {
  readonly result: 'skip' | 'wait' | 'approval'
  readonly reason: string
}

interface GateSpec {
  readonly name: string
  /**
   * What the gate does to a dry run: `stops` it too (the kill switch: dry runs still call the
   * Kubernetes API), `makes` it (the gate that stops a live run is what makes it a dry run), or is
   * `reported` ("would be skipped by cooldown: …") while the dry run goes ahead.
   */
  readonly inDryRun: 'stops' | 'makes' | 'reported'
  /** Pure: undefined when the gate passes. */
  readonly check: (f: GateFacts) => GateStop | undefined
}

/** Pure: what the run acts on, as a reason names it. */
const subjectOf = (f: GateFacts): string => (f.target === null ? f.problemLabel : describeTarget(f.target))

/** The gates in SPEC order: live, the first that does not pass decides. */
const GATE_TABLE = [
  {
    name: 'pause',
    inDryRun: 'stops',
    check: (f) => f.paused === null ? undefined : { result: 'skip', reason: `skipped by the kill switch: paused by ${f.paused.by} ${humanDuration(f.now - f.paused.since)} ago (${f.paused.reason})` },
  },
  {
    name: 'mode',
    inDryRun: 'makes',
    check: (f) => f.mode === 'live' && !f.ruleDryRun ? undefined : { result: 'skip', reason: f.mode !== 'live' ? 'dry-run mode' : 'the rule sets dryRun: true' },
  },
  { name: 'scope', inDryRun: 'reported', check: scopeGate },
  {
    name: 'maxTargets',
    inDryRun: 'reported',
    check: (f) => f.targets.count <= f.targets.max ? undefined : { result: 'skip', reason: `skipped by maxTargetsPerProblem: ${f.problemLabel} resolves to ${f.targets.count} targets, more than ${f.targets.max}` },
  },
  {
    name: 'cooldown',
    inDryRun: 'reported',
    check: (f) => {
      const last = f.cooldown.last
      if (last === null || f.now - last.at >= f.cooldown.windowMs) return undefined
      return { result: 'skip', reason: `skipped by cooldown: ${f.action} ran on ${subjectOf(f)} ${humanDuration(f.now - last.at)} ago (run ${last.runId}), cooldown ${humanDuration(f.cooldown.windowMs)}` }
    },
  },
  { name: 'recurrence', inDryRun: 'reported', check: recurrenceGate },
  {
    name: 'budget',
    inDryRun: 'reported',
    check: (f) => {
      const spent = f.budgets.find((b) => b.used >= b.max)
      if (spent === undefined) return undefined
      return { result: 'skip', reason: `skipped by budget: ${spent.used} live runs ${spent.scope === 'global' ? 'in all' : `in ${spent.scope} ${spent.key}`} in the last ${humanDuration(spent.perMs)}, at most ${spent.max}` }
    },
  },
  {
    name: 'lock',
    inDryRun: 'reported',
    check: (f) => f.lockedBy === null ? undefined : { result: 'wait', reason: `waiting for the lock on ${subjectOf(f)}, held by run ${f.lockedBy}` },
  },
  {
    name: 'approval',
    inDryRun: 'reported',
    check: (f) => !f.approval.required || f.approval.approvedBy !== null ? undefined : { result: 'approval', reason: `awaiting approval to run ${f.action} on ${subjectOf(f)}` },
  },
] as const satisfies readonly GateSpec[]

export type Gate = (typeof GATE_TABLE)[number]['name']

export type GateResult =
  | { readonly gate: Gate, readonly result: 'pass' }
  | { readonly gate: Gate, readonly result: 'skip' | 'wait' | 'approval', readonly reason: string }

export type GateDecision =
  | { readonly decision: 'run', readonly dryRun: boolean, readonly results: readonly GateResult[], readonly notes: readonly string[] }
  | { readonly decision: 'skip', readonly gate: Gate, readonly reason: string, readonly results: readonly GateResult[] }
  | { readonly decision: 'wait', readonly gate: Gate, readonly reason: string, readonly results: readonly GateResult[] }
  | { readonly decision: 'approval', readonly reason: string, readonly results: readonly GateResult[] }

/** Pure: the scope gate: denied namespaces, the allow list, the workload's opt-out annotation. */
function scopeGate (f: GateFacts): GateStop | undefined {
  const ns = f.target?.namespace
  if (ns === undefined) return undefined
  if (f.scope.deny.includes(ns)) return { result: 'skip', reason: `skipped by scope: namespace ${ns} is denied (kubernetes.namespaces.deny)` }
  if (f.scope.allow !== undefined && !f.scope.allow.includes(ns)) return { result: 'skip', reason: `skipped by scope: namespace ${ns} is not in kubernetes.namespaces.allow [${f.scope.allow.join(', ')}]` }
  if (f.scope.skipAnnotation) return { result: 'skip', reason: `skipped by scope: ${subjectOf(f)} is annotated dt-remediator.io/skip: "true"` }
  return undefined
}

/** Pure: the recurrence gate (SPEC 9): `count` or more other problems fixed by this action on this target within `per`. */
function recurrenceGate (f: GateFacts): GateStop | undefined {
  const r = f.recurrence
  if (r === undefined || r.count <= 0 || f.target === null || r.problems.length < r.count) return undefined
  const ids = r.problems.map((p) => p.displayId ?? p.problemId)
  const shown = ids.length > 10 ? `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more` : ids.join(', ')
  return {
    result: 'skip',
    reason: `skipped by recurrence: ${f.action} succeeded on ${describeTarget(f.target)} for ${ids.length} problems in the last ${humanDuration(r.perMs)} (${shown}); the fix does not last, a person should look`,
  }
}

const IN_DRY_RUN = new Map<Gate, GateSpec['inDryRun']>(GATE_TABLE.map((g) => [g.name, g.inDryRun]))

/** Pure: every gate's result for these facts, in SPEC order. */
export function evaluateGates (f: GateFacts): GateResult[] {
  return GATE_TABLE.map((g): GateResult => {
    const stop = (g.check as GateSpec['check'])(f)
    return stop === undefined ? { gate: g.name, result: 'pass' } : { gate: g.name, ...stop }
  })
}

/** Pure: the decision of SPEC 9 for these facts. */
export function decideGates (f: GateFacts): GateDecision {
  const results = evaluateGates(f)
  const stops = results.filter((r): r is Extract<GateResult, { reason: string }> => r.result !== 'pass')
  const halt = stops.find((r) => IN_DRY_RUN.get(r.gate) === 'stops')
  if (halt !== undefined) return { decision: 'skip', gate: halt.gate, reason: halt.reason, results }
  if (stops.some((r) => IN_DRY_RUN.get(r.gate) === 'makes')) {
    const notes = stops.filter((r) => IN_DRY_RUN.get(r.gate) === 'reported').map((r) => {
      if (r.result === 'approval') return `would be held for approval: ${r.reason}`
      return `would be ${r.result === 'wait' ? 'held' : 'skipped'} by ${r.gate}: ${r.reason.replace(/^skipped by [^:]+: /, '')}`
    })
    return { decision: 'run', dryRun: true, results, notes }
  }
  const first = stops[0]
  if (first === undefined) return { decision: 'run', dryRun: false, results, notes: [] }
  if (first.result === 'wait') return { decision: 'wait', gate: first.gate, reason: first.reason, results }
  if (first.result === 'approval') return { decision: 'approval', reason: first.reason, results }
  return { decision: 'skip', gate: first.gate, reason: first.reason, results }
}
