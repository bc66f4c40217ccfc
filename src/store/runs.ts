/**
 * Runs and their timelines (SPEC 8). A run is inserted once per key — resends, merges and a
 * second replica planning the same notification find the key taken and insert nothing — and
 * moves through its states with conditional updates (`WHERE state IN (…)`), so two processes
 * never both take a run from one state to the next; every move writes a timeline entry.
 *
 * Also the facts the safety gates read: the last run of an action on a target that reached
 * `running` (cooldown), the live runs started in a window (budgets), and the distinct targets of
 * a problem occurrence.
 */
import type { Selectable } from 'kysely'
import type { GateDecision, GateResult } from '../domain/decide/gates.js'
import type { Outcome } from '../domain/outcome.js'
import { canTransition, FINAL_STATES, illegalFrom, type Run, type RunState, type TimelineEntry, type Verification } from '../domain/runs.js'
import { DtrError } from '../errors.js'
import { targetKey, type Target } from '../domain/target.js'
import type { StoreContext } from './context.js'
import type { RunsTable } from './schema.js'
import type { NotificationKind } from '../domain/payload.js'

export type SkipSource = 'action' | 'gate' | 'target'

/** The rule's settings a run keeps from planning, so a rules reload never changes a run in flight. */
export interface RunSettings {
  readonly timeoutMs: number
  readonly verifyAfterMs: number
  readonly cooldownMs: number
  readonly approvalTimeoutMs: number
  readonly approval: boolean
  /** Steps in the rule's ladder. */
  readonly steps: number
}

export interface NewRun {
  readonly id: string
  readonly key: string
  readonly kind: NotificationKind
  readonly problemId: string
  readonly displayId: string | null
  readonly occurrence: number
  readonly notificationId: string
  readonly rule: string
  readonly step: number
  readonly entityId: string
  readonly action: string
  readonly target: Target | null
  readonly state: RunState
  readonly reason: string | null
  readonly skipSource: SkipSource | null
  readonly dryRun: boolean
  readonly params: unknown
  readonly plan: unknown
  readonly facts: Record<string, unknown>
  readonly settings: RunSettings
  /** The first timeline entry's note, `planned` (SPEC 8: a timeline starts with what was planned). */
  readonly note: string
  /** The note of the state planning put it in (`queued`, `skipped`, …), its second entry. */
  readonly stateNote?: string
}

/** A run as the runner works with it: the API's view plus what only the runner needs. */
/** One admission's gate results, as the runner's gate transaction decided them. */
export interface GateAdmission {
  /** ms epoch. */
  readonly at: number
  readonly decision: GateDecision['decision']
  readonly results: readonly GateResult[]
}

export interface RunRecord extends Omit<Run, 'timeline'> {
  readonly key: string
  readonly notificationId: string
  readonly skipSource: SkipSource | null
  readonly params: unknown
  readonly plan: unknown
  readonly facts: Record<string, unknown>
  readonly settings: RunSettings
  /** When the run was queued: planned, or approved (an approved run's timeout and lock wait count from its approval). */
  readonly queuedAt: number
  readonly startedAt: number | null
  readonly endedAt: number | null
  /** Each admission's gate results, oldest first. */
  readonly gates: readonly GateAdmission[]
}

export interface RunFilter {
  readonly problemId?: string | undefined
  readonly state?: RunState | undefined
  /** The console's filters: exact rule and action names, and created within [since, until) (ms epoch). */
  readonly rule?: string | undefined
  readonly action?: string | undefined
  readonly since?: number | undefined
  readonly until?: number | undefined
  readonly limit: number
  /** From a previous page's nextCursor. */
  readonly cursor?: string | undefined
}

export interface RunChange {
  readonly reason?: string | null
  readonly skipSource?: SkipSource | null
  readonly outcome?: Outcome | null
  readonly verification?: Verification | null
  readonly attempts?: number
  readonly approvedBy?: string | null
  /** Replaces the stored admissions (the caller appends to what it read). */
  readonly gates?: readonly GateAdmission[]
  readonly dryRun?: boolean
  readonly startedAt?: number
  readonly endedAt?: number
  readonly queuedAt?: number
}

