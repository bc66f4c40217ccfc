/**
 * The composition root: buildApp(deps) registers the infrastructure plugins (plugins/), then the
 * routes. Tests call it with `logger: false` and a store of their own; src/server.ts calls it with
 * the process's configuration and logger.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { pino, type Logger, type LoggerOptions } from 'pino'
import sensible from '@fastify/sensible'
import adminAuthPlugin from '../plugins/admin-auth.js'
import errorHandlerPlugin from '../plugins/error-handler.js'
import gracefulClosePlugin from '../plugins/graceful-close.js'
import metricsPlugin from '../plugins/metrics.js'
import openApiPlugin from '../plugins/openapi.js'
import { RequestLog } from '../plugins/request-log.js'
import rulesPlugin, { type RulesPluginOptions } from '../plugins/rules.js'
import runnerPlugin from '../plugins/runner.js'
import storePlugin from '../plugins/store.js'
import underPressurePlugin from '../plugins/under-pressure.js'
import validationPlugin from '../plugins/validation.js'
import webhookAuthPlugin from '../plugins/webhook-auth.js'
import { builtinActions } from '../actions/index.js'
import { hostname } from 'node:os'
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config.js'
import { createDynatraceClient, type DynatraceClient } from './dynatrace/client.js'
import { dynatraceReader, type DynatraceReader } from './dynatrace/reader.js'
import { DtrError } from './errors.js'
import type { KubernetesClient } from './kubernetes/client.js'
import { lazyServiceKubernetesClient } from './kubernetes/lazy.js'
import { kubernetesReader } from './kubernetes/reader.js'
import { createMetrics, type Metrics } from './metrics.js'
import { defaultTimings, type RunnerTimings } from './runner/deps.js'
import { loadRuleSet, type RuleSetResult } from './runner/rules-file.js'
import apiRoutes from './routes/api/index.js'
import healthRoutes from './routes/health.js'
import openApiRoute from './routes/openapi.js'
import { packageVersion } from './version.js'
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
  /** Time is a dependency: the store's and the runner's clock. */
  readonly clock?: Clock
  /** The runner's leases, polls and backoffs (tests make them short). */
  readonly timings?: Partial<RunnerTimings>
  /** false: no runner (intake and the admin API only). Default true. */
  readonly runner?: boolean
  /** The Kubernetes client actions use; default: from DTR_KUBECONFIG, made on first use. */
  readonly kubernetes?: KubernetesClient
  /** The Dynatrace client; default: from DTR_DYNATRACE_URL and DTR_DYNATRACE_TOKEN, when set. */
  readonly dynatrace?: DynatraceClient
}

/**
 * The Kubernetes client of a configuration, made on first use (DTR_KUBECONFIG, in-cluster,
 * ~/.kube/config); @kubernetes/client-node itself is imported only then.
 */
export function configuredKubernetes (config: Config, env: Readonly<Record<string, string | undefined>>): KubernetesClient {
  return lazyServiceKubernetesClient(config.kubeconfig, env)
}

/** The rules loader for a configuration: the built-in actions on the given Kubernetes client. */
export function rulesLoader (config: Config, env: Readonly<Record<string, string | undefined>>, kubernetes: KubernetesClient = configuredKubernetes(config, env)): (options: { fresh: boolean }) => Promise<RuleSetResult> {
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

/** ctx.dynatrace without DTR_DYNATRACE_URL: every read says why it cannot be made. */
const noDynatrace: DynatraceReader = {
  getProblem: async () => { throw new DtrError('DTR_ERR_CONFIG', 'DTR_DYNATRACE_URL is not set: Dynatrace cannot be read') },
  getEntity: async () => { throw new DtrError('DTR_ERR_CONFIG', 'DTR_DYNATRACE_URL is not set: Dynatrace cannot be read') },
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  // One pino logger for Fastify, the runner and the Dynatrace client: the caller's, or one made
  // from its options (silent when logging is off, as in most tests).
  const given = options.logger ?? false
  const log: Logger = typeof given === 'object' && given !== null && 'child' in given
    ? given as Logger
    : pino(given === false ? { level: 'silent' } : given === true ? {} : given as LoggerOptions)
  const app: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID()
    },
    bodyLimit: config.bodyLimit,
    // Fastify's default (10 s) is shorter than a PostgreSQL migration lock or a cold start on a
    // loaded node can take; a plugin that hangs for a minute still fails start-up.
    pluginTimeout: 60_000,
    // plugins/graceful-close answers 503 itself while closing, in our error shape.
    return503OnClosing: false,
    logController: new RequestLog(),
  })

  await app.register(sensible)
  await app.register(errorHandlerPlugin)
  await app.register(gracefulClosePlugin)
  await app.register(underPressurePlugin)
  await app.register(validationPlugin)
  const env = options.env ?? {}
  const clock = options.clock ?? systemClock
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: options.defaultMetrics, now: () => clock.now() })
  const kubernetes = options.kubernetes ?? configuredKubernetes(config, env)
  const dynatrace = options.dynatrace ?? (config.dynatrace?.token === undefined ? undefined : createDynatraceClient({ url: config.dynatrace.url, token: config.dynatrace.token, metrics, logger: log, now: () => clock.now(), sleep: clock.sleep }))
  if (options.dynatrace === undefined && dynatrace !== undefined) app.addHook('onClose', async () => { await dynatrace.close() })

  await app.register(metricsPlugin, { metrics })
  await app.register(rulesPlugin, options.rules ?? { load: rulesLoader(config, env, kubernetes), now: () => clock.now() })
  await app.register(storePlugin, { location: config, store: options.store, clock })
  await app.register(webhookAuthPlugin, { tokens: config.webhookTokens, header: config.webhookTokenHeader })
  await app.register(runnerPlugin, {
    enabled: options.runner ?? true,
    deps: {
      dynatrace,
      readers: { dynatrace: dynatrace === undefined ? noDynatrace : dynatraceReader(dynatrace), kubernetes: kubernetesReader(kubernetes) },
      env,
      clusterName: config.clusterName,
      adminConfigured: config.adminTokens !== undefined,
      publicUrl: config.publicUrl,
      ownNamespace: env.POD_NAMESPACE,
      clock,
      log,
      owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      timings: { ...defaultTimings, ...options.timings },
    },
  })

  if (config.adminTokens !== undefined) await app.register(adminAuthPlugin, { tokens: config.adminTokens })
  await app.register(openApiPlugin, { version: packageVersion() })

  await app.register(healthRoutes)
  await app.register(webhookRoutes, { bodyLimit: config.bodyLimit })
  if (config.adminTokens !== undefined) await app.register(apiRoutes)
  await app.register(openApiRoute)
  return app
}
