/**
 * Whether a problem is open, as the runner asks just before it acts and when it verifies: our own
 * record first (a RESOLVED that arrived closes it), then the API its kind is read from
 * (src/runner/kinds/). A read that fails is `unreadable` — never taken as open or closed.
 */
import type { ProblemStatus } from '../domain/decide/verdict.js'
import type { DynatraceClient } from '../dynatrace/client.js'
import type { NotificationKind } from '../domain/payload.js'
import type { Store } from '../store/index.js'
import { runnerKind, statusReadMark, type ProblemRead } from './kinds/index.js'

export interface StatusQuery {
  readonly kind: NotificationKind
  readonly problemId: string
  readonly occurrence: number
}

/**
 * What Dynatrace says now (undefined without it, `unreadable` when the read failed) and, when the
 * problem was read, its facts from the same answer: planning enriches from them rather than
 * reading the problem a second time a moment later.
 */
export async function dynatraceRead (kind: NotificationKind, problemId: string, dynatrace: DynatraceClient | undefined, signal?: AbortSignal, after?: number): Promise<{ status: ProblemStatus | undefined, read: ProblemRead | undefined }> {
  if (dynatrace === undefined) return { status: undefined, read: undefined }
  try {
    return await runnerKind(kind).status(dynatrace, problemId, signal, after)
  } catch (err) {
    if (signal?.aborted === true) throw err
    return { status: 'unreadable', read: undefined }
  }
}

/**
 * What Dynatrace says now: undefined without it, `unreadable` when the read failed. `after`: a
 * mark taken before the caller read our record (`statusReadMark`): no read sent before it is shared.
 */
export async function dynatraceStatus (kind: NotificationKind, problemId: string, dynatrace: DynatraceClient | undefined, signal?: AbortSignal, after?: number): Promise<ProblemStatus | undefined> {
  return (await dynatraceRead(kind, problemId, dynatrace, signal, after)).status
}

/** `closed` when our record closed this occurrence (or a later one began); else what Dynatrace says. */
export async function problemStatus (q: StatusQuery, store: Store, dynatrace: DynatraceClient | undefined, signal?: AbortSignal): Promise<ProblemStatus | undefined> {
  // The API's answer must be newer than the record's read, or a RESOLVED between them is missed.
  const mark = statusReadMark()
  const tracked = await store.problems.get(q.kind, q.problemId)
  if (tracked !== undefined && (tracked.occurrence > q.occurrence || (tracked.occurrence === q.occurrence && tracked.status === 'closed'))) return 'closed'
  return dynatraceStatus(q.kind, q.problemId, dynatrace, signal, mark)
}
