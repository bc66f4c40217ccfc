/**
 * The problem kind's runner half: the body's ProblemDetailsJSONv2 read with the Problems API's
 * schema, the problem read from the Problems API (evidence, root cause, tags, zones), its status
 * (reads of one problem in flight shared), and its reconciliation listing.
 */
import type { Evidence, ProblemFacts } from '../../domain/enrichment.js'
import { kindOf } from '../../domain/kinds/index.js'
import { formatTag, type Tag } from '../../domain/tags.js'
import type { DynatraceClient } from '../../dynatrace/client.js'
import { problemSchema, type Problem } from '../../dynatrace/schemas.js'
import { reconcileProblems } from '../reconcile/problems.js'
import { mergedBasics } from './merge.js'
import type { RunnerKind } from './types.js'

export function evidenceOf (p: Problem): Evidence[] {
  return (p.evidenceDetails?.details ?? []).map((d) => ({
    evidenceType: d.evidenceType,
    displayName: d.displayName,
    entityId: d.entity?.entityId.id,
    startTime: d.startTime,
    rootCauseRelevant: d.rootCauseRelevant,
  }))
}

const uniqueTags = (tags: readonly Tag[]): Tag[] => [...new Map(tags.map((t) => [formatTag(t), t])).values()]

/** The v2 problem's facts over what the notification said. */
export function withProblem (base: ProblemFacts, p: Problem): ProblemFacts {
  const evidence = evidenceOf(p)
  return {
    ...base,
    ...mergedBasics(base, p),
    displayId: base.displayId ?? p.displayId,
    severity: base.severity ?? p.severityLevel,
    impact: base.impact ?? p.impactLevel,
    startTime: p.startTime,
    tags: uniqueTags([...base.tags, ...p.entityTags.map((t) => ({ context: t.context, key: t.key, value: t.value }))]),
    maintenanceEntities: [...new Set([...base.maintenanceEntities, ...evidence.filter((e) => e.evidenceType === 'MAINTENANCE_WINDOW' && e.entityId !== undefined).map((e) => e.entityId as string)])],
    underMaintenance: base.underMaintenance ?? (evidence.some((e) => e.evidenceType === 'MAINTENANCE_WINDOW' && e.entityId === undefined) ? true : undefined),
    clusters: p['k8s.cluster.name'] ?? base.clusters,
    rootCause: p.rootCauseEntity == null ? base.rootCause : { id: p.rootCauseEntity.entityId.id, type: p.rootCauseEntity.entityId.type, name: p.rootCauseEntity.name },
  }
}

/**
 * Problem reads in flight, per client: the runs of one problem that start together (a problem
 * with hundreds of entities) share one GET /problems/{id} instead of one each. Only reads in
 * flight are shared: one that starts after the last answered asks Dynatrace again, so no run acts
 * on an older status than it would have read alone. A caller that read our record first passes
 * the mark it took before that read (`statusReadMark`), and joins only a read sent after it: a
 * read sent earlier may have been answered before a RESOLVED the record already shows, and would
 * make that closed record look re-opened.
 */
const inFlight = new WeakMap<DynatraceClient, Map<string, { readonly seq: number, readonly read: Promise<Problem> }>>()
/** Problem reads sent so far, in this process. */
let sent = 0

/** The mark a caller takes before reading our record: reads sent after it are newer than that read. */
export const statusReadMark = (): number => sent

async function sharedProblemRead (dynatrace: DynatraceClient, problemId: string, signal: AbortSignal | undefined, after: number | undefined): Promise<Problem> {
  let reads = inFlight.get(dynatrace)
  if (reads === undefined) {
    reads = new Map()
    inFlight.set(dynatrace, reads)
  }
  let shared = reads.get(problemId)
  if (shared === undefined || (after !== undefined && shared.seq <= after)) {
    const seq = ++sent
    // A newer read replaces an older one for whoever asks next; each forgets only itself.
    const read = dynatrace.getProblem(problemId).finally(() => { if (reads.get(problemId)?.seq === seq) reads.delete(problemId) })
    shared = { seq, read }
    reads.set(problemId, shared)
  }
  const { read } = shared
  if (signal === undefined) return read
  signal.throwIfAborted()
  // The shared read is not this caller's to cancel; its abort only stops its own wait.
  return new Promise<Problem>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    read.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

export const problemRunnerKind: RunnerKind = {
  domain: kindOf('problem'),
  bodyFacts (facts) {
    const entities = [...facts.entities]
    const v2 = problemSchema.safeParse(facts.apiDetails)
    if (!v2.success) return { problem: facts.problem, entities, evidence: [], hasDetails: false }
    for (const stub of v2.data.impactedEntities) {
      const e = entities.find((x) => x.id === stub.entityId.id)
      if (e !== undefined && e.type === 'UNKNOWN' && stub.entityId.type !== undefined) entities[entities.indexOf(e)] = { ...e, type: stub.entityId.type }
    }
    return { problem: withProblem(facts.problem, v2.data), entities, evidence: evidenceOf(v2.data), hasDetails: true }
  },
  knownFrom: (facts) => (facts.hasDetails ? 'the notification and its ProblemDetailsJSONv2' : 'the notification (no ProblemDetailsJSONv2 in the payload template)'),
  async readProblem (dt, base, problemId, signal) {
    const p = await dt.getProblem(problemId, signal)
    return { problem: withProblem(base, p), evidence: evidenceOf(p) }
  },
  readSubject: 'the problem',
  readsDeploymentEvents: true,
  async status (dt, problemId, signal, after) {
    const p = await sharedProblemRead(dt, problemId, signal, after)
    return {
      status: p.status === 'CLOSED' ? 'closed' : p.status === 'OPEN' ? 'open' : 'unreadable',
      read: (base) => ({ problem: withProblem(base, p), evidence: evidenceOf(p) }),
    }
  },
  reportName: 'problems',
  reconcile: reconcileProblems,
}
