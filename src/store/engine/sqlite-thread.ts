/**
 * SQLite on its own thread. better-sqlite3 is synchronous: a commit with `synchronous=FULL`
 * blocks its thread for the fsync, which on a network volume takes milliseconds and with a slow
 * disk tens of them. On the main thread that pauses every request in flight (README,
 * "Performance": measured with strace delaying each fsync), so the store's one connection lives
 * in a worker thread and Kysely talks to it through this driver: each compiled statement is
 * posted to the worker, run there, and its rows posted back.
 *
 * Kysely serialises the use of the connection (SqliteAdapter has no multiple connections), so a
 * transaction's statements never interleave with another's. The worker body is a function of
 * this file sent as source text (`eval`), so that it starts without the TypeScript loader the
 * tests run under and without a separate file to ship; it must therefore stay self-contained.
 *
 * A round trip is what a statement costs here (a message each way, a wake-up of each thread),
 * more than SQLite's own work on the small statements the service runs; so BEGIN is not a
 * message of its own but travels with the transaction's first statement, and a transaction that
 * ran no statement sends neither BEGIN nor COMMIT. Every statement of a transaction carries the
 * transaction's number, and the thread runs it only while that transaction is open: a statement
 * behind one that failed and made SQLite roll the transaction back (a full disk does) fails too,
 * instead of running, and committing, outside any transaction.
 *
 * Kysely never has two statements of one connection out at once, not even those a transaction
 * starts together with Promise.all, so a transaction's statements cannot share a message. Where
 * they are all known before the first is sent and none needs another's answer (intake's group
 * commit: insert, enqueue, read back the winners), they go instead as one script (`runScript`,
 * outside Kysely's transaction): one message that BEGINs, runs each, COMMITs, and rolls back all
 * of it when any fails, COMMIT included. Under load the messages themselves were the largest item
 * of intake's main thread (postMessage, and the writer thread's wake-up that preempts it on a
 * busy machine), and a group commit sent four.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import {
  CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler,
  type DatabaseConnection, type Dialect as KyselyDialect, type Driver, type Kysely, type QueryResult,
} from 'kysely'
import { DtrError } from '../../errors.js'

export interface SqliteOpenOptions {
  /** The database file. */
  readonly path: string
  /** PRAGMA statements run on open, e.g. `journal_mode = WAL`. */
  readonly pragmas: readonly string[]
  /** busy_timeout in ms. */
  readonly busyTimeoutMs: number
  /** The writer thread's heap limits; Node's defaults unless given (tests make it small to see it die). */
  readonly resourceLimits?: import('node:worker_threads').ResourceLimits
}

interface Request {
  id: number
  sql?: string
  params?: readonly unknown[]
  /** The transaction the statement belongs to; it runs only while that transaction is open. */
  tx?: number
  /** Open transaction `tx` (BEGIN IMMEDIATE) before the statement. */
  begin?: true
  /** End transaction `tx`: a rollback of one no longer open is a no-op, a commit of one is an error. */
  end?: 'commit' | 'rollback'
  /** Run these statements as one transaction of their own (BEGIN IMMEDIATE … COMMIT, all or nothing). */
  script?: ReadonlyArray<{ readonly sql: string, readonly params: readonly unknown[] }>
  close?: true
}
interface Reply {
  id: number
  rows?: unknown[]
  changes?: number
  lastInsertRowid?: number | bigint
  error?: { message: string, code?: string }
  ready?: true
  closed?: true
  /** A script's statements' results, in order. */
  results?: StatementResult[]
}
type StatementResult = Pick<Reply, 'rows' | 'changes' | 'lastInsertRowid'>

/**
 * The worker's body, run from its source text; `require` is the worker's own. Keep it free of
 * references to anything outside it.
 */
