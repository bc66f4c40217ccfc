/**
 * The process: reads the environment, builds the logger and the app, listens, and shuts down
 * gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests and runs, commit what
 * was accepted, close the store). SIGHUP reloads the rules file and re-reads the `_FILE` secrets.
 * The only module that reads process.env.
 *
 * The log goes to stdout asynchronously (pino.destination with sync: false): a synchronous write
 * per line was a fifth of a webhook's CPU. Lines are handed to it once per event-loop turn
 * (lineBatch). What is buffered is flushed before the process ends.
 */
import { readFileSync } from 'node:fs'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { pino, type Logger, type LoggerOptions } from 'pino'
import type { RequestLineSink } from '../plugins/request-log.js'
import { loadConfig, type Config } from './config.js'
import { isDtrError } from './errors.js'
import { systemClock } from './clock.js'
import { eventLoopBusy, lowMemoryNotification, releaseStartupMemory } from './memory.js'
import type { Store } from './store/index.js'
import { configSecrets, ruleEnvSecrets, secretRedactor } from './domain/secrets.js'

const readFile = (path: string): string => readFileSync(path, 'utf8')

/**
 * SIGHUP: the `_FILE` secrets are read again (webhook tokens rotate without a restart), then the
 * rules file. A bad environment or a bad file is logged and changes nothing.
 */
async function reload (app: FastifyInstance, logger: Logger): Promise<void> {
  logger.info({ event: 'sighup' }, 'SIGHUP: reloading the rules file and the _FILE secrets')
  try {
    const fresh = loadConfig(process.env, { readFile })
    if (fresh.webhookTokens !== undefined) app.webhookTokens.replace(fresh.webhookTokens)
  } catch (err) {
    logger.error({ event: 'secrets-reload-refused' }, `secrets not reloaded, the previous ones stay: ${isDtrError(err) ? err.message : String(err)}`)
  }
  await app.rules.reload()
}

/** Redacted wherever they could appear in a log line. */
export function redactPaths (tokenHeader: string): string[] {
  return [
    'req.headers.authorization',
    `req.headers["${tokenHeader}"]`,
    'req.headers.cookie',
    'headers.authorization',
    `headers["${tokenHeader}"]`,
  ]
}

/**
 * The process's logger options. Beside the header paths, every line is scanned for the secrets
 * the service holds (`secrets`, read per line so a reload's `${env:…}` count): an error message
 * or a logged payload never prints one.
 */
export function loggerOptions (config: Pick<Config, 'logLevel' | 'webhookTokenHeader'>, redact: (line: string) => string = (line) => line): LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: redactPaths(config.webhookTokenHeader), censor: '[redacted]' },
    hooks: { streamWrite: redact },
  }
}

/** What the process's logger writes to: lines in, flushed on demand. */
export interface LineDestination {
  write(line: string): boolean
  flush(): void
  flushSync(): void
}

/**
 * Lines handed on to `inner` joined, once per event-loop turn, instead of one write each:
 * sonic-boom's write costs ~2 µs a call (it measures the whole chunk it is building every time),
 * as much as the rest of a request's line. Order is kept (every line of the process goes through
 * here), and a flush hands on what is pending first.
 */
export function lineBatch (inner: LineDestination): LineDestination {
  let pending: string[] = []
  let scheduled = false
  const handOn = (): void => {
    scheduled = false
    if (pending.length === 0) return
    const text = pending.length === 1 ? pending[0] as string : pending.join('')
    pending = []
    inner.write(text)
  }
  return {
    write (line) {
      pending.push(line)
      if (!scheduled) {
        scheduled = true
        setImmediate(handOn)
      }
      return true
    },
    flush () { handOn(); inner.flush() },
    flushSync () { handOn(); inner.flushSync() },
  }
}

/**
 * The request line (plugins/request-log.ts) in the line format of a logger made with
 * loggerOptions — pino's default: level number, epoch ms, the logger's bindings, the members,
 * msg — written with `write`, which gets the whole line (and redacts it as the logger's
 * streamWrite hook does).
 */
