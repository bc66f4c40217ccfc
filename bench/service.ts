/**
 * The service for the bench's slow-fsync comparison: `serve` with the embedded store's
 * connection on the main thread (BENCH_THREAD=main) or in its worker thread (the default, what
 * `serve` does), with the runner or without it (BENCH_RUNNER=off), configured by the same
 * environment. Not shipped; only the bench runs it.
 */
import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { redactPaths } from '../src/server.js'
import { loadConfig } from '../src/config.js'
import { openStore } from '../src/store/index.js'

const config = loadConfig(process.env, { readFile: () => { throw new Error('no secret files in the bench') } })
const destination = pino.destination({ sync: false })
const logger = pino({ level: config.logLevel, redact: { paths: redactPaths(config.webhookTokenHeader), censor: '[redacted]' } }, destination)
const store = await openStore(config, { thread: process.env.BENCH_THREAD === 'main' ? 'main' : 'worker', notifications: { retentionMs: config.retentionMs } })
// BENCH_RUNNER=off: intake alone, to compare where the store's connection lives.
const app = await buildApp({ config, logger, store, defaultMetrics: true, runner: process.env.BENCH_RUNNER !== 'off' })
const url = await app.listen({ port: config.port, host: config.host })
logger.info({ url, thread: process.env.BENCH_THREAD ?? 'worker' }, 'bench service listening')
process.once('SIGTERM', () => {
  app.close().then(async () => store.close()).finally(() => destination.flushSync())
})
