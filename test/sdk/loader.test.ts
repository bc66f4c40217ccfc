import { join } from 'node:path'
import t from 'tap'
import { builtinActions } from '../../actions/index.js'
import type { KubernetesClient } from '../../src/kubernetes/client.js'
import { runAction } from '../../src/sdk/testing.js'
import { loadCustomActions, resolvePackage, type AnyAction } from '../../src/sdk/index.js'
import { loadRuleSet } from '../../src/sdk/rules-file.js'

/** A single-file action mounted from a ConfigMap: no imports, the kit is handed in. */
const drainQueue = `
export default ({ defineAction, z, TerminalError }) => defineAction({
  name: 'acme.drain-queue',
  description: 'Drains a queue',
  entityTypes: ['SERVICE'],
  params: z.object({ queue: z.string() }).strict(),
  needsTarget: false,
  async plan (ctx) { return { queue: ctx.params.queue } },
  async run (ctx) {
    if (ctx.plan.queue === 'forbidden') throw new TerminalError('not this one')
    return { status: 'succeeded', summary: 'drained ' + ctx.plan.queue + (ctx.dryRun ? ' (dry run)' : '') }
  },
})
`

/** A package exporting an array of plain action objects, ESM-only (exports with import only). */
const acmePackage = {
  'package.json': JSON.stringify({ name: '@acme/actions', version: '1.0.0', type: 'module', exports: { '.': { import: './index.js' } } }),
  'index.js': `
const noop = { name: 'acme.noop', description: 'Does nothing', entityTypes: '*', params: { safeParse: (v) => ({ success: true, data: v ?? {} }) }, needsTarget: false, async run () { return { status: 'succeeded', summary: 'nothing done' } } }
const flush = { ...noop, name: 'acme.flush-cache', description: 'Flushes a cache', async run () { return { status: 'succeeded', summary: 'flushed' } } }
export default [noop, flush]
`,
}

t.test('a custom action from a path relative to the rules file loads and runs under the test kit', async (t) => {
  const dir = t.testdir({ actions: { 'drain-queue.mjs': drainQueue } })
  const loaded = await loadCustomActions(['./actions/drain-queue.mjs'], { baseDir: dir, serviceDir: dir })
  t.same(loaded.errors, [])
  t.equal(loaded.actions.length, 1)
  const action = loaded.actions[0]?.action as AnyAction
  t.match(loaded.actions[0], { source: './actions/drain-queue.mjs' })
  const { outcome } = await runAction(action, { params: { queue: 'orders' } })
  t.same(outcome, { status: 'succeeded', summary: 'drained orders' })
  await t.rejects(runAction(action, { params: { queue: 'forbidden' } }), { name: 'TerminalError', message: 'not this one' }, 'TerminalError from the kit')
})

t.test('a custom action package is found from the rules file\'s directory, then from the service\'s installation', async (t) => {
  const dir = t.testdir({
    rules: { node_modules: { '@acme': { actions: acmePackage } } },
    service: { node_modules: { 'acme-svc': { 'package.json': JSON.stringify({ name: 'acme-svc', main: 'main.mjs' }), 'main.mjs': drainQueue } } },
    elsewhere: {},
  })
  const fromRules = await loadCustomActions(['@acme/actions'], { baseDir: join(dir, 'rules'), serviceDir: join(dir, 'service') })
  t.same(fromRules.errors, [])
  t.same(fromRules.actions.map((a) => (a.action as AnyAction).name), ['acme.noop', 'acme.flush-cache'])
  const { outcome } = await runAction(fromRules.actions[1]?.action as AnyAction)
  t.same(outcome, { status: 'succeeded', summary: 'flushed' })

  const fromService = await loadCustomActions(['acme-svc'], { baseDir: join(dir, 'elsewhere'), serviceDir: join(dir, 'service') })
  t.same(fromService.errors, [])
  t.same(fromService.actions.map((a) => (a.action as AnyAction).name), ['acme.drain-queue'])
  t.equal(resolvePackage('acme-svc', join(dir, 'service')), join(dir, 'service', 'node_modules', 'acme-svc', 'main.mjs'))
})

