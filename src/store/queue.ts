/**
 * A durable work queue in the store's own tables, rather than pg-boss: intake must enqueue in the
 * same transaction that stores the notification, on both engines, and a crashed run must be
 * picked up by another replica within seconds, which a short lease renewed while the work is
 * alive gives directly. On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so replicas sharing it
 * never claim the same job; on SQLite the one writer makes each claim atomic.
 *
 * Times come from the store's Clock (ms since the epoch), so a test moves a lease past its expiry
 * by moving the clock.
 */
import type { Updateable } from 'kysely'
import type { StoreContext } from './context.js'
import type { JobsTable } from './schema.js'

export interface Job<Payload = unknown> {
  readonly id: string
  readonly queue: string
  readonly key: string
  readonly payload: Payload
  /** 1 on the first claim. */
  readonly attempts: number
  /** Claimed after its lease ran out: the process that held it died or stalled. */
  readonly takenOver: boolean
  /** Claims so far that took it over from a holder that died (this one included). */
  readonly takeovers: number
  /** Failures so far that retrying cannot cure. */
  readonly faults: number
}

export interface JobQueue {
  /** false when a job with this (queue, key) exists already. */
  enqueue(queue: string, key: string, payload: unknown, options?: { delayMs?: number }): Promise<boolean>
  /** Claims up to `limit` jobs that are ready or whose lease expired, leasing them to `owner`. */
  claim<Payload = unknown>(queue: string, owner: string, options: { leaseMs: number, limit?: number }): Promise<Array<Job<Payload>>>
  /** Extends a lease; false when the lease was lost (expired and claimed elsewhere). */
  renew(jobId: string, owner: string, leaseMs: number): Promise<boolean>
  complete(jobId: string, owner: string): Promise<boolean>
  /** Puts a job back to be tried again after delayMs. */
  retry(jobId: string, owner: string, delayMs: number, error: string): Promise<boolean>
  fail(jobId: string, owner: string, error: string): Promise<boolean>
  /** Counts a failure retrying cannot cure and puts the job back to be tried after delayMs. */
  fault(jobId: string, owner: string, delayMs: number, error: string): Promise<boolean>
  /** Of these keys, the reason each failed job of the queue failed with. */
  failures(queue: string, keys: readonly string[]): Promise<Map<string, { error: string, at: number }>>
  /** Makes a waiting job due `delayMs` from now (e.g. a verification made due by a RESOLVED); false when none waits. */
  reschedule(queue: string, key: string, delayMs: number): Promise<boolean>
  /** Jobs not yet done or failed. */
  pending(queue?: string): Promise<number>
  /** Of these keys, those whose job in the queue is not yet done or failed. */
  waiting(queue: string, keys: readonly string[]): Promise<string[]>
  /** Jobs a worker could claim right now. */
  due(queue: string): Promise<number>
  /**
   * Makes every leased job claimable now. Only for the embedded store at start-up: it has one
   * owner, held by an OS lock, so a lease found there belongs to a process that died.
   */
  releaseAll(): Promise<number>
}

/** Pure: a job id as the engines keep it, or undefined for one that cannot exist. */
const jobNumber = (id: string): number | undefined => (/^\d{1,15}$/.test(id) ? Number(id) : undefined)

/** Most jobs one completing statement names. */
const MAX_COMPLETIONS = 500

/**
 * complete(), grouped: while one completing statement is out, the completions that come in wait
 * and then go together, as one UPDATE and (on SQLite) one commit instead of one each. Each
 * caller still learns whether its own job was completed, and only once that is committed; a
 * statement that fails fails its callers, whose jobs are taken up again after their lease, as
 * with a completion that failed alone. Outside a transaction only: inside one the statement
 * must run before the transaction ends.
 */
function groupedCompletions ({ db, clock }: StoreContext): (id: number, owner: string) => Promise<boolean> {
  interface Waiting { readonly id: number, readonly owner: string, resolve(done: boolean): void, reject(err: unknown): void }
  let waiting: Waiting[] = []
  let flushing: Promise<void> | undefined

  async function completeGroup (owner: string, group: readonly Waiting[]): Promise<void> {
    try {
      const rows = await db.updateTable('jobs').set({ state: 'done', lease_owner: null, lease_until: null, updated_at: clock.now() })
        .where('id', 'in', group.map((w) => w.id)).where('lease_owner', '=', owner).where('state', '=', 'active')
        .returning('id').execute()
      const done = new Set(rows.map((r) => Number(r.id)))
      // A job named twice is completed once: the second caller learns it was done already.
      for (const w of group) w.resolve(done.delete(w.id))
    } catch (err) {
      for (const w of group) w.reject(err)
    }
  }

  async function flush (): Promise<void> {
    while (waiting.length > 0) {
      const batch = waiting.slice(0, MAX_COMPLETIONS)
      waiting = waiting.slice(batch.length)
      const byOwner = new Map<string, Waiting[]>()
      for (const w of batch) {
        const group = byOwner.get(w.owner)
        if (group === undefined) byOwner.set(w.owner, [w])
        else group.push(w)
      }
      for (const [owner, group] of byOwner) await completeGroup(owner, group)
    }
    flushing = undefined
  }

  return async (id, owner) => new Promise<boolean>((resolve, reject) => {
    waiting.push({ id, owner, resolve, reject })
    flushing ??= flush()
  })
}