export function requestLineSink (logger: Logger, write: (line: string) => void): RequestLineSink {
  const bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? ''
  const levels = logger.levels.values
  // Each message's JSON, made once: a request's line has one of a few constant messages.
  const messages = new Map<string, string>()
  const messageJson = (msg: string): string => {
    let json = messages.get(msg)
    if (json === undefined) {
      json = JSON.stringify(msg)
      if (messages.size < 64) messages.set(msg, json)
    }
    return json
  }
  return {
    enabled: (level) => logger.isLevelEnabled(level),
    write (level, members, msg) {
      write(`{"level":${levels[level] ?? 30},"time":${Date.now()}${bindings},${members},"msg":${messageJson(msg)}}\n`)
    },
  }
}

/** `dt-remediator backup <file>` with the process's configuration; resolves with the exit code. */
export async function backup (file: string): Promise<number> {
  try {
    const config = loadConfig(process.env, { readFile })
    if (config.databaseUrl !== undefined) {
      process.stderr.write('dt-remediator backup: DTR_DATABASE_URL is set, so the store is in PostgreSQL: back it up with pg_dump (e.g. pg_dump --format=custom --file=dtr.dump "$DTR_DATABASE_URL")\n')
      return 1
    }
    const started = Date.now()
    const { backupSqlite } = await import('./store/backup.js')
    const result = backupSqlite(config.dataDir, file)
    process.stdout.write(`Backed up DTR_DATA_DIR ${config.dataDir} to ${result.file}: ${result.notifications} notifications, ${result.bytes} bytes, in ${Date.now() - started} ms\n`)
    return 0
  } catch (err) {
    process.stderr.write(`dt-remediator backup: ${isDtrError(err) ? err.message : String(err)}\n`)
    return 1
  }
}

export interface ServeOptions {
  /** What became of the bundle's code cache (src/cli/bundle.ts), told in the listening line. */
  readonly codeCache?: string
}

/**
 * Runs the service until a signal stops it; resolves with the exit code on start-up failure, and
 * with 0 once it listens.
 */
