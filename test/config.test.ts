import t from 'tap'
import type { Test } from 'tap'
import { ConfigError, loadConfig, parseAllowedHosts, parseDuration, type Env } from '../src/config.js'

const noFiles = { readFile: (path: string): string => { throw Object.assign(new Error('nope'), { code: `ENOENT ${path}` }) } }
const load = (env: Env, files: Record<string, string> = {}) => loadConfig(env, {
  readFile: (path) => {
    const content = files[path]
    if (content === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' })
    return content
  },
})

function failsWith (t: Test, env: Env, message: RegExp | string, files: Record<string, string> = {}): void {
  try {
    load(env, files)
    t.fail(`expected a ConfigError matching ${String(message)}`)
  } catch (err) {
    t.ok(err instanceof ConfigError, 'is a ConfigError')
    t.match((err as Error).message, message)
    t.notMatch((err as Error).message, /\n/, 'is one line')
  }
}

t.test('defaults match SPEC section 3', async (t) => {
  const c = loadConfig({}, noFiles)
  t.same({ ...c }, {
    port: 8080,
    host: '0.0.0.0',
    mode: undefined,
    rulesFile: 'config/remediation.yaml',
    dataDir: './data',
    databaseUrl: undefined,
    retentionMs: 30 * 86_400_000,
    dynatrace: undefined,
    // 2m by default, but nothing to reconcile with without DTR_DYNATRACE_URL.
    reconcileIntervalMs: 0,
    webhookTokens: undefined,
    webhookTokenHeader: 'x-webhook-token',
    adminTokens: undefined,
    kubeconfig: undefined,
    clusterName: undefined,
    logLevel: 'info',
    bodyLimit: 1048576,
    httpAllowedHosts: [{ host: 'hooks.slack.com', port: undefined }],
    warnings: [],
  })
  t.ok(Object.isFrozen(c))
})

t.test('reads every variable', async (t) => {
  const c = load({
    DTR_PORT: '9090',
    DTR_HOST: '127.0.0.1',
    DTR_MODE: 'live',
    DTR_RULES_FILE: '/etc/dtr/rules.yaml',
    DTR_DATA_DIR: '/var/lib/dtr',
    DTR_RETENTION: '7d',
    DTR_DATABASE_URL: 'postgres://u:p@db/dtr',
    DTR_DYNATRACE_URL: 'https://host.example/e/ENV-ID/',
    DTR_DYNATRACE_TOKEN: 'dt0c01.ABC',
    DTR_WEBHOOK_TOKENS: 'first-token-1, second-token-2',
    DTR_WEBHOOK_TOKEN_HEADER: 'X-Dynatrace-Secret',
    DTR_ADMIN_TOKENS: 'admin-token-1',
    DTR_KUBECONFIG: '/kube/config',
    DTR_CLUSTER_NAME: ' prod-eu-1 ',
    DTR_LOG_LEVEL: 'debug',
    DTR_BODY_LIMIT: '2048',
    DTR_HTTP_ALLOWED_HOSTS: 'hooks.slack.com,ci.example.com:8443,*.example.org',
    DTR_RECONCILE_INTERVAL: '5m',
  })
  t.equal(c.port, 9090)
  t.equal(c.reconcileIntervalMs, 300_000)
  t.equal(c.mode, 'live')
  t.same(c.dynatrace, { url: 'https://host.example/e/ENV-ID', token: 'dt0c01.ABC' })
  t.same(c.webhookTokens, ['first-token-1', 'second-token-2'])
  t.equal(c.webhookTokenHeader, 'x-dynatrace-secret')
  t.same(c.adminTokens, [{ name: 'admin', token: 'admin-token-1' }])
  t.equal(c.clusterName, 'prod-eu-1')
  t.equal(c.bodyLimit, 2048)
  t.equal(c.retentionMs, 7 * 86_400_000)
  t.equal(c.dataDir, '/var/lib/dtr')
  t.same(c.httpAllowedHosts, [
    { host: 'hooks.slack.com', port: undefined },
    { host: 'ci.example.com', port: 8443 },
    { host: '*.example.org', port: undefined },
  ])
  t.same(c.warnings, [])
})

t.test('reads secrets from X_FILE', async (t) => {
  const c = load({
    DTR_WEBHOOK_TOKENS_FILE: '/run/secrets/webhook',
    DTR_DYNATRACE_URL: 'https://abc12345.live.dynatrace.com',
    DTR_DYNATRACE_TOKEN_FILE: '/run/secrets/dt',
    DTR_ADMIN_TOKENS_FILE: '/run/secrets/admin',
    DTR_DATABASE_URL_FILE: '/run/secrets/db',
  }, {
    '/run/secrets/webhook': 'from-file-token\n',
    '/run/secrets/dt': 'dt0c01.FILE',
    '/run/secrets/admin': 'admin-from-file\n',
    '/run/secrets/db': 'postgresql://db/dtr\n',
  })
  t.same(c.webhookTokens, ['from-file-token'])
  t.equal(c.dynatrace?.token, 'dt0c01.FILE')
  t.same(c.adminTokens, [{ name: 'admin', token: 'admin-from-file' }])
  t.equal(c.databaseUrl, 'postgresql://db/dtr')
})

t.test('an invalid value names the variable in one line', async (t) => {
  failsWith(t, { DTR_PORT: 'abc' }, /^DTR_PORT: must be a port number \(got "abc"\)$/)
  failsWith(t, { DTR_PORT: '70000' }, /^DTR_PORT: must be 0-65535/)
  failsWith(t, { DTR_MODE: 'yolo' }, /^DTR_MODE: must be "dry-run" or "live"/)
  failsWith(t, { DTR_LOG_LEVEL: 'loud' }, /^DTR_LOG_LEVEL: must be one of/)
  failsWith(t, { DTR_BODY_LIMIT: '10' }, /^DTR_BODY_LIMIT: must be at least 1024 bytes/)
  failsWith(t, { DTR_WEBHOOK_TOKEN_HEADER: 'bad header' }, /^DTR_WEBHOOK_TOKEN_HEADER: must be a valid HTTP header name/)
  failsWith(t, { DTR_WEBHOOK_TOKEN_HEADER: 'Authorization' }, /^DTR_WEBHOOK_TOKEN_HEADER: must not be "authorization"/)
  failsWith(t, { DTR_DYNATRACE_URL: 'not a url' }, /^DTR_DYNATRACE_URL: is not a URL/)
  failsWith(t, { DTR_DYNATRACE_URL: 'ftp://x' }, /^DTR_DYNATRACE_URL: must be an http/)
  failsWith(t, { DTR_DYNATRACE_URL: 'https://u:p@x' }, /^DTR_DYNATRACE_URL: must not contain credentials/)
  failsWith(t, { DTR_DATABASE_URL: 'mysql://x' }, /^DTR_DATABASE_URL: must be a postgres/)
  failsWith(t, { DTR_WEBHOOK_TOKENS: ' , ' }, /^DTR_WEBHOOK_TOKENS: lists no token/)
  failsWith(t, { DTR_WEBHOOK_TOKENS: 'short' }, /^DTR_WEBHOOK_TOKENS: each token must be at least 8/)
  failsWith(t, { DTR_ADMIN_TOKENS: 'a', DTR_ADMIN_TOKENS_FILE: '/x' }, /^DTR_ADMIN_TOKENS: set either DTR_ADMIN_TOKENS or DTR_ADMIN_TOKENS_FILE/)
  failsWith(t, { DTR_DYNATRACE_TOKEN_FILE: '/missing' }, /^DTR_DYNATRACE_TOKEN_FILE: cannot read "\/missing": ENOENT/)
  failsWith(t, { DTR_WEBHOOK_TOKENS_FILE: '/empty' }, /^DTR_WEBHOOK_TOKENS_FILE: "\/empty" is empty/, { '/empty': '\n' })
  failsWith(t, { DTR_RETENTION: 'a month' }, /^DTR_RETENTION: must be a duration such as 30d, 12h or 90m \(got "a month"\)$/)
  failsWith(t, { DTR_RETENTION: '30' }, /^DTR_RETENTION: must be a duration such as 30d/)
  failsWith(t, { DTR_RETENTION: '10m' }, /^DTR_RETENTION: must be at least 1h \(got "10m"\)$/)
  failsWith(t, { DTR_RECONCILE_INTERVAL: 'often' }, /^DTR_RECONCILE_INTERVAL: must be a duration such as 2m, 30s or 1h, or 0 to turn reconciliation off \(got "often"\)$/)
  failsWith(t, { DTR_RECONCILE_INTERVAL: '5s' }, /^DTR_RECONCILE_INTERVAL: must be at least 10s \(or 0 to turn reconciliation off\) \(got "5s"\)$/)
  failsWith(t, { DTR_RECONCILE_INTERVAL: '-2m' }, /^DTR_RECONCILE_INTERVAL: must be a duration/)
  failsWith(t, { DTR_HTTP_ALLOWED_HOSTS: 'https://x.com' }, /^DTR_HTTP_ALLOWED_HOSTS: "https:\/\/x.com" is not a host/)
})

t.test('warns about plain http to a non-loopback Dynatrace and a URL without token', async (t) => {
  t.same(load({ DTR_DYNATRACE_URL: 'http://127.0.0.1:9000', DTR_DYNATRACE_TOKEN: 'x' }).warnings, [])
  t.same(load({ DTR_DYNATRACE_URL: 'http://localhost:9000', DTR_DYNATRACE_TOKEN: 'x' }).warnings, [])
  t.match(load({ DTR_DYNATRACE_URL: 'http://proxy.internal', DTR_DYNATRACE_TOKEN: 'x' }).warnings, [/plain http:\/\/ to proxy.internal/])
  t.match(load({ DTR_DYNATRACE_URL: 'https://x.live.dynatrace.com' }).warnings, [/without DTR_DYNATRACE_TOKEN/])
})

t.test('parseAllowedHosts accepts IPv6 literals and rejects port 0', async (t) => {
  t.same(parseAllowedHosts('[::1]:8080'), [{ host: '[::1]', port: 8080 }])
  t.throws(() => parseAllowedHosts('x.com:0'), ConfigError)
})

t.test('DTR_ADMIN_TOKENS: name=token pairs, a bare token named admin, names repeatable for rotation', async (t) => {
  t.same(load({ DTR_ADMIN_TOKENS: 'alice=alice-token-1, bob=bob-token-22,bare-token-3' }).adminTokens, [
    { name: 'alice', token: 'alice-token-1' },
    { name: 'bob', token: 'bob-token-22' },
    { name: 'admin', token: 'bare-token-3' },
  ])
  t.same(load({ DTR_ADMIN_TOKENS: 'ci=old-token-1,ci=new-token-2' }).adminTokens?.map((a) => a.name), ['ci', 'ci'])
  failsWith(t, { DTR_ADMIN_TOKENS: 'alice=short' }, /^DTR_ADMIN_TOKENS: each token must be at least 8 characters long/)
  failsWith(t, { DTR_ADMIN_TOKENS: 'al ice=long-enough-token' }, /^DTR_ADMIN_TOKENS: "al ice" is not a name/)
  failsWith(t, { DTR_ADMIN_TOKENS: 'alice=' }, /^DTR_ADMIN_TOKENS: /)
})

t.test('DTR_PUBLIC_URL: where people reach the service, for the approval curl line', async (t) => {
  t.equal(load({ DTR_PUBLIC_URL: 'https://remediator.example.com/' }).publicUrl, 'https://remediator.example.com')
  t.equal(load({}).publicUrl, undefined)
  failsWith(t, { DTR_PUBLIC_URL: 'remediator' }, /^DTR_PUBLIC_URL: is not a URL/)
  failsWith(t, { DTR_PUBLIC_URL: 'ftp://x' }, /^DTR_PUBLIC_URL: must be an http/)
})

t.test('DTR_RETENTION takes days, hours, minutes or seconds', async (t) => {
  t.equal(parseDuration('30d'), 30 * 86_400_000)
  t.equal(parseDuration('12h'), 12 * 3_600_000)
  t.equal(parseDuration('90m'), 90 * 60_000)
  t.equal(parseDuration(' 3600s '), 3_600_000)
  t.equal(parseDuration('1.5d'), undefined)
  t.equal(parseDuration('-1d'), undefined)
  t.equal(parseDuration('1w'), undefined)
  t.equal(load({ DTR_RETENTION: '' }).retentionMs, 30 * 86_400_000, 'empty is the default')
})

t.test('DTR_RECONCILE_PROBLEM_SELECTOR: problemSelector criteria added to status("open"); status itself and broken selectors are refused', async (t) => {
  const dt = { DTR_DYNATRACE_URL: 'https://abc12345.live.dynatrace.com', DTR_DYNATRACE_TOKEN: 'dt0c01.X' }
  t.equal(load(dt).reconcileProblemSelector, undefined, 'unset: every open problem')
  t.equal(load({ ...dt, DTR_RECONCILE_PROBLEM_SELECTOR: ' ' }).reconcileProblemSelector, undefined, 'blank is unset')
  t.equal(load({ ...dt, DTR_RECONCILE_PROBLEM_SELECTOR: 'problemFilterNames.equals("dt-remediator")' }).reconcileProblemSelector, 'problemFilterNames.equals("dt-remediator")')
  t.equal(load({ ...dt, DTR_RECONCILE_PROBLEM_SELECTOR: ' managementZones("Prod (EU)"),severityLevel("ERROR","AVAILABILITY") ' }).reconcileProblemSelector,
    'managementZones("Prod (EU)"),severityLevel("ERROR","AVAILABILITY")', 'parentheses inside quotes are values')
  failsWith(t, { ...dt, DTR_RECONCILE_PROBLEM_SELECTOR: 'status("open"),managementZones("Production")' }, /^DTR_RECONCILE_PROBLEM_SELECTOR: leave status\(…\) out: reconciliation lists open problems and adds status\("open"\) itself/)
  failsWith(t, { ...dt, DTR_RECONCILE_PROBLEM_SELECTOR: 'managementZones("Production"' }, /^DTR_RECONCILE_PROBLEM_SELECTOR: must be problemSelector criteria such as managementZones\("Production"\)/)
  failsWith(t, { ...dt, DTR_RECONCILE_PROBLEM_SELECTOR: 'managementZones("Production)' }, /^DTR_RECONCILE_PROBLEM_SELECTOR: must be problemSelector criteria/)
  failsWith(t, { ...dt, DTR_RECONCILE_PROBLEM_SELECTOR: 'Production' }, /^DTR_RECONCILE_PROBLEM_SELECTOR: must be problemSelector criteria/)
  t.same(load({ DTR_RECONCILE_PROBLEM_SELECTOR: 'managementZones("Production")' }).warnings, ['DTR_RECONCILE_PROBLEM_SELECTOR is set but DTR_DYNATRACE_URL is not; nothing is reconciled'])
})

t.test('DTR_RECONCILE_INTERVAL: 2m by default with DTR_DYNATRACE_URL, 0 turns it off, nothing without the URL', async (t) => {
  const dt = { DTR_DYNATRACE_URL: 'https://abc12345.live.dynatrace.com', DTR_DYNATRACE_TOKEN: 'dt0c01.X' }
  t.equal(load(dt).reconcileIntervalMs, 120_000, 'default 2m')
  t.equal(load({ ...dt, DTR_RECONCILE_INTERVAL: '' }).reconcileIntervalMs, 120_000, 'empty is the default')
  t.equal(load({ ...dt, DTR_RECONCILE_INTERVAL: '30s' }).reconcileIntervalMs, 30_000)
  t.equal(load({ ...dt, DTR_RECONCILE_INTERVAL: '1h' }).reconcileIntervalMs, 3_600_000)
  t.equal(load({ ...dt, DTR_RECONCILE_INTERVAL: '0' }).reconcileIntervalMs, 0, '0 turns it off')
  t.equal(load({ ...dt, DTR_RECONCILE_INTERVAL: '0s' }).reconcileIntervalMs, 0, '0s too')
  t.same(load({ ...dt, DTR_RECONCILE_INTERVAL: '0' }).warnings, [])
  const without = load({ DTR_RECONCILE_INTERVAL: '5m' })
  t.equal(without.reconcileIntervalMs, 0, 'needs DTR_DYNATRACE_URL')
  t.same(without.warnings, ['DTR_RECONCILE_INTERVAL is set but DTR_DYNATRACE_URL is not; nothing is reconciled'])
  t.same(load({ DTR_RECONCILE_INTERVAL: '0' }).warnings, [], 'turning it off needs no URL')
})
