/**
 * The package as a platform team's repository sees it: `import … from 'dt-remediator'`,
 * `dt-remediator/testing` and `dt-remediator/sim`, resolved by name through package.json's
 * exports from a project of its own. Needs the build (CI builds before npm test); on a fresh
 * clone the test builds first.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { consumer, ensureBuilt, root } from './helpers/build.js'

const run = promisify(execFile)

t.before(ensureBuilt)

t.test('a custom action written against the package name, tested with dt-remediator/testing', async (t) => {
  const dir = consumer(t)
  writeFileSync(join(dir, 'drain.mjs'), `
import { defineAction, skip, TerminalError, z } from 'dt-remediator'
import { runAction } from 'dt-remediator/testing'

const drain = defineAction({
  name: 'acme.drain-queue',
  description: 'Drains a queue',
  entityTypes: ['SERVICE'],
  params: z.object({ queue: z.string() }).strict(),
  needsTarget: false,
  async plan (ctx) { return ctx.params.queue === 'empty' ? skip('nothing queued') : { queue: ctx.params.queue } },
  async run (ctx) {
    if (ctx.plan.queue === 'locked') throw new TerminalError('queue is locked')
    return { status: 'succeeded', summary: 'drained ' + ctx.plan.queue }
  },
})
const ran = await runAction(drain, { params: { queue: 'orders' }, attempts: 2 })
const skipped = await runAction(drain, { params: { queue: 'empty' } })
const failed = await runAction(drain, { params: { queue: 'locked' } }).catch((err) => err.code)
let contract
try { defineAction({ name: 'Bad' }) } catch (err) { contract = err.code }
console.log(JSON.stringify({ ran: ran.outcomes, skipped: skipped.outcome, failed, contract }))
`)
  const { stdout } = await run(process.execPath, ['drain.mjs'], { cwd: dir })
  t.same(JSON.parse(stdout), {
    ran: [{ status: 'succeeded', summary: 'drained orders' }, { status: 'succeeded', summary: 'drained orders' }],
    skipped: { status: 'skipped', reason: 'nothing queued' },
    failed: 'DTR_ERR_TERMINAL',
    contract: 'DTR_ERR_ACTION_CONTRACT',
  })
})

t.test('dt-remediator/sim starts both simulators and hands out the readers an action gets', async (t) => {
  const dir = consumer(t)
  writeFileSync(join(dir, 'world.mjs'), `
import { startWorld } from 'dt-remediator/sim'
const world = await startWorld({ kubernetes: { objects: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'checkout', namespace: 'shop' },
  spec: { replicas: 1, selector: { matchLabels: { app: 'checkout' } }, template: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'checkout', image: 'checkout:1.4.2' }] } } } }] } })
const live = await world.readers.kubernetes.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'checkout' })
await world.close()
console.log(JSON.stringify({ image: live.spec.template.spec.containers[0].image, dynatrace: world.dynatrace.url.startsWith('http://127.0.0.1:') }))
`)
  const { stdout } = await run(process.execPath, ['world.mjs'], { cwd: dir })
  t.same(JSON.parse(stdout), { image: 'checkout:1.4.2', dynatrace: true })
})

t.test('the packed files hold the service, the test kit and the simulators, and no tests', async (t) => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root })
  const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path) ?? []
  for (const wanted of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/sdk/testing.js', 'dist/sim/index.js', 'dist/src/cli.js', 'dist/actions/index.js', 'dist/plugins/store.js', 'config/remediation.yaml']) {
    t.ok(files.includes(wanted), `packs ${wanted}`)
  }
  t.same(files.filter((f) => /^(test|bench|src|dist\/bench)\//.test(f) || f.endsWith('.test.js')), [], 'no sources, tests or bench')
})
