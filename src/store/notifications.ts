/**
 * Storing notifications, with group commit. Each webhook request waits for its notification to
 * be committed before it is answered (SPEC 4: nothing answered 202 may be lost). One commit per
 * request would cap intake at the disk's fsync rate, so requests that arrive while a commit is in
 * flight are gathered and written together by the next one: one transaction inserts the batch,
 * skips duplicates by `dedupe_key`, and enqueues one job per inserted row, so a notification is
 * never stored without its work or its work without it, and the batch costs one fsync.
 *
 * One bad notification never fails another: when a batch fails, its members are written again
 * one by one, so only the culprit gets the error.
 *
 * Exact resends (same dedupe key) are answered from a small in-memory map of what this process
 * saw committed, without reaching the database. It is safe because a committed notification is
 * only ever removed by retention, and an entry is trusted only while its notification is younger
 * than the retention (and for at most `duplicateTtlMs`). The store stays the truth: a miss, a
 * restart or another replica simply asks it.
 */
import { sql, type CompiledQuery, type QueryResult } from 'kysely'
import type { NewNotification, NotificationSource } from '../domain/notification.js'
import { DtrError, isDtrError } from '../errors.js'
import type { StoreContext } from './context.js'
import { RecentMap } from './recent-map.js'
import type { NotificationKind } from '../domain/payload.js'

export type { NewNotification, NotificationSource }

export interface RecordResult {
  readonly status: 'accepted' | 'duplicate'
  readonly notificationId: string
}

export interface StoredNotification {
  readonly id: string
  /** `webhook`, or `reconcile` when reconciliation took the problem in from the Problems API. */
  readonly source: NotificationSource
  readonly kind: NotificationKind
  readonly problemId: string
  readonly displayId: string | null
  readonly state: string | null
  readonly body: unknown
  /** ms since the epoch. */
  readonly receivedAt: number
}

export const NOTIFICATION_QUEUE = 'notification'

/**
 * A notification's job carries no payload (JSON null): its key is the notification's id. Saves a
 * copy of the id per notification (about 0.5 MB per 10,000).
 */
const NOTIFICATION_JOB_PAYLOAD = 'null'

export interface NotificationStoreOptions {
  /** Most notifications written by one transaction. */
  readonly maxBatch?: number
  /** Most notifications waiting for a commit before new ones are refused as overload (503). */
  readonly maxPending?: number
  /** Most body bytes waiting for a commit before new ones are refused as overload (503). */
  readonly maxPendingBytes?: number
  /** Exact resends remembered; 0 turns the duplicate cache off. */
  readonly duplicateCacheSize?: number
  readonly duplicateTtlMs?: number
  /** DTR_RETENTION: a remembered notification older than this may have been pruned. */
  readonly retentionMs?: number
}

export interface CommitHealth {
  /** True after a commit failed for every notification it carried, until one succeeds. */
  readonly failing: boolean
  readonly lastError: string | undefined
  /**
   * Bytes of the smallest notification whose commit failed: a probe write smaller than what
   * failed proves nothing (on a nearly full disk a few bytes still fit where a notification does not).
   */
  readonly failedBytes?: number
}

export interface NotificationStore {
  /** Resolves once the notification (or the one it duplicates) is committed. */
  record(notification: NewNotification): Promise<RecordResult>
  get(id: string): Promise<StoredNotification | undefined>
  listByProblem(kind: NotificationKind, problemId: string): Promise<StoredNotification[]>
  /**
   * The problem's newest notification stored after the one whose job is `jobId`, and whether its
   * own job is still waiting. Stored order is the jobs' ids, which grow with each insert: a
   * notification's time and its UUIDv7 id cannot order two received in the same millisecond.
   */
  newestAfter(kind: NotificationKind, problemId: string, jobId: string): Promise<{ readonly notification: StoredNotification, readonly waiting: boolean } | undefined>
  count(): Promise<number>
  /** Notifications waiting for the next commit. */
  pending(): number
  /** Body bytes waiting for the next commit. */
  pendingBytes(): number
  /** Transactions committed so far (group commit: far fewer than notifications). */
  commits(): number
  health(): CommitHealth
  /** A write succeeded elsewhere (the readiness probe): commits are not failing any more. */
  markHealthy(): void
  /** Resolves when everything accepted so far is committed (shutdown). */
  drain(): Promise<void>
  /**
   * Resolves once no notification is waiting for a commit, or after maxWaitMs, whichever comes
   * first: where the store has one writer, background work waits here so that it does not take
   * turns with intake under a burst (see the runner). True when notifications were waiting.
   */
  settled(maxWaitMs: number): Promise<boolean>
}

