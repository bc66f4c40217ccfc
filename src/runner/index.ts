/**
 * The durable runner: one worker per queue, each claiming its jobs under a lease — accepted
 * notifications to plan, next ladder steps to plan, runs to execute, timers (verifications,
 * approval expiries), write-backs to deliver. Nothing here is Fastify; plugins/runner.ts starts
 * it with the app and stops it on close.
 */
import type { Job } from '../store/queue.js'
import type { RunnerDeps } from './deps.js'
import { handleNotification, handlePlanNext } from './notifications.js'
import { RECONCILE_LEASE, startReconciler, type Reconciler } from './reconcile/index.js'
import { QUEUES } from './queues.js'
import { failPoisonedRun, handleRun, type RunJob } from './execute.js'
import { handleTimer } from './timers.js'
import { startWorker, type JobContext, type JobResult, type Worker } from './worker.js'
import { handleWriteBack } from './writeback.js'

// The runner's one surface: the app, its plugins, routes and the CLI import from here, never from
// the files behind it (tests may reach in).
export type { RunnerDeps, RunnerTimings } from './deps.js'
export { defaultTimings } from './deps.js'
export { approve, reject } from './approvals.js'
export type { ApprovalResult } from './approvals.js'
export { cancelRemovedRuns } from './reload.js'
export { readPause, writePause } from './pause.js'
// simulate runs the runner's own planning and gate reads, without a store of its own.
export { enrich } from './enrich.js'
export type { NotificationInput } from './enrich.js'
export { planNotification, runInputs } from './plan.js'
export type { NotificationPlan, RunPlan } from './plan.js'
export { gateFacts, skipAnnotated } from './gates.js'
export type { GateFactSource } from './gates.js'

export interface Runner {
  /**
   * Wake the workers now (a replica notified, the pause lifted), or only the one of `queue`
   * (intake committed a notification: only the notification queue has new work).
   */
  wake(queue?: string): void
  /** Resolves once no worker has work it can claim now (tests). */
  idle(): Promise<void>
  /** Stop claiming; wait up to the grace period; give back the leases of what still runs. */
  stop(): Promise<void>
}

/**
 * How many jobs of each queue run at once in this process. A notification's or a run's job spends
 * most of its time waiting for Dynatrace — an outage's 429s ask for a second's wait each — not
 * holding a request slot (the client's limiter bounds those, 8 by default) nor the CPU; so many
 * wait at once, and the more notifications enrich together, the fuller the shared entity and event
 * requests (./batch.ts). In the outage bench (1,000 problems in 10 s, 10% 429s), 6 notification
 * jobs planned about 4 problems a second.
 */
const CONCURRENCY: Readonly<Record<keyof typeof QUEUES, number>> = { notification: 64, plan: 2, run: 32, timer: 2, writeback: 16 }

