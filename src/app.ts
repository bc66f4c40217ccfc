/**
 * The composition root: buildApp(deps) registers the infrastructure plugins (plugins/), then the
 * routes. Tests call it with `logger: false` and a store of their own; src/server.ts calls it with
 * the process's configuration and logger. Time and the intake's limits are dependencies too, so
 * a test of a 30-second timeout or a 30-day retention runs in milliseconds.
 */
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import { hostname } from 'node:os'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { serializerCompiler } from 'fastify-type-provider-zod'
import { pino, type Logger, type LoggerOptions } from 'pino'
import { builtinActions } from '../actions/index.js'
import adminAuthPlugin from '../plugins/admin-auth.js'
import errorHandlerPlugin, { rawErrorResponse } from '../plugins/error-handler.js'
import gracefulClosePlugin from '../plugins/graceful-close.js'
import metricsPlugin from '../plugins/metrics.js'
import openApiPlugin from '../plugins/openapi.js'
import { lazyChildLogger, RequestLog, type RequestLineSink } from '../plugins/request-log.js'
import retentionPlugin from '../plugins/retention.js'
import rulesPlugin, { type RulesPluginOptions } from '../plugins/rules.js'
import runnerPlugin from '../plugins/runner.js'
import storePlugin from '../plugins/store.js'
import underPressurePlugin, { type UnderPressureOptions } from '../plugins/under-pressure.js'
import validationPlugin, { zodValidator } from '../plugins/validation.js'
import webhookAuthPlugin from '../plugins/webhook-auth.js'
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config.js'
import { createDynatraceClient, type DynatraceClient } from './dynatrace/client.js'
import { dynatraceReader, type DynatraceReader } from './dynatrace/reader.js'
import { DtrError } from './errors.js'
import type { KubernetesClient } from './kubernetes/client.js'
import { lazyServiceKubernetesClient } from './kubernetes/lazy.js'
import { kubernetesReader } from './kubernetes/reader.js'
import { createMetrics, type Metrics } from './metrics.js'
import healthRoutes from './routes/health.js'
import openApiRoute from './routes/openapi.js'
import type { ConsoleData } from './routes/ui/data.js'
import webhookRoutes from './routes/webhooks.js'
import { defaultTimings, type RunnerTimings } from './runner/index.js'
import { loadRuleSet, type RuleSetResult } from './sdk/index.js'
import { configSecrets, ruleEnvSecrets, secretRedactor } from './domain/secrets.js'
import type { Store } from './store/index.js'
import type { NotificationStoreOptions } from './store/notifications.js'
import { packageVersion } from './version.js'

/** How long and how much a client may take (SPEC 4). */
export interface IntakeLimits {
  /** A request whose headers and body have not all arrived this long after it started is closed with 408. */
  readonly requestTimeoutMs: number
  /** A request whose headers have not arrived within this is closed with 408. */
  readonly headersTimeoutMs: number
  /** How often the server looks for requests past those timeouts. */
  readonly timeoutCheckIntervalMs: number
  /** Open connections at most; more are closed as they arrive. */
  readonly maxConnections: number
  /** When the app starts closing, a request still receiving its body gets this long before its connection is closed. */
  readonly closingRequestTimeoutMs: number
}

export const DEFAULT_LIMITS: IntakeLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  timeoutCheckIntervalMs: 1000,
  maxConnections: 1024,
  closingRequestTimeoutMs: 2000,
}

