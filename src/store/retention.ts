/**
 * Retention (DTR_RETENTION, SPEC 3): what is older than the cut-off goes, in small batches so
 * that no pass holds the writer for long. Kept regardless of age:
 * - every notification of a problem still open, i.e. whose latest notification has a State
 *   other than RESOLVED or CLOSED (security notifications carry no State; they go by age);
 * - a notification whose job is not finished;
 * - jobs that are ready or active.
 * What a cooldown or budget window needs is kept by the caller's choice of cut-off: the pruner
 * refuses a retention shorter than the longest window (plugins/retention.ts).
 */
import type { StoreContext } from './context.js'
import { NOTIFICATION_QUEUE } from './notifications.js'

export interface PruneResult {
  readonly notifications: number
  readonly jobs: number
}

export interface RetentionStore {
  /** Deletes up to `limit` notifications and `limit` finished jobs older than `cutoff` (ms since the epoch). */
  pruneBatch(cutoff: number, limit: number): Promise<PruneResult>
  /** Housekeeping after a pass (SQLite: checkpoint and truncate the WAL). */
  afterPrune(): Promise<void>
}

const CLOSED_STATES = ['RESOLVED', 'CLOSED']

export function createRetentionStore ({ db, dialect }: StoreContext): RetentionStore {
  return {
    async pruneBatch (cutoff, limit) {
      const jobs = await db.deleteFrom('jobs').where('id', 'in', db.selectFrom('jobs').select('id')
        .where('state', 'in', ['done', 'failed']).where('updated_at', '<', cutoff).limit(limit))
        .executeTakeFirst()

      const prunable = db.selectFrom('notifications as n').select('n.id')
        .where('n.received_at', '<', cutoff)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('jobs as j').select('j.id')
          .where('j.queue', '=', NOTIFICATION_QUEUE).whereRef('j.key', '=', 'n.id').where('j.state', 'in', ['ready', 'active']))))
        .where((eb) => eb.not(eb.and([
          eb('n.kind', '=', 'problem'),
          // The problem's latest notification (all of them, if several share its time) says open.
          eb.exists(eb.selectFrom('notifications as l').select('l.id')
            .whereRef('l.kind', '=', 'n.kind').whereRef('l.problem_id', '=', 'n.problem_id')
            .where('l.received_at', '=', (sub) => sub.selectFrom('notifications as m').select((m) => m.fn.max('m.received_at').as('latest'))
              .whereRef('m.kind', '=', 'n.kind').whereRef('m.problem_id', '=', 'n.problem_id'))
            .where((l) => l.or([l('l.state', 'is', null), l('l.state', 'not in', CLOSED_STATES)]))),
        ])))
        .limit(limit)
      const notifications = await db.deleteFrom('notifications').where('id', 'in', prunable).executeTakeFirst()
      return { notifications: Number(notifications.numDeletedRows), jobs: Number(jobs.numDeletedRows) }
    },
    afterPrune: async () => dialect.afterPrune(db),
  }
}