function writerThread (require: NodeJS.Require): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads')
  const options = workerData as SqliteOpenOptions & { driver: string }
  const port = parentPort as import('node:worker_threads').MessagePort
  const Database = require(options.driver) as typeof import('better-sqlite3')
  let db: import('better-sqlite3').Database
  try {
    db = new Database(options.path, { timeout: options.busyTimeoutMs })
    for (const pragma of options.pragmas) db.pragma(pragma)
  } catch (err) {
    port.postMessage({ id: 0, error: { message: (err as Error).message, code: (err as { code?: string }).code } })
    return
  }
  // Prepared statements by SQL text: the same few queries run all day. Bounded, because a batch
  // insert's text varies with its row count.
  const statements = new Map<string, import('better-sqlite3').Statement>()
  const prepared = (sql: string): import('better-sqlite3').Statement => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
      if (statements.size > 200) statements.delete(statements.keys().next().value as string)
    }
    return statement
  }
  // IMMEDIATE takes the write lock at BEGIN, so a transaction never fails half-way with BUSY
  // because a reader (a backup) upgraded first.
  const begin = db.prepare('begin immediate')
  const commit = db.prepare('commit')
  const rollback = db.prepare('rollback')
  /** The transaction open now, by the number its statements carry. */
  let open: number | undefined
  const isOpen = (tx: number | undefined): boolean => tx !== undefined && open === tx && db.inTransaction
  const notOpen = (tx: number | undefined): Error => Object.assign(new Error(`The transaction (${String(tx)}) is no longer open: an earlier statement of it failed and SQLite rolled it back`), { code: 'SQLITE_ABORT' })

  function run (request: Request): Omit<Reply, 'id'> {
    if (request.begin === true) {
      if (db.inTransaction) throw new Error('BEGIN while another transaction is open')
      begin.run()
      open = request.tx
    }
    if (request.end === 'rollback') {
      if (isOpen(request.tx)) rollback.run()
      open = undefined
      return { changes: 0 }
    }
    if (request.end === 'commit') {
      if (!isOpen(request.tx)) throw notOpen(request.tx)
      commit.run()
      open = undefined
      return { changes: 0 }
    }
    if (request.script !== undefined) {
      if (db.inTransaction) throw new Error('A script while a transaction is open: a script is a transaction of its own')
      begin.run()
      try {
        const results = request.script.map((s) => statementOf(s.sql, s.params))
        commit.run()
        return { results }
      } catch (err) {
        // A failed statement leaves the transaction open, a failed COMMIT may too; where SQLite
        // rolled it back itself (RAISE(ROLLBACK), a full disk) there is nothing left to end.
        if (db.inTransaction) rollback.run()
        throw err
      }
    }
    if (request.tx !== undefined && !isOpen(request.tx)) throw notOpen(request.tx)
    return statementOf(request.sql as string, request.params)
  }

  function statementOf (sql: string, params: readonly unknown[] = []): StatementResult {
    const statement = prepared(sql)
    if (statement.reader) return { rows: statement.all(...params) }
    const { changes, lastInsertRowid } = statement.run(...params)
    return { changes, lastInsertRowid }
  }

  port.on('message', (request: Request) => {
    if (request.close === true) {
      db.close()
      port.postMessage({ id: request.id, closed: true })
      port.close()
      return
    }
    try {
      port.postMessage({ id: request.id, ...run(request) })
    } catch (err) {
      port.postMessage({ id: request.id, error: { message: (err as Error).message, code: (err as { code?: string }).code } })
    }
  })
  port.postMessage({ id: 0, ready: true })
}

/** An error from the worker, with SQLite's code (SQLITE_FULL, SQLITE_CONSTRAINT_UNIQUE, …). */
function toError (error: { message: string, code?: string }): Error {
  return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code })
}

function toQueryResult<R> (result: StatementResult): QueryResult<R> {
  if (result.rows !== undefined) return { rows: result.rows as R[] }
  return {
    rows: [],
    numAffectedRows: result.changes === undefined ? undefined : BigInt(result.changes),
    insertId: result.lastInsertRowid === undefined ? undefined : BigInt(result.lastInsertRowid),
  }
}