export interface RunStore {
  /** Inserts the runs whose keys are new; returns the ids inserted. */
  insert(runs: readonly NewRun[]): Promise<string[]>
  get(id: string): Promise<RunRecord | undefined>
  /** The API's view, with the timeline. */
  view(id: string): Promise<Run | undefined>
  list(filter: RunFilter): Promise<{ runs: Run[], nextCursor: string | null }>
  byProblem(problemId: string, kind?: NotificationKind): Promise<Run[]>
  /**
   * Moves the run to `to` if it is in one of `from`; true when it did, false when the run had
   * moved on (the caller must then not act as if it had). Writes the timeline entry. A move the
   * state machine (domain/runs.ts) does not allow is refused with an error, whatever the row holds.
   */
  transition(id: string, from: readonly RunState[], to: RunState, note: string, change?: RunChange): Promise<boolean>
  /** Sets fields without a state change (a verdict, a note); writes a timeline entry when `note` is given. */
  update(id: string, change: RunChange, note?: { state: RunState, note: string }): Promise<void>
  /** Runs of an occurrence in one of `states`. */
  ofOccurrence(kind: NotificationKind, problemId: string, occurrence: number, states?: readonly RunState[]): Promise<RunRecord[]>
  /** Cooldown: the newest run of `action` on `targetKey` (or, without a target, this problem) that reached running since `since`. */
  lastStarted(action: string, scope: { targetKey: string } | { kind: NotificationKind, problemId: string }, since: number): Promise<{ id: string, startedAt: number } | undefined>
  /** Budgets: live runs that reached running since `since`, in all, in a namespace, or of a rule. */
  countStarted(since: number, scope: { namespace: string } | { rule: string } | 'global'): Promise<number>
  /** Distinct targets of an occurrence across rules (maxTargetsPerProblem), not counting runs that had none of their own. */
  distinctTargets(kind: NotificationKind, problemId: string, occurrence: number): Promise<number>
  /** Runs planned, queued, awaiting approval or running. */
  pending(): Promise<number>
}

/** A move the state machine does not allow: a bug in the caller, never written. */
function refuse (from: readonly RunState[], to: RunState): never {
  throw new DtrError('DTR_ERR_INTERNAL', `illegal run transition ${from.join('|')} → ${to}: the state machine (domain/runs.ts) does not allow it`)
}

const iso = (ms: number): string => new Date(ms).toISOString()

function encodeCursor (row: { created_at: number, id: string }): string {
  return Buffer.from(`${row.created_at}:${row.id}`).toString('base64url')
}

function decodeCursor (cursor: string): { createdAt: number, id: string } | undefined {
  const [at, ...id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':')
  const createdAt = Number(at)
  return Number.isInteger(createdAt) && id.length > 0 ? { createdAt, id: id.join(':') } : undefined
}

/**
 * Parameters one statement may bind, on both engines: below SQLite's SQLITE_MAX_VARIABLE_NUMBER
 * (32,766 since 3.32) and PostgreSQL's 65,535.
 */
export const MAX_BOUND_PARAMETERS = 30_000

/** Pure: rows in chunks whose parameters (rows × columns) stay within maxParameters. */
export function chunked<T extends object> (rows: readonly T[], maxParameters: number): T[][] {
  if (rows.length === 0) return []
  const columns = Math.max(1, Object.keys(rows[0] as object).length)
  const size = Math.max(1, Math.floor(maxParameters / columns))
  const chunks: T[][] = []
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size))
  return chunks
}

