/**
 * A durable work queue in the store's own tables, rather than pg-boss: intake must enqueue in the
 * same statement that stores the notification (one engine-agnostic SQL dialect on PGlite and
 * PostgreSQL), and a crashed run must be picked up by another replica within seconds, which a
 * short lease renewed while the work is alive gives directly. Claims use FOR UPDATE SKIP LOCKED,
 * so replicas sharing a PostgreSQL never claim the same job.
 */
import type { Database } from './db.js'

export interface Job<Payload = unknown> {
  readonly id: string
  readonly queue: string
  readonly key: string
  readonly payload: Payload
  /** 1 on the first claim. */
  readonly attempts: number
}

export interface JobQueue {
  enqueue(queue: string, key: string, payload: unknown, options?: { delayMs?: number }): Promise<boolean>
  /** Claims up to `limit` jobs that are ready or whose lease expired, leasing them to `owner`. */
  claim<Payload = unknown>(queue: string, owner: string, options: { leaseMs: number, limit?: number }): Promise<Array<Job<Payload>>>
  /** Extends a lease; false when the lease was lost (expired and claimed elsewhere). */
  renew(jobId: string, owner: string, leaseMs: number): Promise<boolean>
  complete(jobId: string, owner: string): Promise<boolean>
  /** Puts a job back to be tried again after delayMs. */
  retry(jobId: string, owner: string, delayMs: number, error: string): Promise<boolean>
  fail(jobId: string, owner: string, error: string): Promise<boolean>
  /** Jobs not yet done or failed. */
  pending(queue?: string): Promise<number>
}

interface JobRow { id: string, queue: string, key: string, payload: unknown, attempts: number }

export function createJobQueue (db: Database): JobQueue {
  const finish = async (sql: string, params: unknown[]): Promise<boolean> => (await db.query(sql, params)).length > 0
  return {
    async enqueue (queue, key, payload, options = {}) {
      const rows = await db.query(
        `INSERT INTO jobs (queue, key, payload, run_after) VALUES ($1, $2, $3::jsonb, now() + $4 * interval '1 millisecond')
         ON CONFLICT (queue, key) DO NOTHING RETURNING id`,
        [queue, key, JSON.stringify(payload), options.delayMs ?? 0])
      return rows.length > 0
    },
    async claim<Payload> (queue: string, owner: string, options: { leaseMs: number, limit?: number }) {
      const rows = await db.query<JobRow>(
        `UPDATE jobs SET state = 'active', lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond',
                attempts = attempts + 1, updated_at = now()
         WHERE id IN (
           SELECT id FROM jobs
           WHERE queue = $1 AND ((state = 'ready' AND run_after <= now()) OR (state = 'active' AND lease_until < now()))
           ORDER BY run_after, id LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING id::text AS id, queue, key, payload, attempts`,
        [queue, owner, options.leaseMs, options.limit ?? 1])
      return rows.map((r) => ({ ...r, payload: r.payload as Payload }))
    },
    renew: async (jobId, owner, leaseMs) => finish(
      `UPDATE jobs SET lease_until = now() + $3 * interval '1 millisecond', updated_at = now()
       WHERE id = $1::bigint AND lease_owner = $2 AND state = 'active' RETURNING id`, [jobId, owner, leaseMs]),
    complete: async (jobId, owner) => finish(
      `UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE id = $1::bigint AND lease_owner = $2 AND state = 'active' RETURNING id`, [jobId, owner]),
    retry: async (jobId, owner, delayMs, error) => finish(
      `UPDATE jobs SET state = 'ready', run_after = now() + $3 * interval '1 millisecond', last_error = $4,
              lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE id = $1::bigint AND lease_owner = $2 AND state = 'active' RETURNING id`, [jobId, owner, delayMs, error]),
    fail: async (jobId, owner, error) => finish(
      `UPDATE jobs SET state = 'failed', last_error = $3, lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE id = $1::bigint AND lease_owner = $2 AND state = 'active' RETURNING id`, [jobId, owner, error]),
    async pending (queue) {
      const rows = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM jobs WHERE state IN (\'ready\', \'active\') AND ($1::text IS NULL OR queue = $1)', [queue ?? null])
      return rows[0]?.n ?? 0
    },
  }
}
