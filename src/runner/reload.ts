/**
 * What a rules reload means for runs that have not started (SPEC 9): a run whose rule, or whose
 * ladder step, the new rules no longer have is cancelled at once, "rule removed by a reload" —
 * approving it then answers 409 (state `cancelled`). Admission asks the same question of every
 * run it meets (ruleGone), since another replica may not have reloaded yet, or may have planned
 * the run with its old rules after this one reloaded.
 */
import type { LoadedRules } from '../domain/rules/types.js'
import type { RunState } from '../domain/runs.js'
import type { RunRecord } from '../store/runs.js'
import type { RunnerDeps } from './deps.js'
import { finishRun } from './finish.js'

const RULE_REMOVED = 'rule removed by a reload'

/** Pure: why the run's rule or ladder step is not in `rules` (any more), or undefined when it is. */
export function ruleGone (rules: LoadedRules, run: Pick<RunRecord, 'rule' | 'step' | 'action'>): string | undefined {
  const rule = rules.rules.find((r) => r.name === run.rule)
  if (rule === undefined) return `${RULE_REMOVED}: rule ${run.rule} is no longer in the rules file`
  const step = rule.ladder[run.step]
  if (step === undefined) return `${RULE_REMOVED}: rule ${run.rule} has no step ${run.step + 1} any more`
  if (step.use !== run.action) return `${RULE_REMOVED}: step ${run.step + 1} of rule ${run.rule} now uses ${step.use}, not ${run.action}`
  return undefined
}

const NOT_STARTED: readonly RunState[] = ['queued', 'awaiting_approval']

/** Cancels the not-started runs of rules or steps the new rules lack; returns how many. */
export async function cancelRemovedRuns (deps: RunnerDeps, rules: LoadedRules): Promise<number> {
  let cancelled = 0
  for (const state of NOT_STARTED) {
    let cursor: string | undefined
    do {
      const page = await deps.store.runs.list({ state, limit: 200, cursor })
      cursor = page.nextCursor ?? undefined
      for (const view of page.runs) {
        const run = await deps.store.runs.get(view.id)
        if (run === undefined || !NOT_STARTED.includes(run.state)) continue
        const reason = ruleGone(rules, run)
        if (reason === undefined) continue
        // finishRun moves it only from the state read: an approval that won the race is started work.
        if (await finishRun(deps, run, [run.state], 'cancelled', { reason, note: reason })) cancelled++
      }
    } while (cursor !== undefined)
  }
  return cancelled
}
