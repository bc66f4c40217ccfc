/** A problem as the admin API and the console look it up (SPEC 11): by PID, display id or security problem id. */
import type { Store } from '../store/index.js'

/** Its runs, notifications and tracked occurrence; undefined when nothing of it reached dt-remediator. */
export async function lookUpProblem (store: Pick<Store, 'runs' | 'notifications' | 'problems'>, pid: string) {
  const runs = await store.runs.byProblem(pid)
  const problemId = runs[0]?.problemId ?? pid
  // Without a run to say which, an `S-…` display id is a security problem's.
  const kind = runs[0]?.kind ?? (/^S-\d+$/i.test(pid) ? 'security' : 'problem')
  const notifications = await store.notifications.listByProblem(kind, problemId)
  const tracked = await store.problems.get(kind, problemId)
  if (runs.length === 0 && notifications.length === 0 && tracked === undefined) return undefined
  return { runs, problemId, kind, notifications, tracked }
}