/** Marks a CompiledQuery that carries a script: Kysely hands it to the connection as it is. */
const SCRIPT = Symbol('dt-remediator.sqlite-thread.script')
interface ScriptQuery extends CompiledQuery { readonly [SCRIPT]: readonly CompiledQuery[] }

/**
 * Runs compiled statements as one transaction of their own, in one round trip to the writer
 * thread: all of them or none (a failing statement or COMMIT rolls everything back and fails the
 * call with SQLite's error). Each statement's result comes back in order. Only for a Kysely on
 * SqliteThreadDialect, outside any transaction; the statements are compiled already, so Kysely's
 * plugins cannot transform them, and a plugin's transformResult would be handed the results' array
 * as one query's rows (a caller with plugins builds its statements in a transaction instead).
 */
export async function runScript (db: Kysely<any>, statements: readonly CompiledQuery[]): Promise<Array<QueryResult<unknown>>> {
  if (db.isTransaction) throw new Error('A script is a transaction of its own; it cannot run inside one')
  const query: ScriptQuery = { ...CompiledQuery.raw(`-- a script of ${statements.length} statements`), [SCRIPT]: statements }
  return (await db.executeQuery(query)).rows as Array<QueryResult<unknown>>
}

class ThreadConnection implements DatabaseConnection {
  readonly #thread: WriterThread
  #lastTx = 0
  /** The transaction open on this connection (Kysely lets one caller at a time use it). */
  #tx: number | undefined
  /** Its BEGIN, not sent yet: it goes with the first statement. */
  #beginDue = false
  constructor (thread: WriterThread) { this.#thread = thread }

  async executeQuery<R> (query: CompiledQuery): Promise<QueryResult<R>> {
    const script = (query as Partial<ScriptQuery>)[SCRIPT]
    if (script !== undefined) {
      if (this.#tx !== undefined) throw new Error('A script is a transaction of its own; it cannot run inside one')
      const reply = await this.#thread.call({ script: script.map((q) => ({ sql: q.sql, params: q.parameters })) })
      return { rows: (reply.results ?? []).map(toQueryResult) as R[] }
    }
    const request: Omit<Request, 'id'> = { sql: query.sql, params: query.parameters }
    if (this.#tx !== undefined) {
      request.tx = this.#tx
      if (this.#beginDue) request.begin = true
      this.#beginDue = false
    }
    return toQueryResult(await this.#thread.call(request))
  }

  begin (): void {
    this.#tx = ++this.#lastTx
    this.#beginDue = true
  }

  /** Commits or rolls back the open transaction; one that sent no statement has nothing to end. */
  async end (how: 'commit' | 'rollback'): Promise<void> {
    const tx = this.#tx
    const sent = !this.#beginDue
    this.#tx = undefined
    this.#beginDue = false
    if (tx !== undefined && sent) await this.#thread.call({ tx, end: how })
  }

  async * streamQuery<R> (): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the SQLite writer thread')
  }
}

/** The worker and the calls waiting for its answers. */
class WriterThread {
  readonly #worker: Worker
  readonly #pending = new Map<number, { resolve(reply: Reply): void, reject(err: Error): void }>()
  #nextId = 1
  /** Requests sent so far: each one a round trip. */
  sent = 0
  #failure: Error | undefined
  #closing = false
  /** Why the thread ended when nobody closed it (out of memory, a crash): the store is gone for good. */
  #death: Error | undefined
  readonly ready: Promise<void>

  constructor (options: SqliteOpenOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    // execArgv: [] keeps the parent's loaders (the tests' TypeScript hook) out of the worker.
    const { resourceLimits, ...open } = options
    this.#worker = new Worker(`(${writerThread.toString()})(require)`, { eval: true, execArgv: [], workerData: { ...open, driver }, ...(resourceLimits === undefined ? {} : { resourceLimits }) })
    this.ready = new Promise((resolve, reject) => {
      this.#pending.set(0, {
        resolve: (reply) => { if (reply.error === undefined) resolve(); else reject(toError(reply.error)) },
        reject,
      })
    })
    this.#worker.on('message', (reply: Reply) => {
      const waiting = this.#pending.get(reply.id)
      if (waiting === undefined) return
      this.#pending.delete(reply.id)
      if (reply.error !== undefined && reply.id !== 0) waiting.reject(toError(reply.error))
      else waiting.resolve(reply)
    })
    const fail = (err: Error): void => {
      this.#failure ??= err
      for (const waiting of this.#pending.values()) waiting.reject(this.#failure)
      this.#pending.clear()
    }
    this.#worker.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code
      fail(new DtrError('DTR_ERR_STORE', `The embedded store's writer thread failed: ${err.message}${code === undefined ? '' : ` (${code})`}`, { cause: err }))
    })
    this.#worker.on('exit', (exitCode) => {
      if (!this.#closing) this.#death = this.#failure ?? new DtrError('DTR_ERR_STORE', `The embedded store's writer thread ended on its own (exit code ${exitCode})`)
      fail(new DtrError('DTR_ERR_STORE', 'The embedded store is closed'))
    })
  }

  /** Set once the thread has ended without close(): nothing can be stored until the process restarts. */
  get death (): Error | undefined { return this.#death }

  async call (request: Omit<Request, 'id'>): Promise<Reply> {
    if (this.#failure !== undefined) throw this.#failure
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.sent++
      this.#worker.postMessage({ ...request, id })
    })
  }

  async close (): Promise<void> {
    this.#closing = true
    if (this.#failure !== undefined) return
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve))
    await this.call({ close: true }).catch(() => {})
    await exited
  }
}

