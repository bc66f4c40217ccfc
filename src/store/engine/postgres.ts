/**
 * The shared engine: a PostgreSQL server through a pg pool, required for more than one replica.
 * Loaded only when DTR_DATABASE_URL is set (engine/index.ts imports it dynamically), so the
 * embedded store does not pay for pg.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { DtrError } from '../../errors.js'
import type { Tables } from '../schema.js'
import type { Dialect, Engine, WakeListenOptions, WakeSignals } from './dialect.js'

/** An arbitrary constant shared by every replica: "dt-remediator migrations". */
const MIGRATION_LOCK = 0x64747200
/** Another: "dt-remediator safety gates". */
const GATE_LOCK = 0x64747201
/** The first key of the two-key locks `lockKey` takes ("dt-remediator keys"); the second is the key's hash. */
const KEY_LOCKS = 0x64747202

/** int8 (times in ms, counts, job ids) as a number: every value the store keeps fits in 2^53. */
const INT8_OID = 20
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
}

const postgresDialect: Dialect = {
  engine: 'postgres',
  jsonType: 'jsonb',
  bigintType: 'bigint',
  pipelines: false,
  addIdColumn: (table) => table.addColumn('id', 'bigserial', (c) => c.primaryKey()),
  toJson: (value) => JSON.stringify(value),
  jsonValue: (text) => sql<string>`cast(${text} as jsonb)`,
  fromJson: (value) => value,
  skipLocked: (query) => query.forUpdate().skipLocked(),
  forUpdate: (query) => query.forUpdate(),
  lockGates: async (trx) => { await sql`SELECT pg_advisory_xact_lock(${GATE_LOCK})`.execute(trx) },
  // The two-key form: a lock space apart from the one-key locks above.
  lockKey: async (db, key) => { await sql`SELECT pg_advisory_xact_lock(${KEY_LOCKS}, hashtext(${key}))`.execute(db) },
  lockMigrations: async (trx) => { await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx) },
  afterPrune: async () => {},
}

/** The LISTEN/NOTIFY channel; payloads carry the schema, so deployments sharing a database never wake each other. */
const WAKE_CHANNEL = 'dtr_wake'

/**
 * Pure: the sender's field of a wake-up's payload (`<schema> <field>`): `<sender>`, or
 * `<sender>:<queue>` for work in one queue. The queue rides in that field so that a replica of
 * the version before, which compares the field whole with its own id, still takes it for another
 * replica's wake-up (and wakes everything) during a rolling update; and a payload without a
 * queue, as that version sends, wakes everything here.
 */
export const wakeSenderField = (sender: string, queue: string | undefined): string => (queue === undefined ? sender : `${sender}:${queue}`)

/**
 * Pure: what waits behind the send in flight once `queue` (undefined: every queue) is sent too:
 * one queue while every send waiting named the same one, otherwise null, which wakes everything.
 */
export const stillWaiting = (waiting: string | null | undefined, queue: string | undefined): string | null =>
  waiting === undefined ? (queue ?? null) : waiting === queue ? waiting : null

/** Pure: who sent a payload, and for which queue (undefined: any), if it is for `schema`. */
export function readWakePayload (payload: string, schema: string): { readonly sender: string, readonly queue: string | undefined } | undefined {
  const space = payload.lastIndexOf(' ')
  if (space === -1 || payload.slice(0, space) !== schema) return undefined
  const from = payload.slice(space + 1)
  const colon = from.indexOf(':')
  return colon === -1 ? { sender: from, queue: undefined } : { sender: from.slice(0, colon), queue: from.slice(colon + 1) }
}

/**
 * LISTEN/NOTIFY wake-ups. A NOTIFY is one small statement on the pool, sent after the commit it
 * announces (the caller sends once intake has committed); sends coalesce, so a burst of
 * notifications costs one NOTIFY in flight and at most one queued behind it. The listener holds
 * one connection of its own outside the pool.
 */