export function createJobQueue (ctx: StoreContext): JobQueue {
  const { db, dialect, clock } = ctx
  const completeOutside = db.isTransaction ? undefined : groupedCompletions(ctx)
  /** Updates the job if `owner` holds its lease; true when it did. */
  async function whileLeased (jobId: string, owner: string, set: Updateable<JobsTable>): Promise<boolean> {
    const id = jobNumber(jobId)
    if (id === undefined) return false
    const result = await db.updateTable('jobs').set(set)
      .where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'active')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  return {
    async enqueue (queue, key, payload, options = {}) {
      const now = clock.now()
      const at = now + (options.delayMs ?? 0)
      const rows = await db.insertInto('jobs')
        .values({ queue, key, payload: dialect.toJson(payload), run_after: at, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['queue', 'key']).doNothing())
        .returning('id').execute()
      if (rows.length === 0) return false
      ctx.enqueued?.(queue, at)
      return true
    },

    async claim<Payload> (queue: string, owner: string, options: { leaseMs: number, limit?: number }): Promise<Array<Job<Payload>>> {
      const now = clock.now()
      const claimable = dialect.skipLocked(db.selectFrom('jobs').select('id')
        .where('queue', '=', queue)
        .where((eb) => eb.or([
          eb.and([eb('state', '=', 'ready'), eb('run_after', '<=', now)]),
          eb.and([eb('state', '=', 'active'), eb('lease_until', '<', now)]),
        ]))
        .orderBy('run_after').orderBy('id')
        .limit(options.limit ?? 1))
      const rows = await db.updateTable('jobs')
        // SET reads the row as it was: taken_over says whether it was leased (and the lease ran out).
        .set((eb) => ({ state: 'active', lease_owner: owner, lease_until: now + options.leaseMs, attempts: eb('attempts', '+', 1), updated_at: now, taken_over: eb.case().when('state', '=', 'active').then(1).else(0).end(), takeovers: eb.case().when('state', '=', 'active').then(eb('takeovers', '+', 1)).else(eb.ref('takeovers')).end() }))
        .where('id', 'in', claimable)
        .returning(['id', 'queue', 'key', 'payload', 'attempts', 'taken_over', 'takeovers', 'faults'])
        .execute()
      return rows
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((r) => ({ id: String(r.id), queue: r.queue, key: r.key, payload: dialect.fromJson(r.payload) as Payload, attempts: Number(r.attempts), takenOver: Number(r.taken_over) === 1, takeovers: Number(r.takeovers), faults: Number(r.faults) }))
    },

    renew: async (jobId, owner, leaseMs) => {
      const now = clock.now()
      return whileLeased(jobId, owner, { lease_until: now + leaseMs, updated_at: now })
    },
    async complete (jobId, owner) {
      const id = jobNumber(jobId)
      if (completeOutside === undefined || id === undefined) return whileLeased(jobId, owner, { state: 'done', lease_owner: null, lease_until: null, updated_at: clock.now() })
      return completeOutside(id, owner)
    },
    retry: async (jobId, owner, delayMs, error) => {
      const now = clock.now()
      return whileLeased(jobId, owner, { state: 'ready', run_after: now + delayMs, last_error: error, lease_owner: null, lease_until: null, updated_at: now })
    },
    fail: async (jobId, owner, error) =>
      whileLeased(jobId, owner, { state: 'failed', last_error: error, lease_owner: null, lease_until: null, updated_at: clock.now() }),
    async fault (jobId, owner, delayMs, error) {
      const id = jobNumber(jobId)
      if (id === undefined) return false
      const now = clock.now()
      const result = await db.updateTable('jobs')
        .set((eb) => ({ state: 'ready', run_after: now + delayMs, last_error: error, lease_owner: null, lease_until: null, updated_at: now, faults: eb('faults', '+', 1) }))
        .where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'active')
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async failures (queue, keys) {
      const out = new Map<string, { error: string, at: number }>()
      if (keys.length === 0) return out
      const rows = await db.selectFrom('jobs').select(['key', 'last_error', 'updated_at'])
        .where('queue', '=', queue).where('state', '=', 'failed').where('key', 'in', [...keys]).execute()
      for (const r of rows) out.set(r.key, { error: r.last_error ?? '', at: Number(r.updated_at) })
      return out
    },

    async reschedule (queue, key, delayMs) {
      const now = clock.now()
      const at = now + delayMs
      const result = await db.updateTable('jobs').set({ run_after: at, updated_at: now })
        .where('queue', '=', queue).where('key', '=', key).where('state', '=', 'ready')
        .executeTakeFirst()
      if (Number(result.numUpdatedRows) === 0) return false
      // Brought forward (a verification due now that its problem resolved): as good as new.
      ctx.enqueued?.(queue, at)
      return true
    },

    async due (queue) {
      const now = clock.now()
      const row = await db.selectFrom('jobs').select((eb) => eb.fn.countAll().as('n')).where('queue', '=', queue)
        .where((eb) => eb.or([eb.and([eb('state', '=', 'ready'), eb('run_after', '<=', now)]), eb.and([eb('state', '=', 'active'), eb('lease_until', '<', now)])]))
        .executeTakeFirst()
      return Number(row?.n ?? 0)
    },

    async releaseAll () {
      const now = clock.now()
      const result = await db.updateTable('jobs').set({ lease_until: now - 1, updated_at: now }).where('state', '=', 'active').executeTakeFirst()
      return Number(result.numUpdatedRows)
    },

    async waiting (queue, keys) {
      if (keys.length === 0) return []
      const rows = await db.selectFrom('jobs').select('key').where('queue', '=', queue).where('key', 'in', keys).where('state', 'in', ['ready', 'active']).execute()
      return rows.map((r) => r.key)
    },

    async pending (queue) {
      let query = db.selectFrom('jobs').select((eb) => eb.fn.countAll().as('n')).where('state', 'in', ['ready', 'active'])
      if (queue !== undefined) query = query.where('queue', '=', queue)
      return Number((await query.executeTakeFirst())?.n ?? 0)
    },
  }
}