export interface AppOptions {
  readonly config: Config
  /** Fastify's logger option: pino options, an instance, or false. */
  readonly logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance']
  /** Where each request's one line is written already shaped (the server's); default: through `logger`. */
  readonly requestLines?: RequestLineSink
  /** A store to use instead of opening the configured one; the caller closes it. */
  readonly store?: Store
  readonly metrics?: Metrics
  /** Collect default process metrics (the server does; tests need not). */
  readonly defaultMetrics?: boolean
  /** Where "now" comes from, for the store, the runner's leases and timers, and retention. */
  readonly clock?: Clock
  readonly limits?: Partial<IntakeLimits>
  readonly underPressure?: UnderPressureOptions
  /** Group commit and its caps, for a store the app opens. */
  readonly notifications?: NotificationStoreOptions
  /** The retention pass: how often, and the longest cooldown or budget window it must keep. */
  readonly retention?: { readonly intervalMs?: number, readonly batch?: number, readonly longestWindowMs?: number }
  /**
   * How the rules are loaded and reloaded. Default: `config.rulesFile` with the built-in actions,
   * `${env:…}` read from `env`.
   */
  readonly rules?: RulesPluginOptions
  /** For `${env:…}` in the rules file (the server passes process.env). Default: none set. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** The runner's leases, polls and backoffs (tests make them short). */
  readonly timings?: Partial<RunnerTimings>
  /** false: no runner (intake and the admin API only). Default true. */
  readonly runner?: boolean
  /** The Kubernetes client actions use; default: from DTR_KUBECONFIG, made on first use. */
  readonly kubernetes?: KubernetesClient
  /** The Dynatrace client; default: from DTR_DYNATRACE_URL and DTR_DYNATRACE_TOKEN, when set. */
  readonly dynatrace?: DynatraceClient
  /** The console's report and explanations (src/routes/ui/data.ts); default: the store's. */
  readonly consoleData?: ConsoleData
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

/**
 * Fastify's factories for the compilers of routes that plugins/validation.ts does not reach.
 * Fastify types them for ajv and fast-json-stringify; at run time a factory only has to return a
 * compiler, and these return the zod ones.
 */
type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
const zodCompilers = {
  buildValidator: () => zodValidator('DTR_ERR_INVALID_REQUEST'),
  buildSerializer: () => serializerCompiler,
} as unknown as CompilersFactory

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`

/**
 * Answers what Node refuses before Fastify sees a request — a request past its headers or request
 * timeout (408), or bytes that are not HTTP (400) — in our error shape, and closes the connection.
 */
function clientErrorHandler (limits: IntakeLimits) {
  return function onClientError (this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    const code = timeout ? 'DTR_ERR_REQUEST_TIMEOUT' : 'DTR_ERR_INVALID_REQUEST'
    const message = timeout
      ? `The request did not arrive in time (headers within ${seconds(limits.headersTimeoutMs)}, all of it within ${seconds(limits.requestTimeoutMs)}); the connection is closed`
      : 'The request is not valid HTTP'
    this.log.info({ code, reason: err.code }, 'connection closed')
    if (socket.writable) socket.end(rawErrorResponse(timeout ? 408 : 400, code, message))
    socket.destroySoon()
  }
}

/** ctx.dynatrace without DTR_DYNATRACE_URL: every read says why it cannot be made. */
const noDynatrace: DynatraceReader = {
  getProblem: async () => { throw new DtrError('DTR_ERR_CONFIG', 'DTR_DYNATRACE_URL is not set: Dynatrace cannot be read') },
  getEntity: async () => { throw new DtrError('DTR_ERR_CONFIG', 'DTR_DYNATRACE_URL is not set: Dynatrace cannot be read') },
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  const clock = options.clock ?? systemClock
  const limits = { ...DEFAULT_LIMITS, ...options.limits }
  // One pino logger for Fastify, the runner and the Dynatrace client: the caller's, or one made
  // from its options (silent when logging is off, as in most tests).
  const given = options.logger ?? false
  const log: Logger = typeof given === 'object' && given !== null && 'child' in given
    ? given as Logger
    : pino(given === false ? { level: 'silent' } : given === true ? {} : given as LoggerOptions)
  // A request's id, unless the caller sent a usable X-Request-Id: this process's random prefix and
  // a count, unique across replicas and restarts without a random UUID per request.
  const idPrefix = `${randomUUID().slice(0, 8)}-`
  let requests = 0
  const app: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : idPrefix + String(++requests)
    },
    bodyLimit: config.bodyLimit,
    // Fastify's default (10 s) is shorter than a PostgreSQL migration lock or a cold start on a
    // loaded node can take; a plugin that hangs for a minute still fails start-up.
    pluginTimeout: 60_000,
    // plugins/graceful-close answers 503 itself while closing, in our error shape.
    return503OnClosing: false,
    logController: new RequestLog(options.requestLines),
    childLoggerFactory: lazyChildLogger,
    // Every schema is a zod schema (plugins/validation.ts), so Fastify's default compilers (ajv,
    // fast-json-stringify) are never used; naming ours here keeps them from being loaded at all,
    // which saves about 70 ms of start-up and some memory.
    schemaController: { compilersFactory: zodCompilers },
    // Node closes a request whose body has not arrived within requestTimeout (Fastify's default
    // turns that off, and a client stalling mid-body held its socket for minutes).
    requestTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    clientErrorHandler: clientErrorHandler(limits),
  })
  app.server.maxConnections = limits.maxConnections
  app.decorateRequest('logFields', undefined)

  const env = options.env ?? {}
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: options.defaultMetrics, now: () => clock.now() })
  const kubernetes = options.kubernetes ?? configuredKubernetes(config, env)
  const dynatrace = options.dynatrace ?? (config.dynatrace?.token === undefined ? undefined : createDynatraceClient({ url: config.dynatrace.url, token: config.dynatrace.token, metrics, logger: log, now: () => clock.now(), sleep: clock.sleep }))
  if (options.dynatrace === undefined && dynatrace !== undefined) app.addHook('onClose', async () => { await dynatrace.close() })

  await app.register(errorHandlerPlugin)
  await app.register(gracefulClosePlugin, { receivingGraceMs: limits.closingRequestTimeoutMs })
  await app.register(underPressurePlugin, options.underPressure ?? {})
  await app.register(validationPlugin)
  await app.register(metricsPlugin, { metrics })
  await app.register(rulesPlugin, options.rules ?? { load: rulesLoader(config, env, kubernetes), now: () => clock.now() })
  await app.register(storePlugin, {
    location: config,
    store: options.store,
    clock,
    notifications: { retentionMs: config.retentionMs, ...options.notifications },
  })
  await app.register(retentionPlugin, { retentionMs: config.retentionMs, clock: options.store?.clock ?? clock, ...options.retention })
  await app.register(webhookAuthPlugin, { tokens: config.webhookTokens, header: config.webhookTokenHeader })
  await app.register(runnerPlugin, {
    enabled: options.runner ?? true,
    deps: {
      dynatrace,
      readers: { dynatrace: dynatrace === undefined ? noDynatrace : dynatraceReader(dynatrace), kubernetes: kubernetesReader(kubernetes) },
      env,
      clusterName: config.clusterName,
      reconcileProblemSelector: config.reconcileProblemSelector,
      adminConfigured: config.adminTokens !== undefined,
      publicUrl: config.publicUrl,
      ownNamespace: env.POD_NAMESPACE,
      clock: options.store?.clock ?? clock,
      log,
      owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      timings: { ...defaultTimings, reconcileIntervalMs: config.reconcileIntervalMs, ...options.timings },
      secrets: configSecrets(config),
    },
  })
  // No answer carries a secret the service holds (an outcome's echoed request, an error message).
  const redactAnswer = secretRedactor(() => app.rules.current, () => [...configSecrets(config), ...ruleEnvSecrets(app.rules.current.rules.rules, env)])
  // A callback hook, not an async one: it runs on every answer, and a promise each is measurable.
  app.addHook('onSend', (_request, _reply, payload, done) => { done(null, typeof payload === 'string' ? redactAnswer(payload) : payload) })
  if (config.adminTokens !== undefined) await app.register(adminAuthPlugin, { tokens: config.adminTokens })
  await app.register(openApiPlugin, { version: packageVersion() })

  await app.register(healthRoutes)
  await app.register(webhookRoutes, { bodyLimit: config.bodyLimit })
  if (config.adminTokens !== undefined) {
    // Loaded only where they are served: a webhook-only service (no DTR_ADMIN_TOKENS) never loads
    // the admin API, its @fastify/sensible, the console's renderer or its cookie, CSRF and helmet plugins.
    const [{ default: sensible }, { default: apiRoutes }, { default: consoleRoutes }] = await Promise.all([import('@fastify/sensible'), import('./routes/api/index.js'), import('./routes/ui/index.js')])
    await app.register(sensible)
    await app.register(apiRoutes)
    await app.register(consoleRoutes, { tokens: config.adminTokens, publicUrl: config.publicUrl, dynatraceUrl: config.dynatrace?.url, data: options.consoleData })
  }
  await app.register(openApiRoute)
  return app
}
