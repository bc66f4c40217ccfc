/**
 * The built service runs from its start-up bundle (scripts/bundle.mjs), as the image does: it
 * starts, answers, loads at start none of what it needs only later, and shares with a custom
 * action the classes the two must agree on: a custom action that throws TerminalError, imported
 * from the package by name, fails at once under the bundle, as it does from the sources.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { consumer, ensureBuilt, root } from '../helpers/build.js'
import { startSimulator, TEST_TOKEN } from '../helpers/dynatrace.js'
import { sampleText } from '../helpers/samples.js'
import { runCliProcess, startServer } from '../helpers/server-process.js'
import { notAtStart } from '../helpers/start-modules.js'
import { NOW, notificationOf } from '../helpers/world.js'

const preload = fileURLToPath(new URL('../helpers/loaded-modules.mjs', import.meta.url))
const TOKEN = 'bundle-token-0123456789'

/** Each file of the bundle, with the files it joins (scripts/bundle.mjs writes them). */
const bundleMeta = (): Record<string, { inputs: string[] }> =>
  JSON.parse(readFileSync(join(root, 'dist/bundle-meta.json'), 'utf8')) as Record<string, { inputs: string[] }>

t.before(ensureBuilt)

t.test('the built service starts from the bundle, without what it needs only later', async (t) => {
  const modules = join(t.testdir(), 'modules.txt')
  const server = await startServer(t, {
    DTR_WEBHOOK_TOKENS: TOKEN,
    DTR_DATA_DIR: join(t.testdir({ data: {} }), 'data'),
    NODE_OPTIONS: `--import=${preload}`,
    LOADED_MODULES_FILE: modules,
  }, { built: true })
  const ready = await fetch(`${server.url}/readyz`)
  t.equal(ready.status, 200, 'ready')
  const test = await fetch(`${server.url}/webhooks/problem`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: sampleText('test-notification-docs.json') })
  t.equal(test.status, 200, 'Dynatrace\'s test notification is answered')
  t.same(await test.json(), { status: 'test' })
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'SIGTERM stops it cleanly')

  const loaded = readFileSync(modules, 'utf8').split('\n').filter((line) => line !== '').map((file) => relative(root, file))
  const ours = loaded.filter((file) => file.startsWith('dist/'))
  t.ok(ours.includes('dist/src/bundle/server.js'), 'the bundle ran')
  t.same(ours.filter((file) => !file.startsWith('dist/src/bundle/')).sort(), ['dist/src/cli.js', 'dist/src/cli/serve.js', 'dist/src/errors.js'],
    'of the compiled modules only the executable, its serve verb and the shared errors')

  const meta = bundleMeta()
  const atStart = ours.filter((file) => file.startsWith('dist/src/bundle/'))
  for (const file of atStart) t.ok(meta[file], `${file} is one of this build's bundle files`)
  // What the bundle joined, and what was loaded from node_modules beside it (its external packages).
  const inputs = [...atStart.flatMap((file) => meta[file]?.inputs ?? []), ...loaded].map((input) => `/${input}`)
  t.ok(inputs.some((input) => input.endsWith('/dist/src/app.js')), 'the inputs are real: the app is among them')
  for (const [pattern, what] of notAtStart) {
    t.same(inputs.filter((input) => pattern.test(input)), [], `not loaded at start: ${what}`)
  }
})

t.test('a service whose app fails to load exits 1, naming the file, rather than hanging on its open store', async (t) => {
  // The built service with its app's bundle file gone (a damaged image): the store opens beside
  // the app's import, and its writer thread kept the process alive after the failure.
  const app = t.testdir({ data: {} })
  for (const entry of ['package.json', 'config', 'dist/src']) cpSync(join(root, entry), join(app, entry), { recursive: true })
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir')
  const chunk = readdirSync(join(app, 'dist/src/bundle')).find((file) => /^app-.*\.js$/.test(file))
  t.ok(chunk, 'the bundle has the app\'s file')
  rmSync(join(app, 'dist/src/bundle', chunk as string))
  const child = spawn(process.execPath, ['dist/src/cli.js', 'serve'], { cwd: app, env: { PATH: process.env.PATH ?? '', DTR_DATA_DIR: join(app, 'data'), DTR_WEBHOOK_TOKENS: TOKEN, DTR_PORT: '0', DTR_HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] })
  // A start that fails takes well under a second; one still running after 20 s has hung.
  const hung = setTimeout(() => child.kill('SIGKILL'), 20_000)
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [code, signal] = await once(child, 'close') as [number | null, string | null]
  clearTimeout(hung)
  t.same({ code, signal }, { code: 1, signal: null }, 'exits 1 by itself')
  t.match(stderr, new RegExp(`Cannot find module '[^']*${chunk as string}'`))
})

t.test('of zod\'s locales only English is joined (the others were over a third of what the start parsed)', async (t) => {
  const locales = [...new Set(Object.values(bundleMeta()).flatMap(({ inputs }) => inputs.filter((input) => input.startsWith('node_modules/zod/v4/locales/'))))].sort()
  t.same(locales, ['node_modules/zod/v4/locales/en.js', 'node_modules/zod/v4/locales/index.js'])
})

t.test('no bundle file carries its own copy of the errors', async (t) => {
  const copies = Object.entries(bundleMeta()).flatMap(([file, { inputs }]) => inputs.filter((input) => input === 'dist/src/errors.js').map((input) => `${file}: ${input}`))
  t.same(copies, [])
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
