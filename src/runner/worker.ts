/**
 * The loop that turns queued jobs into work: claim, hold the lease while the handler runs, record
 * how it ended. One worker serves one queue; the runner starts one per queue (notifications, runs,
 * verifications, write-backs).
 *
 * - Leases are short (about 10 s) and renewed while the handler is alive, so a job whose process
 *   died is claimed again by any process within seconds of the lease's end; a handler learns it
 *   lost its lease through its AbortSignal.
 * - The worker sleeps until woken (an in-process signal when intake commits, LISTEN/NOTIFY on
 *   PostgreSQL for other replicas) or until the poll interval passes, its fallback.
 * - A renewal that fails (the store did not answer) is not a renewal: the handler is aborted at
 *   once, while the lease it had is still valid, rather than working on past a lease that may lapse.
 * - Stopping stops claiming, then waits for the handlers in flight up to a grace period; those
 *   still running are aborted, and each lease is released only once its handler has settled (up
 *   to settleMs), so no other process resumes a job whose request is still in flight here.
 */
import { setMaxListeners } from 'node:events'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { Job, JobQueue } from '../store/queue.js'
import { isTransientFault, MAX_POISON_ATTEMPTS } from './poison.js'

/** Most due times a worker keeps (a big outage's verifications: ~3,000); past it, the poll's. */
export const MAX_DUE_TIMES = 10_000

export type JobResult =
  | { readonly status: 'done' }
  /** Try again after delayMs (a retryable fault, or work that must wait). */
  | { readonly status: 'retry', readonly delayMs: number, readonly error: string }
  | { readonly status: 'failed', readonly error: string }

export interface JobContext {
  /** Aborted when the lease is lost or the worker stops past its grace period. */
  readonly signal: AbortSignal
  readonly log: Logger
}

export type JobHandler<Payload> = (job: Job<Payload>, ctx: JobContext) => Promise<JobResult>

export interface WorkerOptions<Payload> {
  readonly queue: string
  readonly jobs: JobQueue
  readonly handler: JobHandler<Payload>
  readonly clock: Clock
  readonly log: Logger
  /** Identifies this process in leases. */
  readonly owner: string
  readonly leaseMs: number
  /** Renew this often while a handler runs; default a third of the lease. */
  readonly renewMs?: number
  /** Fallback poll when no wake-up comes. */
  readonly pollMs: number
  /** Handlers in flight at once. */
  readonly concurrency: number
  /** Called when a job is claimed after its lease ran out (a takeover after a crash or a stall). */
  readonly onTakeover?: (job: Job<Payload>) => void
  /** Called when renewing a job's lease failed (its handler is then aborted). */
  readonly onRenewalFailed?: (job: Job<Payload>) => void
  /**
   * At stop, how long an aborted handler may take to settle before its lease is released; one that
   * takes longer keeps its lease (no longer renewed) until it runs out. Default: one lease.
   */
  readonly settleMs?: number
  /**
   * Called once when a job is failed for good as poison: taken over `maxPoison` times (each
   * holder died) or failed `maxPoison` times with an error retrying cannot cure.
   */
  readonly onPoison?: (job: Job<Payload>, reason: 'crashed' | 'error', error: string) => void | Promise<void>
  /** The bound of takeovers and incurable failures; default MAX_POISON_ATTEMPTS (5). */
  readonly maxPoison?: number
  /**
   * Awaited before each claim: work that must let something more urgent go first waits here.
   * True when it had to wait: the worker then claims one job, not as many as it has room for.
   */
  readonly yieldTo?: () => Promise<boolean>
}

export interface Worker {
  /** Claim now instead of at the next poll. */
  wake(): void
  /**
   * A job of this worker's queue comes due at `at` (a clock time): claim then rather than at the
   * next poll after it; now if it is due already.
   */
  dueAt(at: number): void
  /** Resolves once a claim found nothing and nothing runs (tests). */
  idle(): Promise<void>
  /** Handlers running now. */
  busy(): number
  /** Stops claiming, waits up to graceMs for handlers, aborts the rest and releases each lease once its handler settled. */
  stop(graceMs: number): Promise<void>
}

