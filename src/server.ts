/**
 * The process: reads the environment, builds the logger and the app, listens, and shuts down
 * gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, commit what was
 * accepted, close the store). SIGHUP reloads the rules file and re-reads the `_FILE` secrets.
 * The only module that reads process.env.
 */
import { readFileSync } from 'node:fs'
import closeWithGrace from 'close-with-grace'
import { pino, type LoggerOptions } from 'pino'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp, configuredKubernetes, redactPaths, rulesLoader } from './app.js'
import { loadConfig, type Config } from './config.js'
import { isDtrError } from './errors.js'

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

export function loggerOptions (config: Pick<Config, 'logLevel' | 'webhookTokenHeader'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: redactPaths(config.webhookTokenHeader), censor: '[redacted]' },
  }
}

/** Runs the service until a signal stops it; resolves with the exit code on start-up failure. */
export async function serve (): Promise<number> {
  let config: Config
  try {
    config = loadConfig(process.env, { readFile })
  } catch (err) {
    process.stderr.write(`dt-remediator: ${isDtrError(err) ? err.message : String(err)}\n`)
    return 1
  }
  const logger = pino(loggerOptions(config))
  for (const warning of config.warnings) logger.warn(warning)
  try {
    // One Kubernetes client, made on first use, for the built-in actions and the runner's reader.
    const kubernetes = configuredKubernetes(config, process.env)
    const load = rulesLoader(config, process.env, kubernetes)
    const first = await load({ fresh: false })
    if (!first.ok) {
      process.stderr.write(`dt-remediator: the rules file is invalid:\n${first.errors.map((e) => `  ${e}`).join('\n')}\n`)
      logger.fatal({ errors: first.errors }, 'the rules file is invalid')
      return 1
    }
    const mode = { mode: first.ruleSet.rules.mode, source: first.ruleSet.rules.modeSource }
    const app = await buildApp({ config, logger, defaultMetrics: true, env: process.env, kubernetes, rules: { load, initial: first.ruleSet } })
    const onHangup = (): void => { reload(app, logger).catch((err: unknown) => logger.error({ err }, 'reload failed')) }
    process.on('SIGHUP', onHangup)
    // SIGHUP means reload here, not stop: close-with-grace would otherwise close on it.
    closeWithGrace({ delay: 25_000, logger, skip: ['SIGHUP'] }, async ({ signal, err }) => {
      if (err !== undefined) logger.error({ err }, 'shutting down after an error')
      else logger.info({ signal }, 'shutting down')
      process.off('SIGHUP', onHangup)
      await app.close()
    })
    const url = await app.listen({ port: config.port, host: config.host })
    logger.info({
      url,
      mode: mode.mode,
      modeSource: mode.source,
      store: config.databaseUrl === undefined ? `embedded (${config.dataDir})` : 'postgresql',
      rulesFile: config.rulesFile,
    }, `dt-remediator listening in ${mode.mode} mode`)
    if (config.dynatrace === undefined) {
      logger.warn('DTR_DYNATRACE_URL is not set: notifications are accepted and planned, and each comment is logged instead of posted')
    }
    return 0
  } catch (err) {
    logger.fatal({ err }, isDtrError(err) ? err.message : 'start-up failed')
    process.stderr.write(`dt-remediator: ${isDtrError(err) ? err.message : String(err)}\n`)
    return 1
  }
}