export async function startRunner (deps: RunnerDeps): Promise<Runner> {
  if (deps.store.engine === 'sqlite') {
    // One owner (an OS lock): whatever is leased was leased by a process that died. Take it over
    // now, before any worker claims, rather than after its lease: a restart resumes at once.
    const n = await deps.store.jobs.releaseAll()
    if (n > 0) deps.log.warn({ jobs: n }, 'resuming jobs a previous process left leased (it stopped without releasing them)')
    // Reconciliation's turn too: the first pass after a restart catches up on the outage at once.
    const holder = await deps.store.leases.holder(RECONCILE_LEASE)
    if (holder !== undefined && holder !== deps.owner) await deps.store.leases.release(RECONCILE_LEASE, holder)
  }
  const handlers: Record<keyof typeof QUEUES, (job: Job<never>, ctx: JobContext) => Promise<JobResult>> = {
    notification: async (job, ctx) => handleNotification(deps, job, ctx),
    plan: async (job, ctx) => handlePlanNext(deps, job, ctx),
    run: async (job, ctx) => handleRun(deps, job, ctx),
    timer: async (job, ctx) => handleTimer(deps, job, ctx),
    writeback: async (job, ctx) => handleWriteBack(deps, job, ctx),
  }
  let workers: Worker[] = []
  const wakeAll = (): void => { for (const w of workers) w.wake() }
  workers = (Object.keys(QUEUES) as Array<keyof typeof QUEUES>).map((name) => startWorker<never>({
    queue: QUEUES[name],
    jobs: deps.store.jobs,
    handler: handlers[name],
    clock: deps.clock,
    log: deps.log.child({ queue: QUEUES[name] }),
    owner: deps.owner,
    leaseMs: deps.timings.leaseMs,
    settleMs: deps.timings.settleMs,
    pollMs: deps.timings.pollMs,
    concurrency: CONCURRENCY[name],
    // SQLite has one writer: every transaction of the runner (a claim, a plan, a job's end) is
    // a commit that intake's group commit waits behind. Under a burst of webhooks the runner lets
    // intake go first, for up to intakeYieldMs per claim, and then claims one job at a time (each
    // job is a few commits of its own): what Dynatrace sends is answered at full speed (it does
    // not resend a refused notification), and the queued work, durable already, follows a moment
    // later. PostgreSQL commits in parallel, so there it does not wait.
    ...(deps.store.engine === 'sqlite' ? { yieldTo: async () => deps.store.notifications.settled(deps.timings.intakeYieldMs) } : {}),
    onRenewalFailed: () => { deps.metrics.leaseRenewalFailures.inc({ queue: QUEUES[name] }) },
    onTakeover: (job) => {
      deps.metrics.leaseTakeovers.inc({ queue: QUEUES[name] })
      deps.log.warn({ queue: QUEUES[name], jobId: job.id, key: job.key, attempt: job.attempts }, 'taking over a job whose lease ran out')
    },
    onPoison: async (job, reason, error) => {
      deps.metrics.poisonJobs.inc({ queue: QUEUES[name], reason })
      // A run whose job failed for good would otherwise stay queued or running forever.
      if (name === 'run') await failPoisonedRun(deps, (job as Job<RunJob>).payload.runId, error)
    },
  }))

  // What a job made for another queue (a run, a comment, the next step) wakes that queue's worker
  // once it is committed; the others sleep on. Waking every worker after every job cost a claim
  // statement per queue each time: five for each notification that planned nothing, each a turn
  // of the embedded store's one connection that intake's commits waited behind.
  const byQueue = new Map<string, Worker>((Object.keys(QUEUES) as Array<keyof typeof QUEUES>).map((name, i) => [QUEUES[name], workers[i] as Worker]))
  // A job enqueued for later (a verification, an approval's expiry) is claimed when it comes due.
  const stopListening = deps.store.onEnqueued((queue, at) => { byQueue.get(queue)?.dueAt(at) })

  const dynatrace = deps.dynatrace
  let reconciler: Reconciler | undefined
  if (dynatrace === undefined) {
    deps.log.info('DTR_DYNATRACE_URL is not set: no reconciliation with the Problems API; a notification Dynatrace fails to deliver is lost')
  } else if (deps.timings.reconcileIntervalMs <= 0) {
    deps.log.warn('DTR_RECONCILE_INTERVAL is 0: no reconciliation with the Problems API; a notification Dynatrace fails to deliver is lost')
  } else {
    deps.log.info({ intervalMs: deps.timings.reconcileIntervalMs }, 'reconciling with the Problems API at start and every DTR_RECONCILE_INTERVAL')
    reconciler = startReconciler({ ...deps, dynatrace }, wakeAll)
  }

  return {
    wake (queue) {
      // A queue this version does not know (another replica's, newer): everything.
      const worker = queue === undefined ? undefined : byQueue.get(queue)
      if (worker === undefined) wakeAll()
      else worker.wake()
    },
    async idle () {
      // A pass due now (the clock moved) may take problems in: let it finish first.
      await reconciler?.idle()
      // Idle means every queue idle at once: one pass may make work for another.
      for (;;) {
        await Promise.all(workers.map(async (w) => w.idle()))
        if (workers.some((w) => w.busy() > 0)) continue
        const due = await Promise.all(Object.values(QUEUES).map(async (q) => deps.store.jobs.due(q)))
        if (due.every((n) => n === 0) && workers.every((w) => w.busy() === 0)) return
      }
    },
    async stop () {
      stopListening()
      await reconciler?.stop()
      await Promise.all(workers.map(async (w) => w.stop(deps.timings.graceMs)))
    },
  }
}
