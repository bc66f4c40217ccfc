/**
 * The built service runs from its start-up bundle (scripts/bundle.mjs), as the image does: it
 * starts, answers, runs at start none of what it needs only later, starts from the build's code
 * cache when it may and compiles as before when it may not, and shares with a custom action the
 * classes the two must agree on: a custom action that throws TerminalError, imported from the
 * package by name, fails at once under the bundle, as it does from the sources.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import t, { type Test } from 'tap'
import { consumer, ensureBuilt, root } from '../helpers/build.js'
import { startSimulator, TEST_TOKEN } from '../helpers/dynatrace.js'
import { sampleText } from '../helpers/samples.js'
import { runCliProcess, startServer } from '../helpers/server-process.js'
import { notAtStart } from '../helpers/start-modules.js'
import { NOW, notificationOf } from '../helpers/world.js'

const preload = fileURLToPath(new URL('../helpers/loaded-modules.mjs', import.meta.url))
const TOKEN = 'bundle-token-0123456789'
const BUNDLE = 'dist/src/bundle/server.cjs'

/** The bundle's file, with the files it joins (scripts/bundle.mjs writes them). */
const bundleMeta = (): Record<string, { inputs: string[] }> =>
  JSON.parse(readFileSync(join(root, 'dist/bundle-meta.json'), 'utf8')) as Record<string, { inputs: string[] }>

/** The V8 options the image runs with (its ENV NODE_OPTIONS), for which the build made the cache. */
const imageNodeOptions = (/^ENV NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1] ?? '').replace(/^"|"$/g, '')

t.before(ensureBuilt)

const answersTestNotification = async (t: Test, url: string): Promise<void> => {
  const test = await fetch(`${url}/webhooks/problem`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: sampleText('test-notification-docs.json') })
  t.equal(test.status, 200, 'Dynatrace\'s test notification is answered')
  t.same(await test.json(), { status: 'test' })
}

t.test('the built service starts from the bundle and the build\'s code cache, as the image runs it', async (t) => {
  const server = await startServer(t, { DTR_WEBHOOK_TOKENS: TOKEN, DTR_DATA_DIR: join(t.testdir({ data: {} }), 'data'), NODE_OPTIONS: imageNodeOptions }, { built: true })
  t.match(await server.waitForLog((l) => typeof l.url === 'string'), { codeCache: 'used' }, 'V8 took the cache: the bundle was not compiled again')
  t.equal((await fetch(`${server.url}/readyz`)).status, 200, 'ready')
  await answersTestNotification(t, server.url)
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'SIGTERM stops it cleanly')
})

t.test('the built service runs at start none of what it needs only later', async (t) => {
  const modules = join(t.testdir(), 'modules.txt')
  const functionCalls = join(t.testdir(), 'calls.json')
  const server = await startServer(t, {
    DTR_WEBHOOK_TOKENS: TOKEN,
    DTR_DATA_DIR: join(t.testdir({ data: {} }), 'data'),
    NODE_OPTIONS: `${imageNodeOptions} --import=${preload}`,
    LOADED_MODULES_FILE: modules,
    // V8's count of each function's calls: esbuild wraps each module the bundle runs only when it
    // is first imported in a function named by its path (`"dist/src/app.js"() {…}`).
    FUNCTION_CALLS_FILE: functionCalls,
    FUNCTION_CALLS_SCRIPT: `/${BUNDLE}`,
  }, { built: true })
  t.equal((await fetch(`${server.url}/readyz`)).status, 200, 'ready')
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'SIGTERM stops it cleanly')

  const loaded = readFileSync(modules, 'utf8').split('\n').filter((line) => line !== '').map((file) => relative(root, file))
  t.same(loaded.filter((file) => file.startsWith('dist/')).sort(), ['dist/src/cli.js', 'dist/src/cli/bundle.js', 'dist/src/cli/serve.js', 'dist/src/errors.js', 'dist/src/imports.js'],
    'of the compiled modules Node loads only the executable, its serve verb, the bundle\'s loader and the two modules it hands the bundle')

  const calls = new Map(Object.entries(JSON.parse(readFileSync(functionCalls, 'utf8')) as Record<string, number>))
  const inputs = bundleMeta()[BUNDLE]?.inputs ?? []
  t.ok(inputs.includes('dist/src/app.js'), 'the inputs are real: the app is among them')
  t.ok((calls.get('dist/src/app.js') ?? 0) > 0, 'and the app\'s module ran at start, inside its wrapper')
  for (const [pattern, what] of notAtStart) {
    // Joined into the bundle: each such module is wrapped, and its wrapper was not called.
    const ran = inputs.filter((input) => pattern.test(`/${input}`)).filter((input) => calls.get(input) !== 0)
    t.same(ran, [], `not run at start, from the bundle: ${what}`)
    // Or loaded by Node beside it (better-sqlite3, pg, the Kubernetes library, undici).
    t.same(loaded.filter((file) => pattern.test(`/${file}`)), [], `not loaded at start, beside the bundle: ${what}`)
  }
})