t.test('a broken module is refused, naming it and what is wrong', async (t) => {
  const dir = t.testdir({
    'no-run.mjs': 'export default { name: "acme.half", description: "x", entityTypes: "*", params: { safeParse () {} }, needsTarget: false }',
    'bad-name.mjs': 'export default [{ name: "Drain", description: "", entityTypes: ["service"], params: {}, needsTarget: "no", run () {} }]',
    'no-default.mjs': 'export const action = {}',
    'throws.mjs': 'export default ({ defineAction }) => defineAction({ name: "acme.x" })',
    'syntax.mjs': 'export default {',
  })
  const specs = ['./no-run.mjs', './bad-name.mjs', './no-default.mjs', './throws.mjs', './syntax.mjs']
  const { actions, errors } = await loadCustomActions(specs, { baseDir: dir, serviceDir: dir })
  t.same(actions, [])
  const messages = errors.map((e) => e.message)
  t.match(messages, [
    /^plugins\[0\] \.\/no-run\.mjs: action acme\.half does not satisfy the action contract: run must be a function$/,
    /^plugins\[1\] \.\/bad-name\.mjs: action Drain does not satisfy the action contract: name must be a namespaced lower-case string .*; description must be a non-empty string; entityTypes must be .*; params must be a zod schema; needsTarget must be a boolean$/,
    /^plugins\[2\] \.\/no-default\.mjs: has no default export; export an action, an array of actions, or a function \(\{ defineAction, z, TerminalError \}\) => actions$/,
    /^plugins\[3\] \.\/throws\.mjs: its default export threw: Action acme\.x does not satisfy the action contract: description must be a non-empty string/,
    /^plugins\[4\] \.\/syntax\.mjs: cannot be imported: /,
  ])
  // Paths and packages are all found before any module is imported: the missing ones alone are reported.
  const missing = await loadCustomActions([...specs, './missing.mjs', 'not-installed-anywhere'], { baseDir: dir, serviceDir: dir })
  t.match(missing.errors.map((e) => e.message), [
    /^plugins\[5\] \.\/missing\.mjs: .*missing\.mjs does not exist \(paths are relative to the rules file's directory/,
    /^plugins\[6\] not-installed-anywhere: package not found from the rules file's directory .* nor from the service's installation/,
  ])
  t.equal(missing.errors.length, 2)
})

t.test('a rules file whose custom action is broken does not load: start-up and check-config stop, naming the module and its line', async (t) => {
  const dir = t.testdir({
    'rules.yaml': 'plugins:\n  - ./drain.mjs\n  - ./no-run.mjs\nrules: []\n',
    'drain.mjs': drainQueue,
    'no-run.mjs': 'export default { name: "acme.half", description: "x", entityTypes: "*", params: { safeParse () {} }, needsTarget: false }',
  })
  const builtins = builtinActions({ kubernetes: {} as KubernetesClient })
  const result = await loadRuleSet({ file: join(dir, 'rules.yaml'), env: {}, builtins, allowedHosts: [], adminTokensSet: false, modeOverride: undefined, serviceDir: dir })
  t.notOk(result.ok)
  t.match(!result.ok && result.errors, [new RegExp(`^${join(dir, 'rules.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:5: plugins\\[1\\] \\./no-run\\.mjs: action acme\\.half does not satisfy the action contract: run must be a function$`)])
})

t.test('a rules file with a custom action uses it like a built-in: its with is checked against its schema', async (t) => {
  const dir = t.testdir({
    'rules.yaml': 'plugins: [./drain.mjs]\nrules:\n  - name: drain\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions:\n      - use: acme.drain-queue\n        with: { queue: orders }\n',
    'bad.yaml': 'plugins: [./drain.mjs]\nrules:\n  - name: drain\n    on: problem\n    when: { entityTypes: [SERVICE, HOST] }\n    actions:\n      - use: acme.drain-queue\n        with: { queu: orders }\n',
    'drain.mjs': drainQueue,
  })
  const builtins = builtinActions({ kubernetes: {} as KubernetesClient })
  const load = async (name: string) => loadRuleSet({ file: join(dir, name), env: {}, builtins, allowedHosts: [], adminTokensSet: false, modeOverride: undefined, serviceDir: dir })
  const good = await load('rules.yaml')
  t.ok(good.ok)
  t.same(good.ok && good.ruleSet.customActions, ['acme.drain-queue'])
  t.ok(good.ok && good.ruleSet.registry.get('kubernetes.rollback') !== undefined, 'built-ins through the same door')
  const bad = await load('bad.yaml')
  t.match(!bad.ok && bad.errors, [
    /bad\.yaml:5:36: rules\[0\]\.when\.entityTypes\[1\]: rule drain takes HOST entities, but its action acme\.drain-queue \(actions\[0\]\) does not handle them \(it handles SERVICE\)/,
    /bad\.yaml:8:15: rules\[0\]\.actions\[0\]\.with: missing required key "queue"/,
    /bad\.yaml:8:17: rules\[0\]\.actions\[0\]\.with\.queu: unknown key "queu" \(did you mean "queue"\?\)/,
  ])
})
