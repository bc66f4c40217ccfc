/**
 * An app on a fresh embedded store, with the webhook token the seed article configured
 * ("dynatrace:password" as Basic credentials), closed at teardown.
 */
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp, type AppOptions } from '../../src/app.js'
import { loadConfig, type Env } from '../../src/config.js'
import type { Store } from '../../src/store/index.js'
import { openTestStore } from './store.js'

export const TOKEN = 'password'

/** Event-loop lag that sheds webhooks in tests: far beyond what a busy CI machine causes. */
export const RELAXED_PRESSURE = { maxEventLoopDelayMs: 60_000 } as const

export function testConfig (env: Env = {}) {
  return loadConfig({ DTR_WEBHOOK_TOKENS: TOKEN, DTR_LOG_LEVEL: 'silent', ...env }, { readFile: () => { throw new Error('no files in tests') } })
}

/**
 * The runner is off unless asked for: intake and route tests look at what was stored, not at
 * what the runner made of it (test/runner/ builds apps with it on, against the simulators).
 */
export async function buildTestApp (t: Test, options: { env?: Env, store?: Store } & Omit<AppOptions, 'config' | 'store'> = {}): Promise<FastifyInstance & { store: Store }> {
  const { env, store: given, ...rest } = options
  const store = given ?? await openTestStore(t)
  // A loaded test machine is not an overloaded service: no shedding on event-loop lag unless a
  // test asks for it (it would answer 503 at random under a busy suite).
  const app = await buildApp({ runner: false, ...rest, underPressure: { ...RELAXED_PRESSURE, ...rest.underPressure }, config: testConfig(env), store })
  t.teardown(() => app.close())
  return app
}

export const bearer = { authorization: `Bearer ${TOKEN}` }
