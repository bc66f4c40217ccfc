/**
 * config/remediation.yaml, the example rules shipped in the image and in the ConfigMap: it loads
 * with the built-in actions (the check `check-config` runs in CI), starts in dry-run, and is the
 * dispatcher the README promises — by entity type, a recent deployment to a rollback, a crash to a
 * restart, saturation to a bounded scale — with every key commented.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { formatDiagnostic, parseRules } from '../../src/domain/rules/parse.js'
import { parseOptions } from '../helpers/rules.js'

const path = fileURLToPath(new URL('../../config/remediation.yaml', import.meta.url))
const text = readFileSync(path, 'utf8')

t.test('loads with the built-in actions, in dry-run; the only warning is the unset Slack URL', async (t) => {
  const result = parseRules(text, parseOptions({ file: 'config/remediation.yaml', adminTokensSet: false }))
  t.ok(result.ok, result.ok ? 'loaded' : result.errors.map(formatDiagnostic).join('\n'))
  if (!result.ok) return
  t.equal(result.rules.mode, 'dry-run')
  t.same(result.warnings.map((w) => w.message).sort(), ['${env:SLACK_WEBHOOK_URL} is not set', 'rule critical-exposed-vulnerability is disabled: ${env:SLACK_WEBHOOK_URL} is not set'])
  const set = parseRules(text, parseOptions({ env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' }, adminTokensSet: false }))
  t.same(set.warnings, [], 'no warning once SLACK_WEBHOOK_URL is set')
})

t.test('is a dispatcher by entity type', async (t) => {
  const result = parseRules(text, parseOptions({ env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' } }))
  if (!result.ok) return t.fail('does not load')
  const byName = new Map(result.rules.rules.map((r) => [r.name, r]))
  const rollback = byName.get('rollback-bad-deploy')
  t.match(rollback, { on: 'problem', when: { entityTypes: ['SERVICE', 'PROCESS_GROUP_INSTANCE', 'CLOUD_APPLICATION'], deployedWithinMs: 30 * 60_000 }, ladder: [{ use: 'kubernetes.rollback' }, { use: 'kubernetes.scale' }] })
  t.match(byName.get('restart-crashing-process'), { on: 'problem', when: { entityTypes: ['PROCESS_GROUP_INSTANCE', 'CLOUD_APPLICATION'] }, ladder: [{ use: 'kubernetes.restart' }] })
  const scale = byName.get('scale-on-saturation')
  t.match(scale, { on: 'problem', ladder: [{ use: 'kubernetes.scale' }] })
  for (const r of result.rules.rules) {
    for (const step of r.ladder) if (step.use === 'kubernetes.scale') t.type(step.with.max, 'number', `${r.name}: kubernetes.scale has its max`)
  }
  t.match(byName.get('critical-exposed-vulnerability'), { on: 'security', ladder: [{ use: 'notify.slack' }] })
})

t.test('every key is commented', async (t) => {
  // A key line is commented when it, or the line above it, carries a comment, or it sits in a
  // block whose comment explains it (the rules after the first repeat the first's keys).
  const lines = text.split('\n')
  const firstRule = lines.findIndex((l) => l.includes('- name: rollback-bad-deploy'))
  const nextRule = lines.findIndex((l, i) => i > firstRule && /^ {2}- name:/.test(l))
  for (const [i, line] of lines.entries()) {
    if (!/^\s*(- )?[A-Za-z]+:/.test(line) || line.trim().startsWith('#')) continue
    if (i > nextRule && nextRule > 0 && /^ {4,}/.test(line)) continue
    const commented = line.includes('#') || (lines[i - 1] ?? '').trim().startsWith('#') || /^(rules|defaults|budgets|kubernetes):$/.test(line)
    t.ok(commented, `line ${i + 1} is explained: ${line.trim()}`)
  }
})
