/**
 * Starts the durable runner (src/runner) once the app is ready and stops it when the app closes:
 * it stops claiming, lets work in flight finish within the grace period and gives back the
 * leases of what still runs, so another process resumes it at once — all before the store
 * closes. Decorates `fastify.runner`: notified() for intake, the moment a notification is
 * committed (and, through the store, every other replica's: LISTEN/NOTIFY on PostgreSQL), and
 * wake() for what may have made work for any queue (the pause lifted);
 * approve() and reject() for the admin API; idle() for tests.
 */
import fp from 'fastify-plugin'
import { approve, cancelRemovedRuns, reject, startRunner, type ApprovalResult, type Runner, type RunnerDeps } from '../src/runner/index.js'
import { QUEUES } from '../src/runner/queues.js'

export interface Decider {
  /** The admin token's name. */
  readonly tokenName: string
  /** The request body's `by`, recorded beside it. */
  readonly by?: string | undefined
  readonly reason?: string | undefined
  /** Where the call came from (the client address), for the timeline and the log. */
  readonly from: string
}

declare module 'fastify' {
  interface FastifyInstance {
    runner: {
      /** Wake the workers now; a no-op when the runner is off. */
      wake(): void
      /** Intake committed a notification: wake the notification queue's worker (the only one with new work). */
      notified(): void
      /** Resolves when the runner has nothing due (tests). */
      idle(): Promise<void>
      approve(runId: string, who: Decider): Promise<ApprovalResult>
      reject(runId: string, who: Decider): Promise<ApprovalResult>
    }
  }
}

export interface RunnerPluginOptions {
  /** Everything but what the app already holds (store, rules, metrics). */
  readonly deps: Omit<RunnerDeps, 'store' | 'rules' | 'metrics'>
  /** false: plan and execute nothing (intake and the admin API still work). */
  readonly enabled: boolean
}

export default fp<RunnerPluginOptions>(async function runnerPlugin (fastify, options) {
  const deps: RunnerDeps = { ...options.deps, store: fastify.store, rules: () => fastify.rules.current, metrics: fastify.metrics }
  fastify.metrics.useStoredState(async () => {
    const [pendingRuns, backlog] = await Promise.all([fastify.store.runs.pending(), fastify.store.outbox.backlog()])
    return { pendingRuns, writebackPending: backlog.pending, writebackOldestAt: backlog.oldestAt }
  })
  let runner: Runner | undefined
  let stopListening: (() => Promise<void>) | undefined
  fastify.decorate('runner', {
    // This process's workers, and every replica's through the store (LISTEN/NOTIFY on PostgreSQL).
    wake: () => { runner?.wake(); fastify.store.signals.send() },
    notified: () => { runner?.wake(QUEUES.notification); fastify.store.signals.send(QUEUES.notification) },
    idle: async () => { await runner?.idle() },
    approve: async (runId: string, who: Decider) => { const r = await approve(deps, runId, who); runner?.wake(); return r },
    reject: async (runId: string, who: Decider) => { const r = await reject(deps, runId, who); runner?.wake(); return r },
  })
  // Every replica, runner or not: a reload cancels at once the not-started runs of removed rules (SPEC 9).
  fastify.rules.onReload(async (ruleSet) => {
    const n = await cancelRemovedRuns(deps, ruleSet.rules)
    if (n > 0) deps.log.info({ event: 'runs-cancelled-by-reload', runs: n }, `${n} not-started runs cancelled: their rule or step was removed by the reload`)
  })
  if (!options.enabled) return
  fastify.addHook('onReady', async () => {
    runner = await startRunner(deps)
    const log = deps.log.child({ component: 'wake-signals' })
    // Another replica's wake-up names its queue, or none (everything; a replica of the version before).
    stopListening = await fastify.store.signals.listen((queue) => runner?.wake(queue), {
      clock: deps.clock,
      retryMs: deps.timings.pollMs,
      onError: (err) => log.warn({ err: err.message }, 'lost the connection that hears other replicas\' wake-ups; polling every %d ms until it is back', deps.timings.pollMs),
      onReconnect: () => log.info('hearing other replicas\' wake-ups again'),
    })
  })
  // preClose: before the store plugin's onClose closes the store under the workers.
  fastify.addHook('preClose', async () => {
    await stopListening?.()
    stopListening = undefined
    await runner?.stop()
    runner = undefined
  })
}, { name: 'runner', fastify: '5.x', dependencies: ['store', 'rules', 'metrics'] })