export async function serve (options: ServeOptions = {}): Promise<number> {
  let config: Config
  try {
    config = loadConfig(process.env, { readFile })
  } catch (err) {
    process.stderr.write(`dt-remediator: ${isDtrError(err) ? err.message : String(err)}\n`)
    return 1
  }
  // Lines are written in chunks of at least 4 KiB or every 250 ms, whichever comes first (a write
  // per line was a tenth of a test notification's CPU), up to 1 MiB per write (at the default
  // 16 KiB, a busy event loop could not write 5 MB/s of log, and lines were dropped), and flushed
  // on shutdown. A stdout that stops reading must not grow the buffer without bound: beyond
  // 16 MiB waiting, lines are dropped rather than the process running out of memory.
  const destination = lineBatch(pino.destination({ sync: false, minLength: 4096, maxWrite: 1024 * 1024, maxLength: 16 * 1024 * 1024 }))
  // Lines still waiting for their turn when the process ends are written then (best effort: an
  // exit is no place to report that stdout failed).
  process.once('exit', () => { try { destination.flushSync() } catch { /* nothing to tell it to */ } })
  const flushing = setInterval(() => destination.flush(), 250)
  // The rules' `${env:…}` join once the app holds the rules (and after each reload).
  let rules: (() => { readonly rules: { readonly rules: ReadonlyArray<{ readonly env: readonly string[] }> } }) | undefined
  const redact = secretRedactor(() => rules?.(), () => [...configSecrets(config), ...(rules === undefined ? [] : ruleEnvSecrets(rules().rules.rules, process.env))])
  const logger = pino(loggerOptions(config, redact), destination)
  const requestLines = requestLineSink(logger, (line) => { destination.write(redact(line)) })
  for (const warning of config.warnings) logger.warn(warning)
  let store: Store | undefined
  let opening: Promise<Store> | undefined
  try {
    // The store opens (its writer thread starting on another core) while the app's modules load
    // and the rules file is read: neither needs the store.
    const { openStore } = await import('./store/index.js')
    opening = openStore(config, { notifications: { retentionMs: config.retentionMs } })
    opening.catch(() => {})
    const { buildApp, configuredKubernetes, rulesLoader } = await import('./app.js')
    // One Kubernetes client, made on first use, for the built-in actions and the runner's reader.
    const kubernetes = configuredKubernetes(config, process.env)
    const load = rulesLoader(config, process.env, kubernetes)
    const [first, opened] = await Promise.all([load({ fresh: false }), opening])
    store = opened
    if (!first.ok) {
      process.stderr.write(`dt-remediator: the rules file is invalid:\n${first.errors.map((e) => `  ${e}`).join('\n')}\n`)
      logger.fatal({ errors: first.errors }, 'the rules file is invalid')
      await opened.close()
      clearInterval(flushing)
      destination.flushSync()
      return 1
    }
    const mode = { mode: first.ruleSet.rules.mode, source: first.ruleSet.rules.modeSource }
    const app = await buildApp({ config, logger, requestLines, store, defaultMetrics: true, env: process.env, kubernetes, rules: { load, initial: first.ruleSet } })
    rules = () => app.rules.current
    const onHangup = (): void => { reload(app, logger).catch((err: unknown) => logger.error({ err }, 'reload failed')) }
    process.on('SIGHUP', onHangup)
    const stopRelease = new AbortController()
    let releasing = Promise.resolve()
    // SIGHUP means reload here, not stop: close-with-grace would otherwise close on it.
    closeWithGrace({ delay: 25_000, logger, skip: ['SIGHUP'] }, async ({ signal, err }) => {
      if (err !== undefined) logger.error({ err }, 'shutting down after an error')
      else logger.info({ signal }, 'shutting down')
      process.off('SIGHUP', onHangup)
      stopRelease.abort()
      await releasing
      // The app finishes its requests and runs, and drains the commits first; then the store closes.
      await app.close()
      await opened.close()
      logger.info('stopped')
      clearInterval(flushing)
      destination.flushSync()
    })
    const url = await app.listen({ port: config.port, host: config.host })
    logger.info({
      url,
      mode: mode.mode,
      modeSource: mode.source,
      store: config.databaseUrl === undefined ? `embedded SQLite (${config.dataDir})` : 'postgresql',
      rulesFile: config.rulesFile,
      ...(options.codeCache === undefined ? {} : { codeCache: options.codeCache }),
    }, `dt-remediator listening in ${mode.mode} mode`)
    // Out at once: operators, probes' logs and scripts wait for this line.
    destination.flush()
    if (config.dynatrace === undefined) {
      logger.warn('DTR_DYNATRACE_URL is not set: notifications are accepted and planned, and each comment is logged instead of posted')
    }
    // Start-up's young generation and garbage, given back once ready and idle (src/memory.ts).
    releasing = releaseStartupMemory({
      clock: systemClock,
      busy: eventLoopBusy(),
      release: async () => {
        const before = process.memoryUsage.rss()
        await lowMemoryNotification()
        logger.debug({ rssBefore: before, rssAfter: process.memoryUsage.rss() }, 'start-up memory released')
      },
      signal: stopRelease.signal,
    }).then((outcome) => {
      if (!outcome.released) logger.debug({ reason: outcome.reason }, 'start-up memory left to V8')
    }, (err: unknown) => { logger.debug({ err }, 'start-up memory not released') })
    return 0
  } catch (err) {
    // The store, if it opened, also when the app's modules failed to load beside it: its writer
    // thread would otherwise keep the process from exiting.
    await (store ?? await opening?.catch(() => undefined))?.close().catch(() => {})
    logger.fatal({ err }, isDtrError(err) ? err.message : 'start-up failed')
    clearInterval(flushing)
    destination.flushSync()
    process.stderr.write(`dt-remediator: ${isDtrError(err) ? err.message : String(err)}\n`)
    return 1
  }
}