/** A copy of the built service (its package.json, config and dist/src), with node_modules linked. */
function builtCopy (t: Test): string {
  const app = t.testdir({ data: {} })
  for (const entry of ['package.json', 'config', 'dist/src']) cpSync(join(root, entry), join(app, entry), { recursive: true })
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir')
  return app
}

/** Starts a copy's `serve`: what its listening line says of the code cache, once it answered. */
async function startCopy (t: Test, app: string, nodeOptions: string): Promise<unknown> {
  const child = spawn(process.execPath, ['dist/src/cli.js', 'serve'], { cwd: app, env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: nodeOptions, DTR_DATA_DIR: join(app, 'data'), DTR_WEBHOOK_TOKENS: TOKEN, DTR_PORT: '0', DTR_HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const closed = once(child, 'close')
  let listening: { url: string, codeCache?: unknown } | undefined
  for await (const line of createInterface({ input: child.stdout })) {
    const entry = JSON.parse(line) as { url?: unknown, codeCache?: unknown }
    if (typeof entry.url === 'string') { listening = entry as { url: string }; break }
  }
  t.ok(listening, 'it started')
  if (listening !== undefined) await answersTestNotification(t, listening.url)
  child.kill('SIGTERM')
  t.same((await closed)[0], 0, 'SIGTERM stops it cleanly')
  return listening?.codeCache
}

/** Where a copy's code cache lies, beside its bundle. */
const cacheOf = (app: string): string => join(app, `${BUNDLE}.cache`)

t.test('a code cache the bundle cannot use is left alone, and the bundle compiled as without one', async (t) => {
  t.test('none beside the bundle', async (t) => {
    const app = builtCopy(t)
    rmSync(cacheOf(app))
    t.equal(await startCopy(t, app, imageNodeOptions), 'absent')
  })
  t.test('made from other bytes: a bundle changed without a build', async (t) => {
    const app = builtCopy(t)
    appendFileSync(join(app, BUNDLE), '// changed\n')
    t.equal(await startCopy(t, app, imageNodeOptions), 'stale')
  })
  t.test('made for this bundle\'s bytes, but refused by V8 (here: the cache of another script)', async (t) => {
    const app = builtCopy(t)
    const other = new vm.Script('1 + 1', { filename: 'other.js' }).createCachedData()
    const cache = readFileSync(cacheOf(app))
    writeFileSync(cacheOf(app), Buffer.concat([cache.subarray(0, 32), other]))
    t.equal(await startCopy(t, app, imageNodeOptions), 'rejected')
  })
  t.test('asked for source maps: the bundle is required as a CommonJS file, uncached', async (t) => {
    t.equal(await startCopy(t, builtCopy(t), `${imageNodeOptions} --enable-source-maps`), 'off')
  })
})

t.test('the code cache is made by starting the service once, which leaves nothing else behind', async (t) => {
  /** A TMPDIR of the test's own, to see what the rehearsal leaves in it. */
  const tmpOf = (t: Test): string => {
    const dir = mkdtempSync(join(tmpdir(), 'dtr-code-cache-test-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }
  const make = async (app: string, tmp: string): Promise<{ code: number | null, stderr: string }> => {
    const child = spawn(process.execPath, [...imageNodeOptions.split(' '), 'dist/src/cli/code-cache.js'], { cwd: app, env: { PATH: process.env.PATH ?? '', TMPDIR: tmp, DTR_DATA_DIR: join(app, 'must-not-be-used'), DTR_DYNATRACE_URL: 'http://127.0.0.1:9/must-not-be-called' }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    const [code] = await once(child, 'close') as [number | null]
    return { code, stderr }
  }

  t.test('made: exit 0, the cache beside the bundle, which the next start uses', async (t) => {
    const app = builtCopy(t)
    const tmp = tmpOf(t)
    rmSync(cacheOf(app))
    const { code, stderr } = await make(app, tmp)
    t.equal(code, 0, stderr)
    t.ok(existsSync(cacheOf(app)), 'written')
    t.same(readdirSync(tmp), [], 'its throwaway data directory is gone')
    t.notOk(existsSync(join(app, 'must-not-be-used')), 'the environment\'s DTR_ settings were not used')
    t.equal(await startCopy(t, app, imageNodeOptions), 'used')
  })
  t.test('a service that cannot start: exit 1, saying so, and no cache', async (t) => {
    const app = builtCopy(t)
    const tmp = tmpOf(t)
    rmSync(cacheOf(app))
    writeFileSync(join(app, 'config/remediation.yaml'), 'rules: [\n')
    const { code, stderr } = await make(app, tmp)
    t.equal(code, 1)
    t.match(stderr, /the rules file is invalid/)
    t.match(stderr, /the service did not start, so no code cache was made/)
    t.notOk(existsSync(cacheOf(app)), 'none written')
    t.same(readdirSync(tmp), [], 'its throwaway data directory is gone')
  })
})

t.test('a service whose bundle cannot be loaded exits 1, naming it', async (t) => {
  const app = builtCopy(t)
  writeFileSync(join(app, BUNDLE), 'this is not JavaScript {\n')
  const child = spawn(process.execPath, ['dist/src/cli.js', 'serve'], { cwd: app, env: { PATH: process.env.PATH ?? '', DTR_DATA_DIR: join(app, 'data'), DTR_WEBHOOK_TOKENS: TOKEN, DTR_PORT: '0', DTR_HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [code] = await once(child, 'close') as [number | null]
  t.equal(code, 1)
  t.match(stderr, /the service's bundle \(.*server\.cjs\) could not be loaded: SyntaxError/)
})

t.test('a service whose app fails to load exits 1, naming the file, rather than hanging on its open store', async (t) => {
  // The built modules without the bundle, and without the app's module (a damaged image): the
  // store opens beside the app's import, and its writer thread kept the process alive after the
  // failure.
  const app = builtCopy(t)
  rmSync(join(app, 'dist/src/bundle'), { recursive: true })
  rmSync(join(app, 'dist/src/app.js'))
  const child = spawn(process.execPath, ['dist/src/cli.js', 'serve'], { cwd: app, env: { PATH: process.env.PATH ?? '', DTR_DATA_DIR: join(app, 'data'), DTR_WEBHOOK_TOKENS: TOKEN, DTR_PORT: '0', DTR_HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] })
  // A start that fails takes well under a second; one still running after 20 s has hung.
  const hung = setTimeout(() => child.kill('SIGKILL'), 20_000)
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [code, signal] = await once(child, 'close') as [number | null, string | null]
  clearTimeout(hung)
  t.same({ code, signal }, { code: 1, signal: null }, 'exits 1 by itself')
  t.match(stderr, /Cannot find module '[^']*dist\/src\/app\.js'/)
})

t.test('of zod\'s locales only English is joined (the others were over a third of what the start parsed)', async (t) => {
  const locales = [...new Set(Object.values(bundleMeta()).flatMap(({ inputs }) => inputs.filter((input) => input.startsWith('node_modules/zod/v4/locales/'))))].sort()
  t.same(locales, ['node_modules/zod/v4/locales/en.js', 'node_modules/zod/v4/locales/index.js'])
})

t.test('the bundle carries no copy of the modules it is handed, and no import() of its own', async (t) => {
  const copies = Object.entries(bundleMeta()).flatMap(([file, { inputs }]) => inputs.filter((input) => input === 'dist/src/errors.js' || input === 'dist/src/imports.js').map((input) => `${file}: ${input}`))
  t.same(copies, [])
  const text = readFileSync(join(root, BUNDLE), 'latin1')
  t.notOk(/[\u0080-\uffff]/.test(text), 'ASCII, as the loader reads it')
})

/** A project with a custom action written against the package, and rules using it with `with`. */
function drainProject (t: Test, queue: unknown): string {
  const dir = consumer(t)
  writeFileSync(join(dir, 'drain.mjs'), `
import { defineAction, TerminalError, z } from 'dt-remediator'
export default defineAction({
  name: 'acme.drain-queue',
  description: 'Drains a queue',
  entityTypes: ['SERVICE'],
  params: z.object({ queue: z.string() }).strict(),
  needsTarget: false,
  async plan (ctx) { return { queue: ctx.params.queue } },
  async run (ctx) { throw new TerminalError('queue ' + ctx.plan.queue + ' is locked') },
})
`)
  writeFileSync(join(dir, 'rules.yaml'), [
    'mode: live',
    'plugins: [./drain.mjs]',
    'rules:',
    '  - name: drain',
    '    on: problem',
    '    when: { entityTypes: [SERVICE] }',
    `    actions: [{ use: acme.drain-queue, with: { queue: ${JSON.stringify(queue)} } }]`,
    '',
  ].join('\n'))
  return dir
}

t.test('under the bundle, a custom action\'s schema from the package\'s zod refuses a bad `with`, naming it', async (t) => {
  const dir = drainProject(t, 5)
  const { code, stderr } = await runCliProcess(['serve'], { DTR_DATA_DIR: join(dir, 'data'), DTR_RULES_FILE: join(dir, 'rules.yaml'), DTR_WEBHOOK_TOKENS: TOKEN }, { built: true })
  t.equal(code, 1, 'it does not start')
  t.match(stderr, /rules\.yaml:7:\d+: rules\[0\]\.actions\[0\]\.with\.queue: .*string/, 'the field and what it must be')
})

t.test('under the bundle, a custom action\'s TerminalError from the package fails the run at once', async (t) => {
  const dir = drainProject(t, 'orders')
  const dt = await startSimulator(t, { now: () => NOW })
  const checkout = dt.sim.addWorkload({ namespace: 'shop', name: 'checkout', cluster: 'eu-1' } as never)
  const { problem } = await dt.sim.openProblem({ title: 'Queue stuck', impactedEntities: [checkout.service.entityId], severityLevel: 'AVAILABILITY', startTime: NOW, notify: false } as never)
  const server = await startServer(t, {
    DTR_DATA_DIR: join(dir, 'data'),
    DTR_RULES_FILE: join(dir, 'rules.yaml'),
    DTR_DYNATRACE_URL: dt.url,
    DTR_DYNATRACE_TOKEN: TEST_TOKEN,
    DTR_WEBHOOK_TOKENS: TOKEN,
    DTR_ADMIN_TOKENS: 'admin=bundle-admin-token-0123',
    DTR_LOG_LEVEL: 'info',
  }, { built: true })
  const res = await fetch(`${server.url}/webhooks/problem`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(notificationOf(dt, problem).body) })
  t.equal(res.status, 202)
  // A TerminalError the runner did not recognise would be retried: stop at whichever comes first.
  const ended = await server.waitForLog((l) => l.msg === 'comment posted' || /^attempt \d+ failed and will be retried/.test(String(l.msg)))
  t.equal(ended.msg, 'comment posted', 'not retried')
  const comments = problem.comments.map((c) => c.content)
  t.equal(comments.length, 1)
  t.match(comments[0], /acme\.drain-queue failed/)
  t.match(comments[0], /queue orders is locked/)
  // What is loaded on first use works from the bundle too: the default metrics, the OpenAPI
  // document, the admin API and the console.
  const metrics = await fetch(`${server.url}/metrics`)
  t.equal(metrics.status, 200)
  t.match(await metrics.text(), /^process_cpu_seconds_total /m, 'the default metrics')
  const openapi = await fetch(`${server.url}/openapi.json`)
  t.equal(openapi.status, 200)
  t.ok(((await openapi.json()) as { paths: Record<string, unknown> }).paths['/webhooks/problem'], 'the OpenAPI document')
  const runs = await fetch(`${server.url}/api/runs`, { headers: { authorization: 'Bearer bundle-admin-token-0123' } })
  t.equal(runs.status, 200)
  t.match(await runs.json(), { runs: [{ action: 'acme.drain-queue', state: 'failed', attempts: 1 }] })
  const login = await fetch(`${server.url}/ui/login`)
  t.equal(login.status, 200)
  t.match(await login.text(), /<form[^>]*action="\/ui\/login"/, 'the console\'s sign-in page')
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
})
