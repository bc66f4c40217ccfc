/**
 * A notification kind's runner half: what the runner does differently for it, over the domain
 * half (src/domain/kinds/). How its body's facts are completed from what the body carries in the
 * API's shapes, how the API is read for it during enrichment, how its status is read before
 * acting and verifying, and how reconciliation lists it. One module per kind (./problem.ts,
 * ./security.ts), registered by name in ./index.ts.
 */
import type { ProblemStatus } from '../../domain/decide/verdict.js'
import type { Evidence, ImpactedEntity, ProblemFacts } from '../../domain/enrichment.js'
import type { NotificationFacts, NotificationKindModule } from '../../domain/kinds/index.js'
import type { DynatraceClient } from '../../dynatrace/client.js'
import type { KindReport, ReconcileContext } from '../reconcile/take.js'

/** The reads enrichment makes; the full client satisfies it, tests may pass a fake. */
export type EnrichmentSource = Pick<DynatraceClient, 'getProblem' | 'getEntity' | 'getEntities' | 'getEvents' | 'getSecurityProblem' | 'findSecurityProblemByDisplayId'>

/** The problem's facts over the body's, from one answer of its API (enrichment's read). */
export type ProblemRead = (base: ProblemFacts) => { problem: ProblemFacts, evidence: Evidence[] }

/**
 * One read of the problem's API, as the runner asks it before planning: its status, and — when the
 * problem was found — the facts enrichment takes from the same answer instead of reading again.
 */
export interface StatusRead {
  readonly status: ProblemStatus
  readonly read: ProblemRead | undefined
}

/** A notification's facts from its body alone, as enrichment starts from them. */
export interface BodyFacts {
  readonly problem: ProblemFacts
  readonly entities: ImpactedEntity[]
  readonly evidence: Evidence[]
  /** The body carried the API's problem (ProblemDetailsJSONv2). */
  readonly hasDetails: boolean
}

export interface RunnerKind {
  readonly domain: NotificationKindModule
  /** The body's facts completed from the API-shaped parts the body carries. Pure. */
  bodyFacts(facts: NotificationFacts): BodyFacts
  /** What the facts came from when the API is not configured, for the enrichment note. */
  knownFrom(facts: BodyFacts): string
  /** The problem as the API knows it, over the body's facts. Throws when it cannot be read. */
  readProblem(dt: EnrichmentSource, base: ProblemFacts, problemId: string, signal: AbortSignal | undefined): Promise<{ problem: ProblemFacts, evidence: Evidence[] }>
  /** How the note names it when that read fails (`the problem`). */
  readonly readSubject: string
  /** Whether deployment events are looked for (`deployedWithin` rules are for problems). */
  readonly readsDeploymentEvents: boolean
  /**
   * Open, closed or unreadable, as Dynatrace says now, and the answer's facts for enrichment.
   * Throws when the read fails.
   */
  status(dt: DynatraceClient, problemId: string, signal: AbortSignal | undefined, after?: number): Promise<StatusRead>
  /** Its field in the reconciliation pass's report and log line (`problems`, `security`). */
  readonly reportName: string
  /** One reconciliation pass over this kind (SPEC 8); undefined when it was not listed. */
  reconcile(ctx: ReconcileContext): Promise<KindReport | undefined>
}
