/**
 * Whether a problem is open, as the runner asks just before it acts and when it verifies: our own
 * record first (a RESOLVED that arrived closes it), then the Problems API (or the Security
 * Problems API, which knows a security problem by its internal id, so an `S-…` display id is
 * looked up first). A read that fails is `unreadable` — never taken as open or closed.
 */
import type { ProblemStatus } from '../domain/decide/verdict.js'
import type { DynatraceClient } from '../dynatrace/client.js'
import type { Problem } from '../dynatrace/schemas.js'
import type { Store } from '../store/index.js'

export interface StatusQuery {
  readonly kind: 'problem' | 'security'
  readonly problemId: string
  readonly occurrence: number
}

/**
 * Problem reads in flight, per client: the runs of one problem that start together (a problem
 * with hundreds of entities) share one GET /problems/{id} instead of one each. Only reads in
 * flight are shared: one that starts after the last answered asks Dynatrace again, so no run acts
 * on an older status than it would have read alone.
 */
const inFlight = new WeakMap<DynatraceClient, Map<string, Promise<Problem>>>()

async function sharedProblemRead (dynatrace: DynatraceClient, problemId: string, signal: AbortSignal | undefined): Promise<Problem> {
  let reads = inFlight.get(dynatrace)
  if (reads === undefined) {
    reads = new Map()
    inFlight.set(dynatrace, reads)
  }
  let read = reads.get(problemId)
  if (read === undefined) {
    const started = dynatrace.getProblem(problemId).finally(() => reads.delete(problemId))
    reads.set(problemId, started)
    read = started
  }
  if (signal === undefined) return read
  signal.throwIfAborted()
  // The shared read is not this caller's to cancel; its abort only stops its own wait.
  return new Promise<Problem>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    read.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** What Dynatrace says now: undefined without it, `unreadable` when the read failed. */
export async function dynatraceStatus (kind: 'problem' | 'security', problemId: string, dynatrace: DynatraceClient | undefined, signal?: AbortSignal): Promise<ProblemStatus | undefined> {
  if (dynatrace === undefined) return undefined
  try {
    if (kind === 'problem') {
      const problem = await sharedProblemRead(dynatrace, problemId, signal)
      return problem.status === 'CLOSED' ? 'closed' : problem.status === 'OPEN' ? 'open' : 'unreadable'
    }
    const id = /^S-\d+$/i.test(problemId) ? (await dynatrace.findSecurityProblemByDisplayId(problemId, signal))?.securityProblemId : problemId
    if (id === undefined) return 'unreadable'
    const status = (await dynatrace.getSecurityProblem(id, signal)).status
    return status === 'RESOLVED' ? 'closed' : status === 'OPEN' ? 'open' : 'unreadable'
  } catch (err) {
    if (signal?.aborted === true) throw err
    return 'unreadable'
  }
}

/** `closed` when our record closed this occurrence (or a later one began); else what Dynatrace says. */
export async function problemStatus (q: StatusQuery, store: Store, dynatrace: DynatraceClient | undefined, signal?: AbortSignal): Promise<ProblemStatus | undefined> {
  const tracked = await store.problems.get(q.kind, q.problemId)
  if (tracked !== undefined && (tracked.occurrence > q.occurrence || (tracked.occurrence === q.occurrence && tracked.status === 'closed'))) return 'closed'
  return dynatraceStatus(q.kind, q.problemId, dynatrace, signal)
}
