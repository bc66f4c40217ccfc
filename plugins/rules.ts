/**
 * Holds the current rules — the loaded rules file and the action registry it was checked
 * against — as one value swapped atomically, decorated as `fastify.rules`. Start-up loads them and
 * fails (the errors in the message) when the file is bad; `reload()` (SIGHUP, see src/server.ts)
 * loads the file again and swaps only when every check passed: a bad file is refused with its
 * errors logged, and the old rules stay. Each reload is counted in
 * `dtr_rules_reloads_total{outcome}`. The runner reads `fastify.rules.current` once per
 * notification, so a reload never changes the rules under a notification being planned.
 */
import fp from 'fastify-plugin'
import { formatDiagnostic } from '../src/domain/rules/parse.js'
import { DtrError } from '../src/errors.js'
import type { RuleSet, RuleSetResult } from '../src/sdk/index.js'

export type ReloadOutcome =
  | { readonly ok: true, readonly ruleSet: RuleSet }
  | { readonly ok: false, readonly errors: readonly string[] }

export interface RulesHolder {
  /** The rules in force. */
  readonly current: RuleSet
  /** When they were loaded (ms epoch). */
  readonly loadedAt: number
  /** Loads the file again; swaps only when it is valid. Reloads run one at a time. */
  reload(): Promise<ReloadOutcome>
  /** Called after each successful reload, before reload() resolves (the runner cancels the runs of removed rules). */
  onReload(listener: (ruleSet: RuleSet) => Promise<void>): void
  /** The last reload's result (the console shows it); undefined before the first reload. */
  readonly lastReload: { readonly at: number, readonly ok: boolean, readonly errors: readonly string[] } | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    rules: RulesHolder
  }
}

export interface RulesPluginOptions {
  /** Loads the rules file; `fresh` re-imports custom action files that changed. */
  readonly load: (options: { fresh: boolean }) => Promise<RuleSetResult>
  /** Rules already loaded by the caller (the server loads them first, to report errors on stderr). */
  readonly initial?: RuleSet
  readonly now?: () => number
}

export default fp<RulesPluginOptions>(async function rulesPlugin (fastify, options) {
  const now = options.now ?? Date.now
  let current = options.initial
  if (current === undefined) {
    const result = await options.load({ fresh: false })
    if (!result.ok) throw new DtrError('DTR_ERR_CONFIG', `The rules file is invalid:\n${result.errors.join('\n')}`)
    current = result.ruleSet
  }
  for (const w of current.warnings) fastify.log.warn({ event: 'rules-warning' }, formatDiagnostic(w))
  let loadedAt = now()
  let queue: Promise<unknown> = Promise.resolve()
  const listeners: Array<(ruleSet: RuleSet) => Promise<void>> = []
  let lastReload: RulesHolder['lastReload']

  async function reloadNow (): Promise<ReloadOutcome> {
    let result: RuleSetResult
    try {
      result = await options.load({ fresh: true })
    } catch (err) {
      result = { ok: false, errors: [(err as Error).message], warnings: [] }
    }
    if (!result.ok) {
      fastify.metrics.rulesReloads.inc({ outcome: 'failure' })
      fastify.log.error({ event: 'rules-reload-refused', errors: result.errors }, `rules reload refused, the previous rules stay: ${result.errors.join('; ')}`)
      lastReload = { at: now(), ok: false, errors: result.errors }
      return { ok: false, errors: result.errors }
    }
    current = result.ruleSet
    loadedAt = now()
    lastReload = { at: loadedAt, ok: true, errors: [] }
    fastify.metrics.rulesReloads.inc({ outcome: 'success' })
    for (const w of current.warnings) fastify.log.warn({ event: 'rules-warning' }, formatDiagnostic(w))
    fastify.log.info({ event: 'rules-reloaded', rules: current.rules.rules.length, mode: current.rules.mode }, `rules reloaded: ${current.rules.rules.length} rules in ${current.rules.mode} mode`)
    const swapped = current
    for (const listener of listeners) {
      try {
        await listener(swapped)
      } catch (err) {
        // Admission checks every run against the rules in force, so a failure here acts on nothing.
        fastify.log.error({ err, event: 'rules-reload-listener-failed' }, `after the reload: ${(err as Error).message}`)
      }
    }
    return { ok: true, ruleSet: swapped }
  }

  const holder: RulesHolder = {
    get current () { return current as RuleSet },
    get loadedAt () { return loadedAt },
    get lastReload () { return lastReload },
    async reload () {
      const next = queue.then(reloadNow, reloadNow)
      queue = next
      return next
    },
    onReload (listener) { listeners.push(listener) },
  }
  fastify.decorate('rules', holder)
}, { name: 'rules', fastify: '5.x', dependencies: ['metrics'] })
