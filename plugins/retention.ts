/**
 * Retention (DTR_RETENTION, SPEC 3) in the background: every `intervalMs` of the store's clock,
 * notifications and finished jobs older than the retention are pruned in small batches (what
 * stays regardless of age: src/store/retention.ts), with a turn of the event loop between
 * batches so that commits keep flowing; then the WAL is checkpointed. Decorates
 * `fastify.retention.prune()` for a pass on demand.
 *
 * A cooldown or budget window longer than the retention would lose the facts it counts, so
 * `longestWindowMs` (from the rules, once they have windows) longer than the retention stops
 * start-up.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../src/clock.js'
import { ConfigError } from '../src/errors.js'
import type { PruneResult } from '../src/store/retention.js'

declare module 'fastify' {
  interface FastifyInstance {
    retention: {
      /** One full pass now; resolves with what it removed. */
      prune(): Promise<PruneResult>
    }
  }
}

export interface RetentionOptions {
  readonly retentionMs: number
  /** The longest cooldown or budget window of the rules; 0 while there are none. */
  readonly longestWindowMs?: number
  readonly intervalMs?: number
  /** Rows per statement. */
  readonly batch?: number
  readonly clock: Clock
}

/** The recurrence gate's windows that are on (count 0 is off and needs no history). */
function recurrenceWindows (rules: FastifyInstance['rules']['current']['rules']): number[] {
  return [rules.defaults.maxRecurrences, ...rules.rules.map((r) => r.maxRecurrences)].filter((m) => m.count > 0).map((m) => m.perMs)
}

const formatHours = (ms: number): string => `${Math.ceil(ms / 3_600_000)}h`

export default fp<RetentionOptions>(async function retentionPlugin (fastify, options) {
  // The rules' own windows: every cooldown and every budget period.
  const rules = fastify.hasDecorator('rules') ? fastify.rules.current.rules : undefined
  const ruleWindows = rules === undefined ? [] : [rules.defaults.cooldownMs, ...rules.rules.map((r) => r.cooldownMs), ...rules.budgets.map((b) => b.perMs), ...recurrenceWindows(rules)]
  const longestWindow = Math.max(options.longestWindowMs ?? 0, ...ruleWindows)
  if (longestWindow > options.retentionMs) {
    throw new ConfigError('DTR_RETENTION', `must be at least the longest cooldown, recurrence or budget window of the rules (${formatHours(longestWindow)}), or their facts would be pruned`)
  }
  const interval = options.intervalMs ?? 10 * 60_000
  const limit = options.batch ?? 500
  const { clock } = options
  const store = fastify.store

  let running: Promise<PruneResult> | undefined
  async function pass (): Promise<PruneResult> {
    const cutoff = clock.now() - options.retentionMs
    let notifications = 0
    let jobs = 0
    let runs = 0
    for (;;) {
      const batch = await store.retention.pruneBatch(cutoff, limit)
      notifications += batch.notifications
      jobs += batch.jobs
      runs += batch.runs
      if (batch.notifications < limit && batch.jobs < limit && batch.runs < limit) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (notifications + jobs + runs > 0) {
      await store.retention.afterPrune()
      fastify.log.info({ notifications, jobs, runs, before: new Date(cutoff).toISOString() }, 'pruned what is older than DTR_RETENTION')
    }
    return { notifications, jobs, runs }
  }
  const prune = async (): Promise<PruneResult> => {
    running ??= pass().finally(() => { running = undefined })
    return running
  }
  fastify.decorate('retention', { prune })

  const stop = new AbortController()
  let loop: Promise<void> | undefined
  fastify.addHook('onReady', async () => {
    loop = (async () => {
      while (!stop.signal.aborted) {
        try {
          await clock.sleep(interval, stop.signal)
          await prune()
        } catch (err) {
          if (!stop.signal.aborted) fastify.log.warn({ err }, 'pruning failed; trying again at the next interval')
        }
      }
    })()
  })
  // preClose: before the store plugin's onClose closes the store under a pass.
  fastify.addHook('preClose', async () => {
    stop.abort()
    await loop
    await running?.catch(() => {})
  })
}, { name: 'retention', fastify: '5.x', dependencies: ['store'] })
