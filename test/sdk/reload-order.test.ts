/**
 * Issue 18, defect 5: a rules file is checked for everything that needs no plugin before any
 * custom action module is imported — importing runs the module's code, so a file refused at the
 * first step (or a `plugins:` list with one path missing) runs none.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { builtinActions } from '../../actions/index.js'
import type { KubernetesClient } from '../../src/kubernetes/client.js'
import { loadRuleSet } from '../../src/sdk/rules-file.js'

/** Writes a marker file beside itself the moment it is imported. */
const recorder = `
import { writeFileSync } from 'node:fs'
writeFileSync(new URL('./imported.marker', import.meta.url), 'imported')
export default ({ defineAction, z }) => defineAction({
  name: 'acme.record', description: 'Records', entityTypes: '*', params: z.object({ note: z.string() }).strict(), needsTarget: false,
  async run () { return { status: 'succeeded', summary: 'recorded' } },
})
`
const rule = (extra: string): string => `plugins: [./record.mjs]\nrules:\n  - name: r\n    on: problem\n${extra}    actions:\n      - use: acme.record\n        with: { note: hi }\n`

const cases: Array<[string, string, RegExp]> = [
  ['a YAML error', `${rule('')}  - [`, /rules\.yaml:\d+:\d+: /],
  ['a bad duration', rule('    cooldown: 5 minutes\n'), /cooldown/],
  ['a duplicate rule name', `${rule('')}  - name: r\n    on: problem\n    actions: [{ use: kubernetes.restart }]\n`, /duplicate rule name "r"/],
  ['a bad built-in with', `${rule('')}  - name: s\n    on: problem\n    actions: [{ use: kubernetes.scale, with: { bye: 2 } }]\n`, /with/],
  ['a missing plugin path beside a present one', rule('').replace('[./record.mjs]', '[./record.mjs, ./missing.mjs]'), /plugins\[1\] \.\/missing\.mjs: .* does not exist/],
]

for (const [name, text, error] of cases) {
  t.test(`${name}: refused, and no plugin code ran`, async (t) => {
    const dir = t.testdir({ 'rules.yaml': text, 'record.mjs': recorder })
    const result = await loadRuleSet({ file: join(dir, 'rules.yaml'), env: {}, builtins: builtinActions({ kubernetes: {} as KubernetesClient }), allowedHosts: [], adminTokensSet: false, modeOverride: undefined, serviceDir: dir, fresh: true })
    t.notOk(result.ok, 'refused')
    t.match(!result.ok && result.errors.join('\n'), error)
    t.notOk(existsSync(join(dir, 'imported.marker')), 'the plugin module was not imported')
  })
}

t.test('a good file imports its plugin and checks the custom action\'s with', async (t) => {
  const dir = t.testdir({ 'rules.yaml': rule(''), 'bad.yaml': rule('').replace('note: hi', 'nope: hi'), 'record.mjs': recorder })
  const load = async (file: string) => loadRuleSet({ file: join(dir, file), env: {}, builtins: builtinActions({ kubernetes: {} as KubernetesClient }), allowedHosts: [], adminTokensSet: false, modeOverride: undefined, serviceDir: dir, fresh: true })
  const good = await load('rules.yaml')
  t.ok(good.ok)
  t.ok(existsSync(join(dir, 'imported.marker')), 'imported once the file passed the first step')
  const bad = await load('bad.yaml')
  t.match(!bad.ok && bad.errors.join('\n'), /unknown key "nope"/, 'the custom action\'s with is checked once it is loaded')
})