export function createRunStore ({ db, dialect, clock }: StoreContext): RunStore {
  const json = (value: unknown): string => dialect.toJson(value)
  const nullableJson = (value: unknown): string | null => (value === null || value === undefined ? null : dialect.toJson(value))

  function record (r: Selectable<RunsTable>): RunRecord {
    return {
      id: r.id,
      key: r.key,
      state: r.state as RunState,
      reason: r.reason,
      kind: r.kind,
      problemId: r.problem_id,
      displayId: r.display_id,
      entityId: r.entity_id,
      rule: r.rule,
      action: r.action,
      step: Number(r.step),
      target: (dialect.fromJson(r.target) ?? null) as Target | null,
      dryRun: Number(r.dry_run) === 1,
      approvedBy: r.approved_by,
      createdAt: iso(Number(r.created_at)),
      updatedAt: iso(Number(r.updated_at)),
      outcome: (dialect.fromJson(r.outcome) ?? null) as Outcome | null,
      verification: (dialect.fromJson(r.verification) ?? null) as Verification | null,
      occurrence: Number(r.occurrence),
      attempts: Number(r.attempts),
      notificationId: r.notification_id,
      skipSource: r.skip_source,
      params: dialect.fromJson(r.params),
      plan: dialect.fromJson(r.plan) ?? null,
      facts: dialect.fromJson(r.facts) as Record<string, unknown>,
      settings: dialect.fromJson(r.settings) as RunSettings,
      queuedAt: Number(r.queued_at),
      startedAt: r.started_at === null ? null : Number(r.started_at),
      endedAt: r.ended_at === null ? null : Number(r.ended_at),
      gates: (dialect.fromJson(r.gates) ?? []) as GateAdmission[],
    }
  }

  async function timelines (ids: readonly string[]): Promise<Map<string, TimelineEntry[]>> {
    const byRun = new Map<string, TimelineEntry[]>(ids.map((id) => [id, []]))
    if (ids.length === 0) return byRun
    const rows = await db.selectFrom('run_events').selectAll().where('run_id', 'in', [...ids]).orderBy('id').execute()
    for (const e of rows) byRun.get(e.run_id)?.push({ at: iso(Number(e.at)), state: e.state as RunState, note: e.note })
    return byRun
  }

  function view (r: RunRecord, timeline: readonly TimelineEntry[]): Run {
    return {
      id: r.id,
      state: r.state,
      reason: r.reason,
      kind: r.kind,
      problemId: r.problemId,
      displayId: r.displayId,
      entityId: r.entityId,
      rule: r.rule,
      action: r.action,
      step: r.step,
      target: r.target,
      dryRun: r.dryRun,
      approvedBy: r.approvedBy,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      timeline,
      outcome: r.outcome,
      verification: r.verification,
      occurrence: r.occurrence,
      attempts: r.attempts,
    }
  }

  async function views (rows: ReadonlyArray<Selectable<RunsTable>>): Promise<Run[]> {
    const records = rows.map(record)
    const events = await timelines(records.map((r) => r.id))
    return records.map((r) => view(r, events.get(r.id) ?? []))
  }

  function changes (change: RunChange): Record<string, unknown> {
    const set: Record<string, unknown> = {}
    if (change.reason !== undefined) set.reason = change.reason
    if (change.skipSource !== undefined) set.skip_source = change.skipSource
    if (change.outcome !== undefined) set.outcome = nullableJson(change.outcome)
    if (change.verification !== undefined) set.verification = nullableJson(change.verification)
    if (change.attempts !== undefined) set.attempts = change.attempts
    if (change.approvedBy !== undefined) set.approved_by = change.approvedBy
    if (change.gates !== undefined) set.gates = nullableJson(change.gates)
    if (change.dryRun !== undefined) set.dry_run = change.dryRun ? 1 : 0
    if (change.startedAt !== undefined) set.started_at = change.startedAt
    if (change.endedAt !== undefined) set.ended_at = change.endedAt
    if (change.queuedAt !== undefined) set.queued_at = change.queuedAt
    return set
  }

  return {
    async insert (runs) {
      if (runs.length === 0) return []
      // Every run starts `planned`: the state it is inserted in must be one planning can move to.
      for (const r of runs) if (r.state !== 'planned' && !canTransition('planned', r.state)) refuse(['planned'], r.state)
      const now = clock.now()
      const rows = runs.map((r) => ({
        id: r.id,
        key: r.key,
        kind: r.kind,
        problem_id: r.problemId,
        display_id: r.displayId,
        occurrence: r.occurrence,
        notification_id: r.notificationId,
        rule: r.rule,
        step: r.step,
        entity_id: r.entityId,
        action: r.action,
        target: nullableJson(r.target),
        target_key: r.target === null ? null : targetKey(r.target),
        namespace: r.target?.namespace ?? null,
        state: r.state,
        reason: r.reason,
        skip_source: r.skipSource,
        dry_run: r.dryRun ? 1 : 0,
        params: json(r.params ?? {}),
        plan: nullableJson(r.plan),
        facts: json(r.facts),
        settings: json(r.settings),
        outcome: null,
        verification: null,
        attempts: 0,
        approved_by: null,
        queued_at: now,
        started_at: null,
        ended_at: r.state === 'skipped' || r.state === 'cancelled' ? now : null,
        created_at: now,
        updated_at: now,
      }))
      // In chunks: one statement for 3,000 runs bound more variables than SQLite allows ("too
      // many SQL variables") and would pass PostgreSQL's 65,535 parameters at 2,260.
      const ids = new Set<string>()
      for (const chunk of chunked(rows, MAX_BOUND_PARAMETERS)) {
        const inserted = await db.insertInto('runs').values(chunk).onConflict((oc) => oc.column('key').doNothing()).returning('id').execute()
        for (const r of inserted) ids.add(r.id)
      }
      const events = runs.filter((r) => ids.has(r.id)).flatMap((r) => [
        { run_id: r.id, at: now, state: 'planned', note: r.note },
        ...(r.state === 'planned' ? [] : [{ run_id: r.id, at: now, state: r.state, note: r.stateNote ?? r.state }]),
      ])
      for (const chunk of chunked(events, MAX_BOUND_PARAMETERS)) await db.insertInto('run_events').values(chunk).execute()
      return [...ids]
    },

    async get (id) {
      const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? undefined : record(row)
    },

    async view (id) {
      const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? undefined : (await views([row]))[0]
    },

    async list (filter) {
      let query = db.selectFrom('runs').selectAll()
      if (filter.problemId !== undefined) query = query.where((eb) => eb.or([eb('problem_id', '=', filter.problemId as string), eb('display_id', '=', filter.problemId as string)]))
      if (filter.state !== undefined) query = query.where('state', '=', filter.state)
      if (filter.rule !== undefined) query = query.where('rule', '=', filter.rule)
      if (filter.action !== undefined) query = query.where('action', '=', filter.action)
      if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since)
      if (filter.until !== undefined) query = query.where('created_at', '<', filter.until)
      const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor)
      if (after !== undefined) {
        query = query.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]))
      }
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit + 1).execute()
      const page = rows.slice(0, filter.limit)
      const last = page.at(-1)
      return { runs: await views(page), nextCursor: rows.length > filter.limit && last !== undefined ? encodeCursor({ created_at: Number(last.created_at), id: last.id }) : null }
    },

    async byProblem (problemId, kind) {
      let query = db.selectFrom('runs').selectAll().where((eb) => eb.or([eb('problem_id', '=', problemId), eb('display_id', '=', problemId)]))
      if (kind !== undefined) query = query.where('kind', '=', kind)
      return views(await query.orderBy('created_at').orderBy('id').execute())
    },

    async transition (id, from, to, note, change = {}) {
      if (from.length === 0 || illegalFrom(from, to).length > 0) refuse(from, to)
      const now = clock.now()
      const result = await db.updateTable('runs')
        .set({ ...changes(change), state: to, updated_at: now, ...(FINAL_STATES.has(to) && change.endedAt === undefined ? { ended_at: now } : {}) })
        .where('id', '=', id).where('state', 'in', [...from])
        .executeTakeFirst()
      if (Number(result.numUpdatedRows) === 0) return false
      await db.insertInto('run_events').values({ run_id: id, at: now, state: to, note }).execute()
      return true
    },

    async update (id, change, note) {
      const now = clock.now()
      await db.updateTable('runs').set({ ...changes(change), updated_at: now }).where('id', '=', id).execute()
      if (note !== undefined) await db.insertInto('run_events').values({ run_id: id, at: now, state: note.state, note: note.note }).execute()
    },

    async ofOccurrence (kind, problemId, occurrence, states) {
      let query = db.selectFrom('runs').selectAll().where('kind', '=', kind).where('problem_id', '=', problemId).where('occurrence', '=', occurrence)
      if (states !== undefined) query = query.where('state', 'in', [...states])
      return (await query.orderBy('created_at').orderBy('id').execute()).map(record)
    },

    async lastStarted (action, scope, since) {
      let query = db.selectFrom('runs').select(['id', 'started_at']).where('action', '=', action).where('dry_run', '=', 0).where('started_at', '>=', since)
      query = 'targetKey' in scope
        ? query.where('target_key', '=', scope.targetKey)
        : query.where('kind', '=', scope.kind).where('problem_id', '=', scope.problemId)
      const row = await query.orderBy('started_at', 'desc').limit(1).executeTakeFirst()
      return row === undefined || row.started_at === null ? undefined : { id: row.id, startedAt: Number(row.started_at) }
    },

    async countStarted (since, scope) {
      let query = db.selectFrom('runs').select((eb) => eb.fn.countAll().as('n')).where('dry_run', '=', 0).where('started_at', '>=', since)
      if (scope !== 'global') query = 'namespace' in scope ? query.where('namespace', '=', scope.namespace) : query.where('rule', '=', scope.rule)
      return Number((await query.executeTakeFirst())?.n ?? 0)
    },

    async distinctTargets (kind, problemId, occurrence) {
      const row = await db.selectFrom('runs').select((eb) => eb.fn.count('target_key').distinct().as('n'))
        .where('kind', '=', kind).where('problem_id', '=', problemId).where('occurrence', '=', occurrence)
        .where('target_key', 'is not', null)
        .where((eb) => eb.or([eb('skip_source', 'is', null), eb('skip_source', '!=', 'target')]))
        .executeTakeFirst()
      return Number(row?.n ?? 0)
    },

    async pending () {
      const row = await db.selectFrom('runs').select((eb) => eb.fn.countAll().as('n')).where('state', 'in', ['planned', 'awaiting_approval', 'queued', 'running']).executeTakeFirst()
      return Number(row?.n ?? 0)
    },
  }
}
