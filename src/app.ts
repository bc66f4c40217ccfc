/**
 * The composition root: buildApp(deps) registers the infrastructure plugins (plugins/), then the
 * routes. Tests call it with `logger: false` and a store of their own; src/server.ts calls it with
 * the process's configuration and logger.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import errorHandlerPlugin from '../plugins/error-handler.js'
import gracefulClosePlugin from '../plugins/graceful-close.js'
import metricsPlugin from '../plugins/metrics.js'
import { RequestLog } from '../plugins/request-log.js'
import rulesPlugin, { type RulesPluginOptions } from '../plugins/rules.js'
import storePlugin from '../plugins/store.js'
import underPressurePlugin from '../plugins/under-pressure.js'
import validationPlugin from '../plugins/validation.js'
import webhookAuthPlugin from '../plugins/webhook-auth.js'
import { builtinActions } from '../actions/index.js'
import type { Config } from './config.js'
import { lazyServiceKubernetesClient } from './kubernetes/lazy.js'
import { loadRuleSet, type RuleSetResult } from './runner/rules-file.js'
import type { Metrics } from './metrics.js'
import healthRoutes from './routes/health.js'
import webhookRoutes from './routes/webhooks.js'
import type { Store } from './store/index.js'

export interface AppOptions {
  readonly config: Config
  /** Fastify's logger option: pino options, an instance, or false. */
  readonly logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance']
  /** A store to use instead of opening the configured one; the caller closes it. */
  readonly store?: Store
  readonly metrics?: Metrics
  /** Collect default process metrics (the server does; tests need not). */
  readonly defaultMetrics?: boolean
  /**
   * How the rules are loaded and reloaded. Default: `config.rulesFile` with the built-in actions,
   * `${env:…}` read from `env`.
   */
  readonly rules?: RulesPluginOptions
  /** For `${env:…}` in the rules file (the server passes process.env). Default: none set. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** The rules loader for a configuration: the built-in actions on a Kubernetes client made on first use. */
export function rulesLoader (config: Config, env: Readonly<Record<string, string | undefined>>): (options: { fresh: boolean }) => Promise<RuleSetResult> {
  const kubernetes = lazyServiceKubernetesClient(config.kubeconfig, env)
  const builtins = builtinActions({ kubernetes, allowedHosts: config.httpAllowedHosts })
  return async ({ fresh }) => loadRuleSet({
    file: config.rulesFile,
    env,
    builtins,
    allowedHosts: config.httpAllowedHosts,
    adminTokensSet: config.adminTokens !== undefined,
    modeOverride: config.mode,
    fresh,
  })
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

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  const logger = options.logger ?? false
  const app = Fastify({
    ...(typeof logger === 'object' && logger !== null && 'child' in logger ? { loggerInstance: logger } : { logger }),
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID()
    },
    bodyLimit: config.bodyLimit,
    // plugins/graceful-close answers 503 itself while closing, in our error shape.
    return503OnClosing: false,
    logController: new RequestLog(),
  })

  await app.register(errorHandlerPlugin)
  await app.register(gracefulClosePlugin)
  await app.register(underPressurePlugin)
  await app.register(validationPlugin)
  await app.register(metricsPlugin, { metrics: options.metrics, defaultMetrics: options.defaultMetrics })
  await app.register(rulesPlugin, options.rules ?? { load: rulesLoader(config, options.env ?? {}) })
  await app.register(storePlugin, { location: config, store: options.store })
  await app.register(webhookAuthPlugin, { tokens: config.webhookTokens, header: config.webhookTokenHeader })

  await app.register(healthRoutes)
  await app.register(webhookRoutes, { bodyLimit: config.bodyLimit })
  return app
}
