/**
 * The environment (SPEC section 3), parsed once by `loadConfig(env)` into a frozen, typed Config.
 * Pure apart from reading `X_FILE` secrets through the injected `readFile`; never reads
 * process.env itself. An invalid value throws a ConfigError whose message is one line naming the
 * variable and the problem, which the server prints before exiting.
 */
import { z } from 'zod'
import { ConfigError } from './errors.js'
import { MODES, type Mode } from './domain/mode.js'
import { parseEnvironmentUrl } from './dynatrace/url.js'
import type { AllowedHost } from './domain/hosts.js'
import { parseDuration as parseRulesDuration } from './domain/rules/duration.js'

export type { AllowedHost, Mode }

export interface AdminToken {
  readonly name: string
  readonly token: string
}

export interface Config {
  readonly port: number
  readonly host: string
  /** Only when DTR_MODE is set; else the rules file's mode, else dry-run. */
  readonly mode: Mode | undefined
  readonly rulesFile: string
  readonly dataDir: string
  readonly databaseUrl: string | undefined
  /** DTR_RETENTION in ms: notifications and finished work older than this are pruned. */
  readonly retentionMs: number
  readonly dynatrace: { readonly url: string, readonly token: string | undefined } | undefined
  /**
   * DTR_RECONCILE_INTERVAL in ms: how often the Problems API is read for what no notification
   * brought (SPEC 8). 0 when turned off, and without DTR_DYNATRACE_URL, which it needs.
   */
  readonly reconcileIntervalMs: number
  /**
   * DTR_RECONCILE_PROBLEM_SELECTOR: more criteria for reconciliation's listing of open problems
   * (`managementZones("Production")`), so that it takes in only what the problem notification's
   * alerting profile would have sent. undefined: every open problem.
   */
  readonly reconcileProblemSelector: string | undefined
  /** undefined: generate one on first start and keep it in the store. */
  readonly webhookTokens: readonly string[] | undefined
  readonly webhookTokenHeader: string
  /** undefined: the admin API is disabled. The name is who approves, rejects or pauses. */
  readonly adminTokens: readonly AdminToken[] | undefined
  readonly kubeconfig: string | undefined
  /** DTR_CLUSTER_NAME: the cluster this service acts on, as Dynatrace names it. */
  readonly clusterName: string | undefined
  /** DTR_PUBLIC_URL: where people reach this service, for the approval comment's curl line. */
  readonly publicUrl: string | undefined
  readonly logLevel: string
  readonly bodyLimit: number
  readonly httpAllowedHosts: readonly AllowedHost[]
  /** Things worth a warning at start-up that do not stop it. */
  readonly warnings: readonly string[]
}

export { ConfigError }

export type Env = Readonly<Record<string, string | undefined>>

export interface ConfigIo {
  readFile(path: string): string
}

/** Secrets that may come from a mounted file via `X_FILE`. */
export const SECRET_VARIABLES = ['DTR_DYNATRACE_TOKEN', 'DTR_WEBHOOK_TOKENS', 'DTR_ADMIN_TOKENS', 'DTR_DATABASE_URL'] as const
type Secret = (typeof SECRET_VARIABLES)[number]

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * Pure: `30d`, `12h`, `90m`, `3600s` in ms; undefined for anything else. The rules file's grammar
 * (one whole number, one unit), with the surrounding blanks an env file or a ConfigMap can leave.
 */
export function parseDuration (text: string): number | undefined {
  return parseRulesDuration(text.trim())
}

/** Shorter would spend the environment's API rate limit for little: a pass costs a call or more. */
const MIN_RECONCILE_INTERVAL_MS = 10_000

/** Each variable's schema: the zod message becomes the one-line error after the variable name. */
const schemas = {
  DTR_PORT: z.coerce.number({ error: 'must be a port number' }).int('must be an integer').min(0, 'must be 0-65535').max(65535, 'must be 0-65535').default(8080),
  DTR_HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  DTR_MODE: z.enum(MODES, { error: 'must be "dry-run" or "live"' }).optional(),
  DTR_RULES_FILE: z.string().min(1, 'must not be empty').default('config/remediation.yaml'),
  DTR_DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  DTR_RETENTION: z.string().default('30d')
    .transform((text, ctx) => {
      const ms = parseDuration(text)
      if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30d, 12h or 90m' })
      else if (ms < 3_600_000) ctx.addIssue({ code: 'custom', message: 'must be at least 1h' })
      return ms ?? 0
    }),
  DTR_RECONCILE_INTERVAL: z.string().default('2m')
    .transform((text, ctx) => {
      if (/^\s*0[smhd]?\s*$/.test(text)) return 0
      const ms = parseDuration(text)
      if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'must be a duration such as 2m, 30s or 1h, or 0 to turn reconciliation off' })
      else if (ms < MIN_RECONCILE_INTERVAL_MS) ctx.addIssue({ code: 'custom', message: 'must be at least 10s (or 0 to turn reconciliation off)' })
      return ms ?? 0
    }),
  DTR_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  DTR_BODY_LIMIT: z.coerce.number({ error: 'must be a number of bytes' }).int('must be an integer').min(1024, 'must be at least 1024 bytes').max(64 * 1024 * 1024, 'must be at most 67108864 bytes').default(1048576),
  DTR_WEBHOOK_TOKEN_HEADER: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name')
    .refine((h) => h.toLowerCase() !== 'authorization', 'must not be "authorization" (Bearer and Basic already use it)')
    .transform((h) => h.toLowerCase()).default('x-webhook-token'),
} as const

