/**
 * Retention (DTR_RETENTION, SPEC 3): what is older than the cut-off goes, in small batches so
 * that no pass holds the writer for long. Kept regardless of age:
 * - every notification of a problem still open, i.e. whose latest notification has a State
 *   other than RESOLVED or CLOSED (security notifications carry no State; they go by age);
 * - a notification whose job is not finished;
 * - jobs that are ready or active;
 * - every run of a problem whose occurrence is still open, and every run not finished (its
 *   timeline and pending write-backs with it); a finished run goes with its timeline and its
 *   delivered or refused write-backs (the comments stay in Dynatrace);
 * - the problem's record while any of its runs remains.
 * What a cooldown or budget window needs is kept by the caller's choice of cut-off: the pruner
 * refuses a retention shorter than the longest window (plugins/retention.ts).
 */
import type { StoreContext } from './context.js'
import { NOTIFICATION_QUEUE } from './notifications.js'

export interface PruneResult {
  readonly notifications: number
  readonly jobs: number
  /** Finished runs, with their timelines and delivered write-backs. */
  readonly runs: number
}

export interface RetentionStore {
  /** Deletes up to `limit` notifications and `limit` finished jobs older than `cutoff` (ms since the epoch). */
  pruneBatch(cutoff: number, limit: number): Promise<PruneResult>
  /** Housekeeping after a pass (SQLite: checkpoint and truncate the WAL). */
  afterPrune(): Promise<void>
}

const CLOSED_STATES = ['RESOLVED', 'CLOSED']

const FINAL_RUN_STATES = ['succeeded', 'failed', 'skipped', 'dry_run', 'cancelled', 'expired']

export function createRetentionStore ({ db, dialect }: StoreContext): RetentionStore {
  /** Finished runs older than the cut-off, of problems not open, with what hangs off them. */
  async function pruneRuns (cutoff: number, limit: number): Promise<number> {
    const old = await db.selectFrom('runs as r').select('r.id')
      .where('r.updated_at', '<', cutoff)
      .where('r.state', 'in', FINAL_RUN_STATES)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('problems as p').select('p.problem_id')
        .whereRef('p.kind', '=', 'r.kind').whereRef('p.problem_id', '=', 'r.problem_id')
        .whereRef('p.occurrence', '=', 'r.occurrence').where('p.status', '=', 'open'))))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('outbox as o').select('o.id')
        .whereRef('o.run_id', '=', 'r.id').where('o.state', '=', 'pending'))))
      .limit(limit).execute()
    const ids = old.map((r) => r.id)
    if (ids.length === 0) return 0
    await db.deleteFrom('run_events').where('run_id', 'in', ids).execute()
    await db.deleteFrom('outbox').where('run_id', 'in', ids).execute()
    const deleted = await db.deleteFrom('runs').where('id', 'in', ids).executeTakeFirst()
    // A closed problem's record goes once none of its runs is left and it closed before the cut-off.
    await db.deleteFrom('problems').where('status', '=', 'closed').where('closed_at', '<', cutoff)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('runs as r').select('r.id').whereRef('r.kind', '=', 'problems.kind').whereRef('r.problem_id', '=', 'problems.problem_id'))))
      .execute()
    return Number(deleted.numDeletedRows)
  }

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
      const runs = await pruneRuns(cutoff, limit)
      // A notification's explanation goes with it (migration 005).
      await db.deleteFrom('explanations').where('created_at', '<', cutoff)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('notifications as n').select('n.id').whereRef('n.id', '=', 'explanations.notification_id'))))
        .execute()
      return { notifications: Number(notifications.numDeletedRows), jobs: Number(jobs.numDeletedRows), runs }
    },
    afterPrune: async () => dialect.afterPrune(db),
  }
}