class ThreadDriver implements Driver {
  readonly #options: SqliteOpenOptions
  #thread: WriterThread | undefined
  #connection: ThreadConnection | undefined

  constructor (options: SqliteOpenOptions) { this.#options = options }

  async init (): Promise<void> {
    const thread = new WriterThread(this.#options)
    try {
      await thread.ready
    } catch (err) {
      await thread.close()
      throw err
    }
    this.#thread = thread
    this.#connection = new ThreadConnection(thread)
  }

  async acquireConnection (): Promise<DatabaseConnection> { return this.#connection as ThreadConnection }
  // BEGIN (IMMEDIATE, in the thread) leaves with the transaction's first statement.
  async beginTransaction (connection: DatabaseConnection): Promise<void> { (connection as ThreadConnection).begin() }
  async commitTransaction (connection: DatabaseConnection): Promise<void> { await (connection as ThreadConnection).end('commit') }
  async rollbackTransaction (connection: DatabaseConnection): Promise<void> { await (connection as ThreadConnection).end('rollback') }
  async releaseConnection (): Promise<void> {}
  async destroy (): Promise<void> { await this.#thread?.close() }
  get death (): Error | undefined { return this.#thread?.death }
  get sent (): number { return this.#thread?.sent ?? 0 }
}

/** Kysely's SQLite dialect with the connection in a worker thread. */
export class SqliteThreadDialect implements KyselyDialect {
  readonly #options: SqliteOpenOptions
  #driver: ThreadDriver | undefined
  constructor (options: SqliteOpenOptions) { this.#options = options }
  createAdapter (): SqliteAdapter { return new SqliteAdapter() }
  createDriver (): Driver {
    this.#driver = new ThreadDriver(this.#options)
    return this.#driver
  }

  /** Why the writer thread ended by itself, if it did (Engine.broken). */
  broken (): string | undefined { return this.#driver?.death?.message }
  /** Requests sent to the writer thread so far, each a round trip (tests and measurements). */
  roundTrips (): number { return this.#driver?.sent ?? 0 }
  createQueryCompiler (): SqliteQueryCompiler { return new SqliteQueryCompiler() }
  createIntrospector (db: Kysely<unknown>): SqliteIntrospector { return new SqliteIntrospector(db) }
}
