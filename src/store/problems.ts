/**
 * The problems and security problems we track: which occurrence is current and whether it is
 * open. A notification's planning and a RESOLVED both read and write this row inside one
 * transaction (`lock` takes the problem's own advisory lock on PostgreSQL, since the row may not
 * exist yet, and then the row FOR UPDATE), so an OPEN whose runs are being planned and a RESOLVED
 * that would cancel them never interleave: either the RESOLVED comes first and the OPEN plans
 * nothing, or the OPEN's runs exist and the RESOLVED cancels those not started.
 */
import type { ProblemRecord } from '../domain/decide/lifecycle.js'
import type { StoreContext } from './context.js'
import type { NotificationKind } from '../domain/payload.js'

export type ProblemKind = NotificationKind

export interface TrackedProblem extends ProblemRecord {
  readonly kind: ProblemKind
  readonly problemId: string
  readonly displayId: string | null
  readonly source: 'webhook' | 'reconcile'
  readonly openedAt: number
}

export interface ProblemStore {
  /** The row, locked until the transaction ends where the engine needs it (call inside one). */
  lock(kind: ProblemKind, problemId: string): Promise<TrackedProblem | undefined>
  get(kind: ProblemKind, problemId: string): Promise<TrackedProblem | undefined>
  /** Records `occurrence` as open (a new problem, a re-open, or the same occurrence again). */
  open(p: { kind: ProblemKind, problemId: string, displayId: string | null, occurrence: number, source: 'webhook' | 'reconcile' }): Promise<void>
  /** Records the occurrence as closed. */
  close(p: { kind: ProblemKind, problemId: string, displayId: string | null, occurrence: number, source: 'webhook' | 'reconcile' }): Promise<void>
  /** Several at once, by id (those we track). */
  getMany(kind: ProblemKind, problemIds: readonly string[]): Promise<TrackedProblem[]>
  /** Open problems (of one kind, if given), least recently updated first (reconciliation reads their status). */
  listOpen(limit: number, kind?: ProblemKind): Promise<TrackedProblem[]>
}

export function createProblemStore ({ db, dialect, clock }: StoreContext): ProblemStore {
  const select = (kind: ProblemKind, problemId: string) => db.selectFrom('problems').selectAll().where('kind', '=', kind).where('problem_id', '=', problemId)
  const toTracked = (r: { kind: ProblemKind, problem_id: string, display_id: string | null, occurrence: number, status: 'open' | 'closed', source: 'webhook' | 'reconcile', opened_at: number, closed_at: number | null }): TrackedProblem => ({
    kind: r.kind,
    problemId: r.problem_id,
    displayId: r.display_id,
    occurrence: Number(r.occurrence),
    status: r.status,
    source: r.source,
    openedAt: Number(r.opened_at),
    closedAt: r.closed_at === null ? null : Number(r.closed_at),
  })

  async function write (p: { kind: ProblemKind, problemId: string, displayId: string | null, occurrence: number, source: 'webhook' | 'reconcile' }, status: 'open' | 'closed'): Promise<void> {
    const now = clock.now()
    await db.insertInto('problems').values({
      kind: p.kind,
      problem_id: p.problemId,
      display_id: p.displayId,
      occurrence: p.occurrence,
      status,
      source: p.source,
      opened_at: now,
      closed_at: status === 'closed' ? now : null,
      updated_at: now,
    }).onConflict((oc) => oc.columns(['kind', 'problem_id']).doUpdateSet((eb) => ({
      display_id: eb.fn.coalesce('excluded.display_id', 'problems.display_id'),
      occurrence: eb.ref('excluded.occurrence'),
      status: eb.ref('excluded.status'),
      // A new occurrence starts now and keeps how it was found; the same one keeps both.
      source: status === 'open' ? eb.case().when('problems.occurrence', '=', eb.ref('excluded.occurrence')).then(eb.ref('problems.source')).else(eb.ref('excluded.source')).end() : eb.ref('problems.source'),
      opened_at: status === 'open' ? eb.case().when('problems.occurrence', '=', eb.ref('excluded.occurrence')).then(eb.ref('problems.opened_at')).else(eb.ref('excluded.opened_at')).end() : eb.ref('problems.opened_at'),
      closed_at: eb.ref('excluded.closed_at'),
      updated_at: eb.ref('excluded.updated_at'),
    }))).execute()
  }

  return {
    async lock (kind, problemId) {
      // The row may not exist yet: the problem's own lock serialises its OPEN and its RESOLVED then too.
      await dialect.lockKey(db, `problem:${kind}:${problemId}`)
      const row = await dialect.forUpdate(select(kind, problemId)).executeTakeFirst()
      return row === undefined ? undefined : toTracked(row)
    },
    async get (kind, problemId) {
      const row = await select(kind, problemId).executeTakeFirst()
      return row === undefined ? undefined : toTracked(row)
    },
    open: async (p) => write(p, 'open'),
    close: async (p) => write(p, 'closed'),
    async getMany (kind, problemIds) {
      const out: TrackedProblem[] = []
      // In chunks, well under either engine's limit on bound parameters.
      for (let i = 0; i < problemIds.length; i += 500) {
        const chunk = problemIds.slice(i, i + 500)
        const rows = await db.selectFrom('problems').selectAll().where('kind', '=', kind).where('problem_id', 'in', chunk).execute()
        out.push(...rows.map(toTracked))
      }
      return out
    },
    async listOpen (limit, kind) {
      let query = db.selectFrom('problems').selectAll().where('status', '=', 'open')
      if (kind !== undefined) query = query.where('kind', '=', kind)
      const rows = await query.orderBy('updated_at').limit(limit).execute()
      return rows.map(toTracked)
    },
  }
}
