/**
 * The outbox of write-backs to Dynatrace (SPEC 10): a result comment per run, a verdict comment
 * per verification, the approval request — or, for security problems, an ingested event. A
 * write-back is added in the same transaction as the state change it reports, with a
 * `writeback` job to deliver it, so none is lost across crashes and none is added twice (one row
 * per key). It stays pending through a Dynatrace outage until delivered, or until Dynatrace
 * refuses it for good (a 4xx other than 429).
 */
import { randomUUID } from 'node:crypto'
import type { StoreContext } from './context.js'
import { createJobQueue } from './queue.js'

export const WRITEBACK_QUEUE = 'writeback'

export interface NewWriteBack {
  /** `result:<run>`, `verdict:<run>`, `approval:<run>`. */
  readonly key: string
  readonly runId: string
  readonly kind: 'comment' | 'event'
  /** The problem's PID (comments) or the security problem's id (events). */
  readonly problemId: string
  readonly payload: unknown
  readonly marker: string
}

export interface WriteBack extends NewWriteBack {
  readonly id: string
  readonly state: 'pending' | 'delivered' | 'failed'
  readonly attempts: number
  readonly lastError: string | null
  readonly createdAt: number
  readonly deliveredAt: number | null
}

export interface OutboxStore {
  /** Adds the write-back and its delivery job, unless one with this key exists; returns its id when added. */
  add(item: NewWriteBack): Promise<string | undefined>
  get(id: string): Promise<WriteBack | undefined>
  byRun(runId: string): Promise<WriteBack[]>
  delivered(id: string): Promise<void>
  /** An attempt that failed and will be tried again. */
  attempted(id: string, error: string): Promise<void>
  /** Refused for good. */
  failed(id: string, error: string): Promise<void>
  /** Pending write-backs and the oldest one's creation time (the metrics). */
  backlog(): Promise<{ pending: number, oldestAt: number | null }>
}

export function createOutboxStore (ctx: StoreContext): OutboxStore {
  const { db, dialect, clock } = ctx
  const jobs = createJobQueue(ctx)
  const toWriteBack = (r: { id: string, key: string, run_id: string, kind: 'comment' | 'event', problem_id: string, payload: unknown, marker: string, state: 'pending' | 'delivered' | 'failed', attempts: number, last_error: string | null, created_at: number, delivered_at: number | null }): WriteBack => ({
    id: r.id,
    key: r.key,
    runId: r.run_id,
    kind: r.kind,
    problemId: r.problem_id,
    payload: dialect.fromJson(r.payload),
    marker: r.marker,
    state: r.state,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  })
  return {
    async add (item) {
      const id = randomUUID()
      const rows = await db.insertInto('outbox').values({
        id,
        key: item.key,
        run_id: item.runId,
        kind: item.kind,
        problem_id: item.problemId,
        payload: dialect.toJson(item.payload),
        marker: item.marker,
        state: 'pending',
        attempts: 0,
        last_error: null,
        created_at: clock.now(),
        delivered_at: null,
      }).onConflict((oc) => oc.column('key').doNothing()).returning('id').execute()
      if (rows.length === 0) return undefined
      await jobs.enqueue(WRITEBACK_QUEUE, id, { writeBackId: id })
      return id
    },
    async get (id) {
      const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? undefined : toWriteBack(row)
    },
    async byRun (runId) {
      return (await db.selectFrom('outbox').selectAll().where('run_id', '=', runId).orderBy('created_at').execute()).map(toWriteBack)
    },
    async delivered (id) {
      await db.updateTable('outbox').set((eb) => ({ state: 'delivered', delivered_at: clock.now(), attempts: eb('attempts', '+', 1) })).where('id', '=', id).execute()
    },
    async attempted (id, error) {
      await db.updateTable('outbox').set((eb) => ({ last_error: error, attempts: eb('attempts', '+', 1) })).where('id', '=', id).execute()
    },
    async failed (id, error) {
      await db.updateTable('outbox').set((eb) => ({ state: 'failed', last_error: error, attempts: eb('attempts', '+', 1) })).where('id', '=', id).execute()
    },
    async backlog () {
      const row = await db.selectFrom('outbox').select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('created_at').as('oldest')]).where('state', '=', 'pending').executeTakeFirst()
      return { pending: Number(row?.n ?? 0), oldestAt: row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest) }
    },
  }
}