interface Pending {
  readonly notification: NewNotification
  readonly body: string
  readonly bytes: number
  resolve(result: RecordResult): void
  reject(err: unknown): void
}

interface Winner { readonly id: string, readonly receivedAt: number }

const storeFailure = (err: unknown): DtrError =>
  // 503, not 500: nothing was stored and the sender may try again (Dynatrace documents no retry
  // of a webhook; a workflow's task retries when configured to, and reconciliation catches up).
  isDtrError(err) ? err : new DtrError('DTR_ERR_STORE', 'The notification could not be stored; retry later', { cause: err })

/** A notification's row, as the batch insert writes it. */
interface Row {
  readonly id: string
  readonly kind: NotificationKind
  readonly problem_id: string
  readonly display_id: string | null
  readonly state: string | null
  readonly dedupe_key: string
  readonly body: string
  readonly received_at: number
  readonly source: NotificationSource
}
type RowColumn = keyof Row
const ROW_COLUMNS: readonly RowColumn[] = ['id', 'kind', 'problem_id', 'display_id', 'state', 'dedupe_key', 'body', 'received_at', 'source']

interface BatchStatements {
  readonly insert: (rows: readonly Row[], now: number) => CompiledQuery
  readonly enqueue: (rows: readonly Row[], now: number) => CompiledQuery
  readonly winners: (rows: readonly Row[], now: number) => CompiledQuery
}
/** Starts every marker parameter of a compiled batch (no constant of its statements does; a row's values come in only when a batch is filled in). */
const MARKER = '\u0000dtr-batch:'
/** The most rows whose compiled batch statements are kept (~5 MB). */
const MAX_COMPILED_ROWS = 2000

/**
 * A batch's statements as Kysely builds them: insert what is new, enqueue a job for each row the
 * batch inserted (a duplicate's id was never inserted), and read back every key's winner; each
 * built and compiled when asked for. `now` is a value or, when compiling, its marker.
 */
function buildBatch (db: StoreContext['db'], dialect: StoreContext['dialect'], rows: readonly Row[], now: unknown): { insert(): CompiledQuery, enqueue(): CompiledQuery, winners(): CompiledQuery } {
  const ids = rows.map((r) => r.id)
  // Typed in the query, for PostgreSQL, which does not infer a parameter's type in INSERT … SELECT.
  const at = sql<number>`cast(${now} as bigint)`
  const keys = rows.map((r) => [r.kind, r.problem_id, r.dedupe_key] as const)
  return {
    insert: () => db.insertInto('notifications').values(rows as Row[])
      .onConflict((oc) => oc.columns(['kind', 'problem_id', 'dedupe_key']).doNothing()).compile(),
    enqueue: () => db.insertInto('jobs').columns(['queue', 'key', 'payload', 'run_after', 'created_at', 'updated_at'])
      .expression((eb) => eb.selectFrom('notifications').select([
        sql<string>`cast(${NOTIFICATION_QUEUE} as text)`.as('queue'), 'id', dialect.jsonValue(NOTIFICATION_JOB_PAYLOAD).as('payload'),
        at.as('run_after'), at.as('created_at'), at.as('updated_at'),
      ]).where('id', 'in', ids))
      .onConflict((oc) => oc.columns(['queue', 'key']).doNothing()).compile(),
    winners: () => db.selectFrom('notifications').select(['id', 'dedupe_key', 'received_at'])
      .where((eb) => eb(eb.refTuple('kind', 'problem_id', 'dedupe_key'), 'in', keys.map((k) => eb.tuple(...k))))
      .compile(),
  }
}