export function startWorker<Payload> (options: WorkerOptions<Payload>): Worker {
  const { queue, jobs, handler, clock, log, owner } = options
  const renewMs = options.renewMs ?? Math.max(1, Math.floor(options.leaseMs / 3))
  const settleMs = options.settleMs ?? options.leaseMs
  /** controller: the handler's signal; finished: stops renewing the lease; done: the job ended here. */
  const running = new Map<string, { readonly controller: AbortController, readonly finished: AbortController, done: Promise<void> }>()
  /** Jobs whose lease stop() gave back: their end is not recorded, another process resumes them. */
  const released = new Set<string>()
  const stopping = new AbortController()
  let wakeUp: (() => void) | undefined
  /** Set while napping: ends the nap's sleep so that it sleeps again until an earlier end. */
  let shortenNap: (() => void) | undefined
  let woken = false
  /**
   * Whether jobs may be waiting that this worker left for want of room (it was full, or its
   * claim came back full): then a job's end claims again at once. Otherwise the queue was found
   * empty, and new work wakes the worker itself (the store's enqueue, intake), or the poll finds
   * it (a job come due, a lease run out).
   */
  let backlog = false
  /**
   * When jobs of this queue come due, in order: those this worker gave back to wait (a retry, a
   * fault's backoff), and those enqueued for later through this process's store (a verification
   * after verifyAfter, an approval's expiry). Its nap ends at the first of them rather than at
   * the next poll. At most MAX_DUE_TIMES are kept (the latest are left to the poll), and none
   * survives a restart: the poll finds those, within pollMs of their time.
   */
  const dueTimes: number[] = []
  /** When the nap under way ends (undefined: not napping). */
  let napEnd: number | undefined
  const idleWaiters: Array<() => void> = []

  const wake = (): void => {
    woken = true
    wakeUp?.()
  }

  /** A job of this worker's queue is due at `at`: claim it then. */
  const dueAt = (at: number): void => {
    if (at <= clock.now()) {
      wake()
      return
    }
    if (dueTimes.length >= MAX_DUE_TIMES && at >= (dueTimes[dueTimes.length - 1] as number)) return
    let i = dueTimes.length
    while (i > 0 && (dueTimes[i - 1] as number) > at) i--
    dueTimes.splice(i, 0, at)
    if (dueTimes.length > MAX_DUE_TIMES) dueTimes.pop()
    // A claim now would find nothing: the nap under way only ends sooner.
    if (napEnd !== undefined && at < napEnd) shortenNap?.()
  }

  /** Renews the lease until `done` aborts; aborts `controller` if the lease was lost. */
  async function holdLease (job: Job<Payload>, controller: AbortController, done: AbortSignal, jobLog: Logger): Promise<boolean> {
    while (!done.aborted) {
      try {
        await clock.sleep(renewMs, done)
      } catch {
        return false
      }
      const held = await jobs.renew(job.id, owner, options.leaseMs).catch((err: unknown) => {
        jobLog.error({ err }, 'renewing the lease failed: the work is aborted; the job is taken up again once its lease runs out')
        options.onRenewalFailed?.(job)
        return undefined
      })
      // Not knowing whether the lease is still ours is not holding it: stop the work now, while
      // the lease last renewed is still valid, rather than act past it. (Work that ended while
      // the renewal was under way records its end as usual.)
      if (held === undefined) {
        if (done.aborted) return false
        controller.abort(new Error('lease renewal failed'))
        return true
      }
      if (!held) {
        jobLog.warn('lease lost: another process took the job over')
        controller.abort(new Error('lease lost'))
        return true
      }
    }
    return false
  }

  const maxPoison = options.maxPoison ?? MAX_POISON_ATTEMPTS

  /** Fails the job for good as poison; says so once. */
  async function poisoned (job: Job<Payload>, jobLog: Logger, reason: 'crashed' | 'error', error: string): Promise<void> {
    const failed = await jobs.fail(job.id, owner, error).catch((err: unknown) => {
      jobLog.error({ err }, 'could not mark a poison job failed; it is taken up again after its lease')
      return false
    })
    if (!failed) return
    jobLog.error({ event: 'job-poisoned', reason, error }, `job failed for good: ${error}`)
    // What the job stood for ends too (a run it was to execute is failed, saying why); a failure
    // there leaves that record as it was, with nothing left to act on it.
    await Promise.resolve(options.onPoison?.(job, reason, error)).catch((err: unknown) => {
      jobLog.error({ err }, 'the poison job failed for good, but what it stood for could not be marked so')
    })
  }

  async function execute (job: Job<Payload>, controller: AbortController, finished: AbortController): Promise<void> {
    // `log` names the queue already (a binding given twice is written twice).
    const jobLog = log.child({ jobId: job.id, key: job.key, attempt: job.attempts })
    // Each process that held it died (a notification that runs the heap out, taken over by every
    // restart): a crash loop across every replica unless it stops here.
    if (job.takenOver && job.takeovers >= maxPoison) {
      await poisoned(job, jobLog, 'crashed', `taken over ${job.takeovers} times: each process that held it died before it finished (out of memory?); not tried again`)
      return
    }
    const leaseLost = holdLease(job, controller, finished.signal, jobLog)
    let result: JobResult
    let incurable = false
    try {
      result = await handler(job, { signal: controller.signal, log: jobLog })
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      incurable = !isTransientFault(err)
      if (incurable && job.faults + 1 >= maxPoison) {
        result = { status: 'failed', error: `failed ${job.faults + 1} times with an error retrying cannot cure: ${message}` }
      } else {
        jobLog.error({ err }, 'job handler threw; the job is retried')
        result = { status: 'retry', delayMs: Math.min(60_000, 1000 * 2 ** Math.min(job.attempts, 6)), error: message }
      }
    }
    finished.abort()
    if (await leaseLost || released.has(job.id)) return
    if (incurable && result.status === 'failed') {
      await poisoned(job, jobLog, 'error', result.error)
      return
    }
    try {
      if (result.status === 'done') {
        await jobs.complete(job.id, owner)
      } else if (result.status === 'retry') {
        const delayed = incurable ? await jobs.fault(job.id, owner, result.delayMs, result.error) : await jobs.retry(job.id, owner, result.delayMs, result.error)
        // (Read after the statement, whose own "now" its delay counts from: never before the job is due.)
        if (delayed) dueAt(clock.now() + result.delayMs)
      } else {
        await jobs.fail(job.id, owner, result.error)
      }
    } catch (err) {
      // The lease runs out and the job is taken up again: handlers are safe to repeat.
      jobLog.error({ err }, 'could not record the end of a job; it is taken up again after its lease')
    }
  }

  async function loop (): Promise<void> {
    while (!stopping.signal.aborted) {
      woken = false
      // This claim finds every job due by now.
      const now = clock.now()
      while (dueTimes.length > 0 && (dueTimes[0] as number) <= now) dueTimes.shift()
      const free = options.concurrency - running.size
      let claimed: Array<Job<Payload>> = []
      let limit = free
      if (free > 0) {
        try {
          if (await options.yieldTo?.() === true) limit = 1
          claimed = await jobs.claim<Payload>(queue, owner, { leaseMs: options.leaseMs, limit })
          backlog = claimed.length === limit
        } catch (err) {
          backlog = true
          log.error({ err, queue }, 'claiming jobs failed; trying again at the next poll')
        }
      } else {
        backlog = true
      }
      for (const job of claimed) {
        if (job.takenOver) options.onTakeover?.(job)
        const entry = { controller: new AbortController(), finished: new AbortController(), done: Promise.resolve() }
        // Each of the job's reads listens on its signal until answered: a notification with 2,000
        // entities asks for all of them at once. Node's "possible memory leak" warning past 10
        // listeners would only mislead whoever reads the log; the signal ends with the job.
        setMaxListeners(0, entry.controller.signal)
        running.set(job.id, entry)
        entry.done = execute(job, entry.controller, entry.finished).finally(() => {
          running.delete(job.id)
          // (Someone waiting for idle() is told by the claim that finds nothing.)
          if (backlog || idleWaiters.length > 0) wake()
        })
      }
      if (stopping.signal.aborted) break
      // A full claim may have left more: claim again before sleeping.
      if (claimed.length > 0 && claimed.length === limit) continue
      if (woken) continue
      if (running.size === 0) for (const resolve of idleWaiters.splice(0)) resolve()
      await napUntilDue()
    }
  }

  /**
   * Sleeps until woken, or until the first due time or the poll interval passes; a wake-up
   * cancels the sleep's timer. A due time told meanwhile that is earlier than the nap's end
   * shortens the nap, with no claim in between (each claim is a statement).
   */
  async function napUntilDue (): Promise<void> {
    let nap = new AbortController()
    const onStop = (): void => nap.abort()
    stopping.signal.addEventListener('abort', onStop, { once: true })
    for (;;) {
      let shortened = false
      const napMs = Math.min(options.pollMs, Math.max(0, (dueTimes[0] ?? Infinity) - clock.now()))
      napEnd = clock.now() + napMs
      await new Promise<void>((resolve) => {
        wakeUp = resolve
        shortenNap = () => { shortened = true; resolve() }
        clock.sleep(napMs, nap.signal).then(resolve, resolve)
      })
      nap.abort()
      if (!shortened || woken || stopping.signal.aborted) break
      nap = new AbortController()
    }
    napEnd = undefined
    wakeUp = undefined
    shortenNap = undefined
    stopping.signal.removeEventListener('abort', onStop)
  }

  const looping = loop()

  return {
    wake,
    dueAt,
    async idle () {
      const waiting = new Promise<void>((resolve) => idleWaiters.push(resolve))
      wake()
      await waiting
    },
    busy: () => running.size,
    async stop (graceMs) {
      stopping.abort(new Error('stopping'))
      wakeUp?.()
      await looping
      for (const resolve of idleWaiters.splice(0)) resolve()
      const inFlight = [...running.entries()]
      if (inFlight.length === 0) return
      const timer = new AbortController()
      const graceOver = clock.sleep(graceMs, timer.signal).then(() => true, () => false)
      const allDone = Promise.all(inFlight.map(([, r]) => r.done)).then(() => false)
      if (!(await Promise.race([allDone, graceOver]))) {
        timer.abort()
        return
      }
      timer.abort()
      // Abort first, release after: a lease given back while the handler's request is still in
      // flight lets another process resume the run and act a second time.
      const left = [...running.entries()]
      log.warn({ queue, jobs: left.length }, 'grace period over: aborting the jobs still running; each lease is given back once its handler has stopped')
      const settleTimer = new AbortController()
      const settleOver = clock.sleep(settleMs, settleTimer.signal).then(() => false, () => false)
      for (const [id, r] of left) {
        released.add(id)
        r.controller.abort(new Error('shutting down'))
      }
      await Promise.all(left.map(async ([id, r]) => {
        if (await Promise.race([r.done.then(() => true), settleOver])) {
          await jobs.retry(id, owner, 0, 'lease released at shutdown').catch((err: unknown) => { log.error({ err, jobId: id }, 'could not release a lease; it runs out instead') })
          return
        }
        // Still running after its abort: keep the lease (no longer renewed), so nobody resumes the
        // job before it runs out; by then this process is gone or the handler has stopped.
        r.finished.abort()
        log.error({ queue, jobId: id, settleMs }, 'a job did not stop within settleMs of its abort: its lease is not given back early, it runs out')
      }))
      settleTimer.abort()
    },
  }
}
