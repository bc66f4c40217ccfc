/**
 * Starts the durable runner (src/runner) once the app is ready and stops it when the app closes:
 * it stops claiming, lets work in flight finish within the grace period and gives back the
 * leases of what still runs, so another process resumes it at once — all before the store
 * closes. Decorates `fastify.runner` (wake, idle) so intake can wake the workers the moment a
 * notification is committed.
 */
import fp from 'fastify-plugin'
import { startRunner, type Runner, type RunnerDeps } from '../src/runner/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The runner; its wake() is a no-op when the runner is off. */
    runner: Pick<Runner, 'wake' | 'idle'>
  }
}

export interface RunnerPluginOptions {
  /** Everything but what the app already holds (store, rules, metrics). */
  readonly deps: Omit<RunnerDeps, 'store' | 'rules' | 'metrics'>
  /** false: plan and execute nothing (the admin API and intake still work). */
  readonly enabled: boolean
}

export default fp<RunnerPluginOptions>(async function runnerPlugin (fastify, options) {
  let runner: Runner | undefined
  fastify.decorate('runner', {
    wake: () => runner?.wake(),
    idle: async () => { await runner?.idle() },
  })
  if (!options.enabled) return
  fastify.addHook('onReady', async () => {
    runner = startRunner({ ...options.deps, store: fastify.store, rules: () => fastify.rules.current, metrics: fastify.metrics })
  })
  // preClose: before the store plugin's onClose closes the store under the workers.
  fastify.addHook('preClose', async () => {
    await runner?.stop()
    runner = undefined
  })
}, { name: 'runner', fastify: '5.x', dependencies: ['store', 'rules', 'metrics'] })