function postgresSignals (url: string, pool: pg.Pool): WakeSignals & { stopAll(): Promise<void> } {
  const sender = randomUUID()
  const listeners = new Set<() => Promise<void>>()
  let inFlight = false
  /** What waits behind the send in flight: nothing, one queue, or (null) every queue. */
  let again: string | null | undefined
  const send = (queue?: string): void => {
    if (inFlight) {
      again = stillWaiting(again, queue)
      return
    }
    inFlight = true
    pool.query(`SELECT pg_notify('${WAKE_CHANNEL}', current_schema() || ' ' || $1::text)`, [wakeSenderField(sender, queue)])
      .catch(() => {}) // best effort: the replicas' polls still find the work
      .finally(() => {
        inFlight = false
        if (again !== undefined) {
          const next = again
          again = undefined
          send(next ?? undefined)
        }
      })
  }

  async function listen (onWake: (queue?: string) => void, options: WakeListenOptions): Promise<() => Promise<void>> {
    const stopped = new AbortController()
    let client: pg.Client | undefined

    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: url, types })
      const dropped = new Promise<Error>((resolve) => {
        c.on('error', resolve)
        c.on('end', () => resolve(new Error('the listening connection closed')))
      })
      try {
        await c.connect()
        const schema = (await c.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]?.schema ?? ''
        c.on('notification', (msg) => {
          if (msg.channel !== WAKE_CHANNEL || msg.payload === undefined) return
          const wake = readWakePayload(msg.payload, schema)
          if (wake !== undefined && wake.sender !== sender) onWake(wake.queue)
        })
        await c.query(`LISTEN ${WAKE_CHANNEL}`)
        if (stopped.signal.aborted) throw stopped.signal.reason
      } catch (err) {
        await c.end().catch(() => {})
        throw err
      }
      client = c
      dropped.then(async (err) => { if (client === c && !stopped.signal.aborted) await reconnect(err) }).catch(() => {})
    }

    const reconnect = async (err: Error): Promise<void> => {
      options.onError?.(err)
      const old = client
      client = undefined
      old?.end().catch(() => {})
      while (!stopped.signal.aborted) {
        try {
          await options.clock.sleep(options.retryMs, stopped.signal)
          await connect()
          options.onReconnect?.()
          onWake() // a signal sent while we were away was lost: look once
          return
        } catch {
          // still unreachable (the outage onError reported): try again after retryMs
        }
      }
    }

    // A first connection that fails (connections exhausted, a blip) does not stop start-up: the
    // replica polls meanwhile, and the listener keeps trying as after a drop.
    await connect().catch(async (err: Error) => { reconnect(err).catch(() => {}) })
    const stop = async (): Promise<void> => {
      listeners.delete(stop)
      stopped.abort()
      const c = client
      client = undefined
      await c?.end().catch(() => {})
    }
    listeners.add(stop)
    return stop
  }

  return {
    send,
    listen,
    async stopAll () { await Promise.all([...listeners].map(async (stop) => stop())) },
  }
}

export interface PostgresOptions {
  readonly max?: number
}

/** Pure: host:port/database of a URL, without credentials, for messages. */
function describeUrl (url: string): string {
  try {
    const u = new URL(url)
    return `PostgreSQL ${u.host}${u.pathname}`
  } catch {
    return 'PostgreSQL (DTR_DATABASE_URL)'
  }
}

export async function openPostgres (url: string, options: PostgresOptions = {}): Promise<Engine> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types })
  // An idle client losing its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {})
  // A client checked out of the pool (a transaction between two statements) that loses its
  // connection emits 'error' too, and the pool listens only to idle ones: without this listener
  // a server restart or pg_terminate_backend at that moment crashed the process. The statement in
  // flight still fails (503), and the pool drops the broken client when it is released.
  pool.on('connect', (client) => { client.on('error', () => {}) })
  const description = describeUrl(url)
  try {
    const client = await pool.connect()
    client.release()
  } catch (err) {
    await pool.end().catch(() => {})
    throw new DtrError('DTR_ERR_STORE', `Cannot connect to ${description} (DTR_DATABASE_URL): ${(err as Error).message}`, { cause: err })
  }
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) })
  const signals = postgresSignals(url, pool)
  let closed: Promise<void> | undefined
  return {
    dialect: postgresDialect,
    db,
    description,
    signals,
    async close () {
      // Kysely ends the pool only if it ever ran a query through it; an engine closed before
      // that (a failed migration, a test) would keep an idle connection open for 10 s.
      closed ??= signals.stopAll().then(async () => db.destroy()).then(async () => { if (!pool.ended) await pool.end() })
      await closed
    },
  }
}