function readVariable<K extends keyof typeof schemas> (env: Env, name: K): z.output<(typeof schemas)[K]> {
  const raw = env[name]
  const result = schemas[name].safeParse(raw === '' ? undefined : raw)
  if (!result.success) throw new ConfigError(name, `${result.error.issues[0]?.message ?? 'is invalid'} (got "${raw ?? ''}")`)
  return result.data as z.output<(typeof schemas)[K]>
}

/** Resolves `X` or `X_FILE` (never both); file content is trimmed of its trailing newline. */
function readSecret (env: Env, io: ConfigIo, name: Secret): string | undefined {
  const direct = env[name]
  const file = env[`${name}_FILE`]
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
    throw new ConfigError(name, `set either ${name} or ${name}_FILE, not both`)
  }
  if (file !== undefined && file !== '') {
    let content: string
    try {
      content = io.readFile(file)
    } catch (err) {
      throw new ConfigError(`${name}_FILE`, `cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
    const value = content.replace(/\r?\n$/, '')
    if (value.trim() === '') throw new ConfigError(`${name}_FILE`, `"${file}" is empty`)
    return value
  }
  return direct === '' ? undefined : direct
}

function tokenList (name: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined
  const tokens = raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (tokens.length === 0) throw new ConfigError(name, 'lists no token')
  for (const token of tokens) {
    if (token.length < 8) throw new ConfigError(name, 'each token must be at least 8 characters long')
    if (/\s/.test(token)) throw new ConfigError(name, 'tokens must not contain whitespace')
  }
  return tokens
}

/** `name=token` pairs, comma-separated; a bare token is named `admin` (SPEC 3). */
function adminTokens (raw: string | undefined): AdminToken[] | undefined {
  if (raw === undefined) return undefined
  const entries = raw.split(',').map((s) => s.trim()).filter((s) => s !== '').map((entry) => {
    const eq = entry.indexOf('=')
    const name = eq < 0 ? 'admin' : entry.slice(0, eq).trim()
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) throw new ConfigError('DTR_ADMIN_TOKENS', `"${name}" is not a name: use letters, digits, . _ @ - (name=token)`)
    return { name, token: eq < 0 ? entry : entry.slice(eq + 1).trim() }
  })
  const tokens = tokenList('DTR_ADMIN_TOKENS', entries.map((e) => e.token).join(',')) ?? []
  if (tokens.length !== entries.length) throw new ConfigError('DTR_ADMIN_TOKENS', 'each name=token entry needs a token')
  return entries
}

function publicUrl (raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new ConfigError('DTR_PUBLIC_URL', `is not a URL (got "${raw}")`)
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError('DTR_PUBLIC_URL', `must be an http:// or https:// URL without credentials, query or fragment (got "${raw}")`)
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

function dynatraceUrl (raw: string | undefined, warnings: string[]): string | undefined {
  if (raw === undefined || raw === '') return undefined
  const url = parseEnvironmentUrl(raw)
  if (url.plaintextRemote) warnings.push(`DTR_DYNATRACE_URL uses plain http:// to ${new URL(url.origin).host}; the API token travels unencrypted`)
  return url.href
}

/** Pure: parses `host`, `host:port` and `*.example.com` entries. */
export function parseAllowedHosts (raw: string): AllowedHost[] {
  const hosts: AllowedHost[] = []
  for (const entry of raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')) {
    const match = /^(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/.exec(entry)
    const port = match?.[3] === undefined ? undefined : Number(match[3])
    if (match === null || (port !== undefined && (port < 1 || port > 65535))) {
      throw new ConfigError('DTR_HTTP_ALLOWED_HOSTS', `"${entry}" is not a host, host:port or *.domain entry`)
    }
    hosts.push({ host: `${match[1] ?? ''}${match[2] as string}`, port })
  }
  return hosts
}

/**
 * DTR_RECONCILE_PROBLEM_SELECTOR: problemSelector criteria, comma-separated as Dynatrace takes
 * them. Reconciliation adds `status("open")` itself, and a listing that an unbalanced quote or
 * parenthesis breaks would fail every pass, so both are refused here.
 */
function problemSelector (raw: string | undefined): string | undefined {
  const text = raw?.trim() ?? ''
  if (text === '') return undefined
  const name = 'DTR_RECONCILE_PROBLEM_SELECTOR'
  if (/(^|[,\s])status\s*\(/i.test(text)) throw new ConfigError(name, `leave status(…) out: reconciliation lists open problems and adds status("open") itself (got "${text}")`)
  let depth = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '~' && quoted) { i++; continue }
    if (c === '"') quoted = !quoted
    else if (!quoted && c === '(') depth++
    else if (!quoted && c === ')' && --depth < 0) break
  }
  if (quoted || depth !== 0 || !/^[A-Za-z][A-Za-z0-9.]*\(/.test(text)) {
    throw new ConfigError(name, `must be problemSelector criteria such as managementZones("Production"),severityLevel("ERROR") (got "${text}")`)
  }
  return text
}

export function loadConfig (env: Env, io: ConfigIo): Config {
  const warnings: string[] = []
  const databaseUrl = readSecret(env, io, 'DTR_DATABASE_URL')
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DTR_DATABASE_URL', 'must be a postgres:// or postgresql:// URL')
  }
  const url = dynatraceUrl(env.DTR_DYNATRACE_URL, warnings)
  const token = readSecret(env, io, 'DTR_DYNATRACE_TOKEN')
  if (url === undefined && token !== undefined) warnings.push('DTR_DYNATRACE_TOKEN is set but DTR_DYNATRACE_URL is not; Dynatrace will not be called')
  if (url !== undefined && token === undefined) warnings.push('DTR_DYNATRACE_URL is set without DTR_DYNATRACE_TOKEN; Dynatrace will answer 401')
  const kubeconfig = env.DTR_KUBECONFIG === '' ? undefined : env.DTR_KUBECONFIG
  const reconcileIntervalMs = readVariable(env, 'DTR_RECONCILE_INTERVAL')
  if (url === undefined && reconcileIntervalMs > 0 && env.DTR_RECONCILE_INTERVAL !== undefined && env.DTR_RECONCILE_INTERVAL !== '') {
    warnings.push('DTR_RECONCILE_INTERVAL is set but DTR_DYNATRACE_URL is not; nothing is reconciled')
  }

  const reconcileProblemSelector = problemSelector(env.DTR_RECONCILE_PROBLEM_SELECTOR)
  if (url === undefined && reconcileProblemSelector !== undefined) warnings.push('DTR_RECONCILE_PROBLEM_SELECTOR is set but DTR_DYNATRACE_URL is not; nothing is reconciled')

  const config: Config = {
    port: readVariable(env, 'DTR_PORT'),
    host: readVariable(env, 'DTR_HOST'),
    mode: readVariable(env, 'DTR_MODE'),
    rulesFile: readVariable(env, 'DTR_RULES_FILE'),
    dataDir: readVariable(env, 'DTR_DATA_DIR'),
    databaseUrl,
    retentionMs: readVariable(env, 'DTR_RETENTION'),
    dynatrace: url === undefined ? undefined : { url, token },
    reconcileIntervalMs: url === undefined ? 0 : reconcileIntervalMs,
    reconcileProblemSelector,
    webhookTokens: tokenList('DTR_WEBHOOK_TOKENS', readSecret(env, io, 'DTR_WEBHOOK_TOKENS')),
    webhookTokenHeader: readVariable(env, 'DTR_WEBHOOK_TOKEN_HEADER'),
    adminTokens: adminTokens(readSecret(env, io, 'DTR_ADMIN_TOKENS')),
    kubeconfig,
    publicUrl: publicUrl(env.DTR_PUBLIC_URL),
    clusterName: env.DTR_CLUSTER_NAME === undefined || env.DTR_CLUSTER_NAME.trim() === '' ? undefined : env.DTR_CLUSTER_NAME.trim(),
    logLevel: readVariable(env, 'DTR_LOG_LEVEL'),
    bodyLimit: readVariable(env, 'DTR_BODY_LIMIT'),
    httpAllowedHosts: parseAllowedHosts(env.DTR_HTTP_ALLOWED_HOSTS ?? 'hooks.slack.com'),
    warnings,
  }
  return Object.freeze(config)
}