/**
 * How many Kysely plugins the database runs, or -1 where that cannot be told: Kysely keeps them
 * on its executor, which it documents as internal, so a version without it reads as unknown.
 */
export function pluginCount (db: StoreContext['db']): number {
  const executor = (db as unknown as { getExecutor?: () => { readonly plugins?: readonly unknown[] } }).getExecutor?.()
  return executor?.plugins?.length ?? -1
}

export function createNotificationStore (ctx: StoreContext, options: NotificationStoreOptions = {}): NotificationStore {
  const { db, dialect, clock } = ctx
  const maxBatch = options.maxBatch ?? 500
  const maxPending = options.maxPending ?? 5000
  const maxPendingBytes = options.maxPendingBytes ?? 32 * 1024 * 1024
  const cacheSize = options.duplicateCacheSize ?? 10_000
  const cacheTtl = options.duplicateTtlMs ?? 10 * 60_000
  const retention = options.retentionMs ?? 30 * 86_400_000

  let queue: Pending[] = []
  let heldBytes = 0
  let flushing: Promise<void> | undefined
  let commitCount = 0
  let health: CommitHealth = { failing: false, lastError: undefined }

  /** dedupe key → the committed notification and until when to trust it; the oldest forgotten first. */
  const seen = new RecentMap<{ id: string, until: number }>(cacheSize)
  function remember (key: string, winner: Winner): void {
    seen.set(key, { id: winner.id, until: Math.min(clock.now() + cacheTtl, winner.receivedAt + retention) })
  }
  function recall (key: string): string | undefined {
    const entry = seen.get(key)
    if (entry === undefined) return undefined
    if (entry.until <= clock.now()) {
      seen.delete(key)
      return undefined
    }
    return entry.id
  }

  /**
   * A batch's three statements, built by Kysely from the batch's rows. Their text depends only on
   * how many rows there are, and building and compiling them anew for every batch was ~45 µs of
   * each durable notification on the main thread (a value node per column per row). So they are
   * compiled once per row count, from marker values, and each batch only fills in its parameters:
   * every parameter is either a marker, replaced by the batch's own value for that row and
   * column, or a constant of the statement, kept as it is.
   */
  function compileBatch (count: number): BatchStatements {
    const marker = (row: number, column: string): string => `${MARKER}${row}:${column}`
    const rows = Array.from({ length: count }, (_, i) => Object.fromEntries(ROW_COLUMNS.map((c) => [c, marker(i, c)])) as unknown as Row)
    const statements = buildBatch(db, dialect, rows, marker(-1, 'now'))
    const positions = (compiled: { readonly parameters: readonly unknown[] }): Array<readonly [number, RowColumn | 'now'] | undefined> =>
      compiled.parameters.map((p) => {
        if (typeof p !== 'string' || !p.startsWith(MARKER)) return undefined
        const [row, column] = p.slice(MARKER.length).split(':') as [string, RowColumn | 'now']
        return [Number(row), column] as const
      })
    const fill = (compiled: CompiledQuery): ((rows: readonly Row[], now: number) => CompiledQuery) => {
      const at = positions(compiled)
      return (rows, now) => ({
        ...compiled,
        parameters: compiled.parameters.map((p, i) => {
          const position = at[i]
          if (position === undefined) return p
          const [row, column] = position
          return column === 'now' ? now : (rows[row] as Row)[column]
        }),
      })
    }
    return { insert: fill(statements.insert()), enqueue: fill(statements.enqueue()), winners: fill(statements.winners()) }
  }
  // Compiled statements skip Kysely's plugins, whose transformQuery runs when a query is built,
  // so they are reused only where the database is known to have none (the tests' fault injection
  // adds some); where that cannot be told, every batch is built as before.
  const reusable = pluginCount(db) === 0
  const builtFor = (trx: StoreContext['db']): BatchStatements => ({
    insert: (rows, now) => buildBatch(trx, dialect, rows, now).insert(),
    enqueue: (rows, now) => buildBatch(trx, dialect, rows, now).enqueue(),
    winners: (rows, now) => buildBatch(trx, dialect, rows, now).winners(),
  })
  // Bounded by the rows they are for, oldest compiled out first: a compiled row keeps ~2.5 KB
  // (its statements' text, parameters and Kysely's tree), and under a steady load the batch
  // sizes are a handful.
  const compiledBatches = new Map<number, BatchStatements>()
  let compiledRows = 0
  function batchStatements (count: number): BatchStatements {
    let statements = compiledBatches.get(count)
    if (statements === undefined) {
      statements = compileBatch(count)
      compiledBatches.set(count, statements)
      compiledRows += count
      for (const size of compiledBatches.keys()) {
        if (compiledRows <= MAX_COMPILED_ROWS || size === count) break
        compiledBatches.delete(size)
        compiledRows -= size
      }
    }
    return statements
  }

  /** A batch's rows: identical notifications in one batch are one row (the first; the rest its duplicates). */
  function rowsOf (batch: readonly Pending[], now: number): Row[] {
    const candidates = new Map<string, Pending>()
    for (const p of batch) if (!candidates.has(p.notification.dedupeKey)) candidates.set(p.notification.dedupeKey, p)
    return [...candidates.values()].map(({ notification: n, body }) => ({
      id: n.id, kind: n.kind, problem_id: n.problemId, display_id: n.displayId ?? null, state: n.state ?? null, dedupe_key: n.dedupeKey, body, received_at: now, source: n.source ?? 'webhook',
    }))
  }
  type WinnerRow = { id: string, dedupe_key: string, received_at: number | string }
  const winnersOf = (found: readonly WinnerRow[]): Map<string, Winner> => new Map(found.map((r) => [r.dedupe_key, { id: r.id, receivedAt: Number(r.received_at) }]))

  // Where the engine runs a script (the SQLite writer thread) and the statements may be reused,
  // the three go in one message that is the whole transaction; elsewhere, in a Kysely transaction.
  const runScript = reusable && !db.isTransaction ? dialect.runScript : undefined

  /** Writes a batch in one transaction and returns each member's outcome; nothing is answered before the commit. */
  async function writeBatch (batch: readonly Pending[]): Promise<Map<string, Winner>> {
    const now = clock.now()
    const rows = rowsOf(batch, now)
    // Three statements, none of which needs the answer of another: insert what is new, enqueue a
    // job for each row this batch inserted (a duplicate's id was never inserted), and read back
    // every key's winner.
    if (runScript !== undefined) {
      const statements = batchStatements(rows.length)
      const [, , found] = await runScript(db, [statements.insert(rows, now), statements.enqueue(rows, now), statements.winners(rows, now)])
      return winnersOf((found as QueryResult<WinnerRow>).rows)
    }
    return db.transaction().execute(async (trx) => {
      const statements = reusable ? batchStatements(rows.length) : builtFor(trx)
      // Where the engine allows, they are started at once; Kysely still runs a transaction's
      // statements one after another, so that saves only the hops between them.
      const insert = async () => trx.executeQuery(statements.insert(rows, now))
      const enqueue = async () => trx.executeQuery(statements.enqueue(rows, now))
      const winners = async () => (await trx.executeQuery(statements.winners(rows, now))).rows as WinnerRow[]
      const [, , found] = dialect.pipelines
        ? await Promise.all([insert(), enqueue(), winners()])
        : [await insert(), await enqueue(), await winners()]
      return winnersOf(found)
    })
  }

  /** Commits the batch and answers its members; throws (answering no one) when the transaction fails. */
  async function commit (batch: readonly Pending[]): Promise<void> {
    const winners = await writeBatch(batch)
    commitCount++
    for (const p of batch) {
      const winner = winners.get(p.notification.dedupeKey)
      if (winner === undefined) {
        p.reject(new DtrError('DTR_ERR_STORE', 'A notification was neither inserted nor found as a duplicate'))
        continue
      }
      remember(p.notification.dedupeKey, winner)
      p.resolve({ status: winner.id === p.notification.id ? 'accepted' : 'duplicate', notificationId: winner.id })
    }
  }

  async function commitEach (batch: readonly Pending[]): Promise<void> {
    let firstError: unknown
    let stored = 0
    let smallest = Infinity
    for (const p of batch) {
      try {
        await commit([p])
        stored++
      } catch (err) {
        firstError ??= err
        smallest = Math.min(smallest, p.bytes)
        p.reject(storeFailure(err))
      }
    }
    // A culprit among good notifications is the notification's fault; every one failing is the store's.
    health = stored > 0 || firstError === undefined ? { failing: false, lastError: undefined } : { failing: true, lastError: String((firstError as Error).message), failedBytes: smallest }
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
        await commit(batch)
        health = { failing: false, lastError: undefined }
      } catch (err) {
        if (batch.length > 1) {
          await commitEach(batch)
        } else {
          for (const p of batch) p.reject(storeFailure(err))
          health = { failing: true, lastError: String((err as Error).message), failedBytes: batch[0]?.bytes }
        }
      }
      await nextTurn()
    }
    flushing = undefined
  }

  const toStored = (r: { id: string, source: NotificationSource, kind: NotificationKind, problem_id: string, display_id: string | null, state: string | null, body: unknown, received_at: number }): StoredNotification => ({
    id: r.id, source: r.source, kind: r.kind, problemId: r.problem_id, displayId: r.display_id, state: r.state, body: dialect.fromJson(r.body), receivedAt: Number(r.received_at),
  })

  return {
    record (notification) {
      const known = recall(notification.dedupeKey)
      if (known !== undefined) return Promise.resolve({ status: 'duplicate', notificationId: known })
      if (queue.length >= maxPending) {
        return Promise.reject(new DtrError('DTR_ERR_UNAVAILABLE', `Too many notifications waiting to be stored (${queue.length}); retry later`))
      }
      const body = dialect.toJson(notification.body)
      const bytes = Buffer.byteLength(body)
      if (heldBytes + bytes > maxPendingBytes && heldBytes > 0) {
        return Promise.reject(new DtrError('DTR_ERR_UNAVAILABLE', `Too many bytes waiting to be stored (${heldBytes}); retry later`))
      }
      heldBytes += bytes
      return new Promise<RecordResult>((resolve, reject) => {
        // The bytes are held until the caller is answered, whichever way.
        queue.push({
          notification,
          body,
          bytes,
          resolve: (result) => { heldBytes -= bytes; resolve(result) },
          reject: (err) => { heldBytes -= bytes; reject(err) },
        })
        flushing ??= flushLoop()
      })
    },
    async get (id) {
      const row = await db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? undefined : toStored(row)
    },
    async listByProblem (kind, problemId) {
      const rows = await db.selectFrom('notifications').selectAll().where('kind', '=', kind).where('problem_id', '=', problemId)
        .orderBy('received_at').orderBy('id').execute()
      return rows.map(toStored)
    },
    async newestAfter (kind, problemId, jobId) {
      const row = await db.selectFrom('notifications')
        .innerJoin('jobs', (join) => join.onRef('jobs.key', '=', 'notifications.id').on('jobs.queue', '=', NOTIFICATION_QUEUE))
        .selectAll('notifications').select('jobs.state as job_state')
        .where('notifications.kind', '=', kind).where('notifications.problem_id', '=', problemId).where('jobs.id', '>', Number(jobId))
        .orderBy('jobs.id', 'desc').limit(1).executeTakeFirst()
      if (row === undefined) return undefined
      const { job_state: state, ...notification } = row
      return { notification: toStored(notification), waiting: state === 'ready' || state === 'active' }
    },
    async count () {
      return Number((await db.selectFrom('notifications').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0)
    },
    pending: () => queue.length,
    pendingBytes: () => heldBytes,
    commits: () => commitCount,
    health: () => health,
    markHealthy () { health = { failing: false, lastError: undefined } },
    async drain () {
      for (let current = flushing; current !== undefined; current = flushing) await current
    },
    async settled (maxWaitMs) {
      const current = flushing
      if (current === undefined) return false
      const timer = new AbortController()
      await Promise.race([current, clock.sleep(maxWaitMs, timer.signal)]).catch(() => {})
      timer.abort()
      return true
    },
  }
}
