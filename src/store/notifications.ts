/**
 * Storing notifications, with group commit. Each webhook request waits for its notification to
 * be committed before it is answered (SPEC 4: nothing answered 202 may be lost). One commit per
 * request would cap intake at the engine's commit rate, so requests that arrive while a commit is
 * in flight are gathered and written together by the next one: a single statement inserts the
 * batch, skips duplicates by `dedupe_key`, and enqueues one job per inserted row — atomically, so
 * a notification is never stored without its work or its work without it.
 */
import type { NewNotification } from '../domain/notification.js'
import { DtrError, isDtrError } from '../errors.js'
import type { Database, Queryable } from './db.js'

export type { NewNotification }

export interface RecordResult {
  readonly status: 'accepted' | 'duplicate'
  readonly notificationId: string
}

export interface StoredNotification {
  readonly id: string
  readonly kind: 'problem' | 'security'
  readonly problemId: string
  readonly displayId: string | null
  readonly state: string | null
  readonly body: unknown
  readonly receivedAt: Date
}

export const NOTIFICATION_QUEUE = 'notification'

interface Pending {
  readonly notification: NewNotification
  resolve(result: RecordResult): void
  reject(err: unknown): void
}

const INSERT_BATCH = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS x(id text, kind text, problem_id text, display_id text, state text, dedupe_key text, body jsonb)
), inserted AS (
  INSERT INTO notifications (id, kind, problem_id, display_id, state, dedupe_key, body)
  SELECT id, kind, problem_id, display_id, state, dedupe_key, body FROM input
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id, dedupe_key
), enqueued AS (
  INSERT INTO jobs (queue, key, payload)
  SELECT '${NOTIFICATION_QUEUE}', id, jsonb_build_object('notificationId', id) FROM inserted
  ON CONFLICT (queue, key) DO NOTHING
)
SELECT id, dedupe_key FROM inserted`

export interface NotificationStoreOptions {
  /** Most notifications written by one statement. */
  readonly maxBatch?: number
  /** Most notifications waiting for a commit before new ones are refused as overload. */
  readonly maxPending?: number
}

export interface NotificationStore {
  /** Resolves once the notification (or the one it duplicates) is committed. */
  record(notification: NewNotification): Promise<RecordResult>
  get(id: string): Promise<StoredNotification | undefined>
  listByProblem(kind: 'problem' | 'security', problemId: string): Promise<StoredNotification[]>
  count(): Promise<number>
  /** Notifications waiting for the next commit. */
  pending(): number
  /** Resolves when everything accepted so far is committed (shutdown). */
  drain(): Promise<void>
}

interface Row {
  id: string
  kind: 'problem' | 'security'
  problem_id: string
  display_id: string | null
  state: string | null
  body: unknown
  received_at: Date
}

const toStored = (r: Row): StoredNotification => ({
  id: r.id, kind: r.kind, problemId: r.problem_id, displayId: r.display_id, state: r.state, body: r.body, receivedAt: r.received_at,
})

export function createNotificationStore (db: Database, options: NotificationStoreOptions = {}): NotificationStore {
  const maxBatch = options.maxBatch ?? 500
  const maxPending = options.maxPending ?? 10_000
  let queue: Pending[] = []
  let flushing: Promise<void> | undefined

  async function writeBatch (tx: Queryable, batch: readonly Pending[]): Promise<void> {
    const input = batch.map(({ notification: n }) => ({
      id: n.id, kind: n.kind, problem_id: n.problemId, display_id: n.displayId ?? null, state: n.state ?? null, dedupe_key: n.dedupeKey, body: n.body,
    }))
    const inserted = await tx.query<{ id: string, dedupe_key: string }>(INSERT_BATCH, [JSON.stringify(input)])
    const insertedIds = new Set(inserted.map((r) => r.id))
    const winners = new Map(inserted.map((r) => [r.dedupe_key, r.id]))
    const missing = [...new Set(batch.filter((p) => !winners.has(p.notification.dedupeKey)).map((p) => p.notification.dedupeKey))]
    if (missing.length > 0) {
      const existing = await tx.query<{ id: string, dedupe_key: string }>('SELECT id, dedupe_key FROM notifications WHERE dedupe_key = ANY($1::text[])', [missing])
      for (const r of existing) winners.set(r.dedupe_key, r.id)
    }
    for (const p of batch) {
      const winner = winners.get(p.notification.dedupeKey)
      if (winner === undefined) {
        p.reject(new DtrError('DTR_ERR_STORE', 'A notification was neither inserted nor found as a duplicate'))
      } else {
        p.resolve({ status: insertedIds.has(p.notification.id) ? 'accepted' : 'duplicate', notificationId: winner })
      }
    }
  }

  // Waiting one macrotask before each batch is what makes group commit work: requests whose
  // bodies were read in this turn of the event loop are queued by then. Continuing straight
  // after a commit (a microtask) would run before any new request is read, and commit them one
  // by one.
  const nextTurn = async (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

  async function flushLoop (): Promise<void> {
    await nextTurn()
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch)
      queue = queue.slice(batch.length)
      try {
        await writeBatch(db, batch)
      } catch (err) {
        // 503, not 500: nothing was stored, and Dynatrace resends on a 5xx.
        const failure = isDtrError(err) ? err : new DtrError('DTR_ERR_STORE', 'The notification could not be stored; retry later', { cause: err })
        for (const p of batch) p.reject(failure)
      }
      await nextTurn()
    }
    flushing = undefined
  }

  return {
    record (notification) {
      if (queue.length >= maxPending) {
        return Promise.reject(new DtrError('DTR_ERR_UNAVAILABLE', `Too many notifications waiting to be stored (${queue.length}); retry later`))
      }
      return new Promise<RecordResult>((resolve, reject) => {
        queue.push({ notification, resolve, reject })
        flushing ??= flushLoop()
      })
    },
    async get (id) {
      const rows = await db.query<Row>('SELECT * FROM notifications WHERE id = $1', [id])
      return rows[0] === undefined ? undefined : toStored(rows[0])
    },
    async listByProblem (kind, problemId) {
      const rows = await db.query<Row>('SELECT * FROM notifications WHERE kind = $1 AND problem_id = $2 ORDER BY received_at, id', [kind, problemId])
      return rows.map(toStored)
    },
    async count () {
      return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications'))[0]?.n ?? 0
    },
    pending: () => queue.length,
    async drain () {
      for (let current = flushing; current !== undefined; current = flushing) await current
    },
  }
}
