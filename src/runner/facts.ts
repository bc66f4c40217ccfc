/** What a run keeps of its planning (its `facts`), and what its write-backs say around its outcome. */
import type { DeploymentEvent, EntityRef, ProblemInfo } from '../domain/problem.js'
import type { EnvSite } from '../domain/rules/placeholders.js'
import type { CommentContext } from '../domain/writeback/index.js'
import type { RunRecord } from '../store/runs.js'

/** What a run keeps of its planning, for execution, comments and the audit. */
export interface RunFacts {
  readonly entity: EntityRef
  readonly problem: ProblemInfo
  readonly deploymentEvent: DeploymentEvent | undefined
  readonly targetSource: string | undefined
  /** The plan's `plannedAt`: every attempt receives it. */
  readonly plannedAt: number
  readonly foundBy: 'webhook' | 'reconcile'
  /**
   * Only on a run without an entity of its own (`*`, once per rule and occurrence) of a security
   * problem: the affected entities of its type, which its event goes on. Every other run keeps its
   * own entity only: a copy of all impacted ids in each of a problem's runs made storage grow
   * with the square of the entity count (500 entities: 6.95 MB).
   */
  readonly entities?: readonly string[]
  /** Where the rule's text had `${env:…}` in the run's params (absent on runs stored before they were kept). */
  readonly envSites?: readonly EnvSite[]
}

export const factsOf = (run: RunRecord): RunFacts => run.facts as unknown as RunFacts

/** Pure: what a comment says around a run's outcome. */
export function commentContext (run: RunRecord, extra: { next?: string, durationMs?: number } = {}): CommentContext {
  const facts = factsOf(run)
  const event = facts.deploymentEvent
  const start = facts.problem.startTime
  return {
    steps: run.settings.steps,
    entityName: facts.entity.name,
    trigger: event === undefined || start === undefined ? undefined : { title: event.title, beforeProblemMs: Math.max(0, start - event.startTime) },
    durationMs: extra.durationMs,
    foundBy: facts.foundBy,
    next: extra.next,
    gates: run.state === 'dry_run' && run.reason !== null ? run.reason : undefined,
  }
}
