import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { formatDiagnostic, parseRules, rulesPlugins } from '../../../src/domain/rules/parse.js'
import { loadRules, parseOptions } from '../../helpers/rules.js'

const spec = readFileSync(fileURLToPath(new URL('../../../../shared/SPEC.md', import.meta.url)), 'utf8')
/** The YAML example of SPEC section 5. */
const specExample = /## 5\. Rules file \(YAML\)[\s\S]*?```yaml\n([\s\S]*?)```/.exec(spec)?.[1] ?? ''

function errorsOf (text: string, overrides = {}): string[] {
  const result = parseRules(text, parseOptions(overrides))
  return result.ok ? [] : result.errors.map(formatDiagnostic)
}

t.test('the SPEC section 5 example loads, with every default and override applied', async (t) => {
  t.ok(specExample.includes('rollback-bad-deploy'), 'found the example in SPEC.md')
  const rules = loadRules(specExample, { env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' } })
  t.equal(rules.mode, 'dry-run')
  t.equal(rules.modeSource, 'rules file')
  t.same(rules.defaults, { cooldownMs: 30 * 60_000, verifyAfterMs: 10 * 60_000, timeoutMs: 2 * 60_000, approvalTimeoutMs: 3_600_000, maxTargetsPerProblem: 5, maxRecurrences: { count: 3, perMs: 24 * 3_600_000 } }, 'maxRecurrences is on by default, 3 per 24h')
  t.same(rules.budgets, [{ scope: 'global', max: 20, perMs: 3_600_000 }, { scope: 'namespace', max: 5, perMs: 3_600_000 }, { scope: 'rule', max: 3, perMs: 3_600_000 }])
  t.same(rules.kubernetes, { gitops: 'skip', namespaces: { allow: undefined, deny: ['kube-system'] } })
  t.same(rules.plugins, ['./actions/drain-queue.js'])
  t.equal(rules.longestDeployedWithinMs, 30 * 60_000)
  const [rollback, security] = rules.rules
  t.match(rollback, {
    name: 'rollback-bad-deploy',
    on: 'problem',
    index: 0,
    enabled: true,
    approval: false,
    dryRun: false,
    cooldownMs: 3_600_000,
    verifyAfterMs: 10 * 60_000,
    timeoutMs: 2 * 60_000,
    approvalTimeoutMs: 3_600_000,
    maxRecurrences: { count: 3, perMs: 24 * 3_600_000 },
    target: { kind: 'Deployment', namespace: '${tag:k8s.namespace.name}', name: '${event:dt.event.deployment.name}' },
    ladder: [{ use: 'kubernetes.rollback', with: {} }, { use: 'kubernetes.scale', with: { by: 2, max: 10 } }],
    when: { entityTypes: ['SERVICE', 'PROCESS_GROUP_INSTANCE', 'CLOUD_APPLICATION'], severities: ['ERROR', 'PERFORMANCE', 'AVAILABILITY'], impacts: ['SERVICE', 'APPLICATION'], tags: ['env:production'], managementZones: ['Shop'], deployedWithinMs: 30 * 60_000, duplicates: 'skip', maintenance: 'skip' },
  })
  t.ok(rollback?.line !== undefined && rollback.line > 1, 'a rule knows its line')
  t.ok(rollback?.on === 'problem' && rollback.when.title?.regex.test('Response Time degradation'), 'title is compiled, case-insensitive')
  t.match(security, { name: 'critical-exposed-vulnerability', on: 'security', enabled: true, env: ['SLACK_WEBHOOK_URL'], when: { severities: ['CRITICAL', 'HIGH'], exposed: true, exploitAvailable: true } })
})

t.test('DTR_MODE overrides the file\'s mode; no mode anywhere is dry-run', async (t) => {
  t.match(loadRules('mode: dry-run\n', { modeOverride: 'live' }), { mode: 'live', modeSource: 'DTR_MODE' })
  t.match(loadRules('mode: live\n'), { mode: 'live', modeSource: 'rules file' })
  t.match(loadRules(''), { mode: 'dry-run', modeSource: 'default', rules: [] })
  t.match(loadRules('# only a comment\n'), { mode: 'dry-run', modeSource: 'default' })
})

t.test('every load error names the file, line, column and path, and all are listed', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['bad YAML', 'rules: [\n', /^rules\.yaml:2:1: .*/],
    ['duplicate YAML key', 'mode: live\nmode: dry-run\n', /^rules\.yaml:2:1: Map keys must be unique/],
    ['mode', 'mode: enforce\n', /^rules\.yaml:1:7: mode: Invalid option: expected one of "dry-run"\|"live"|^rules\.yaml:1:7: mode: expected dry-run or live/],
    ['a bad duration', 'defaults: { cooldown: 10x }\n', /^rules\.yaml:1:23: defaults\.cooldown: "10x" is not a duration: use a whole number and a unit s, m, h or d/],
    ['a number for a duration', 'defaults:\n  timeout: 30\n', /^rules\.yaml:2:12: defaults\.timeout: expected a duration/],
    ['an unknown top-level key', 'rulez: []\n', /^rules\.yaml:1:1: rulez: unknown key "rulez" \(did you mean "rules"\?\)/],
    ['an unknown key in when', rule('when: { deployedwithin: 30m }'), /^rules\.yaml:6:13: rules\[0\]\.when\.deployedwithin: unknown key "deployedwithin" \(did you mean "deployedWithin"\?\)/],
    ['an unknown rule key', rule('coldown: 1h'), /^rules\.yaml:6:5: rules\[0\]\.coldown: unknown key "coldown" \(did you mean "cooldown"\?\)/],
    ['a missing on', 'rules:\n  - name: r\n    actions: [{ use: notify.slack, with: { webhookUrl: "https://hooks.slack.com/x" } }]\n', /^rules\.yaml:2:5: rules\[0\]: missing key "on": problem or security/],
    ['an unknown on', rule('', 'secret'), /^rules\.yaml:3:9: rules\[0\]\.on: on must be problem or security \(got "secret"\)/],
    ['a missing name', 'rules:\n  - on: problem\n    actions: [{ use: kubernetes.restart }]\n', /^rules\.yaml:2:5: rules\[0\]: missing required key "name"/],
    ['no actions', 'rules:\n  - name: r\n    on: problem\n    actions: []\n', /^rules\.yaml:4:14: rules\[0\]\.actions: a rule needs at least one action/],
    ['an unknown severity', rule('when: { severities: [EROR] }'), /^rules\.yaml:6:26: rules\[0\]\.when\.severities\[0\]: "EROR" is not one of AVAILABILITY, ERROR/],
    ['a bad entity type', rule('when: { entityTypes: [service] }'), /rules\[0\]\.when\.entityTypes\[0\]: "service" is not a Dynatrace entity type/],
    ['a bad regex', rule('when: { title: "(unclosed" }'), /^rules\.yaml:6:20: rules\[0\]\.when\.title: not a valid regular expression: .*Unterminated group/],
    ['an unknown action', rule('', 'problem', '{ use: kubernetes.rolback }'), /^rules\.yaml:5:16: rules\[0\]\.actions\[0\]\.use: unknown action "kubernetes\.rolback" \(did you mean "kubernetes\.rollback"\?\); registered: http\.request, kubernetes\.restart/],
    ['a parameter of the wrong type', rule('', 'problem', '{ use: kubernetes.scale, with: { by: two, max: 10 } }'), /^rules\.yaml:5:46: rules\[0\]\.actions\[0\]\.with\.by: Invalid input: expected number, received string/],
    ['a missing required parameter', rule('', 'problem', '{ use: kubernetes.scale, with: { by: 2 } }'), /rules\[0\]\.actions\[0\]\.with: missing required key "max"/],
    ['an unknown parameter', rule('', 'problem', '{ use: kubernetes.rollback, with: { toRevison: 3 } }'), /rules\[0\]\.actions\[0\]\.with\.toRevison: unknown key "toRevison" \(did you mean "toRevision"\?\); valid keys: toRevision/],
    ['an unknown placeholder', rule('target: { kind: Deployment, namespace: "${tag:ns}", name: "${entity:nme}" }'), /rules\[0\]\.target\.name: unknown placeholder \$\{entity:nme\} \(did you mean \$\{entity:name\}\?\)/],
    ['a placeholder of no kind', rule('', 'problem', '{ use: notify.slack, with: { webhookUrl: "https://hooks.slack.com/x", text: "${foo}" } }'), /with\.text: unknown placeholder \$\{foo\}/],
    ['${env:} in target', rule('target: { kind: Deployment, namespace: "${env:NS}", name: x }'), /rules\[0\]\.target\.namespace: \$\{env:NS\}: \$\{env:…\} is allowed only in an action's with/],
    ['a placeholder in when', rule('when: { title: "${problem:title}" }'), /rules\[0\]\.when\.title: \$\{problem:title\}: placeholders are substituted only in target and an action's with/],
    ['a refused literal host', rule('', 'problem', '{ use: http.request, with: { url: "https://evil.example.org/hook" } }'), /^rules\.yaml:5:43: rules\[0\]\.actions\[0\]\.with\.url: host not allowed: evil\.example\.org is not in DTR_HTTP_ALLOWED_HOSTS \(hooks\.slack\.com, ci\.example\.com\)/],
    ['a refused host from ${env:}', rule('', 'problem', '{ use: notify.slack, with: { webhookUrl: "${env:HOOK}" } }'), /with\.webhookUrl: host not allowed: hooks\.evil\.test is not in DTR_HTTP_ALLOWED_HOSTS/],
    ['an entity type an action does not handle', rule('when: { entityTypes: [SERVICE, HOST] }'), /^rules\.yaml:6:36: rules\[0\]\.when\.entityTypes\[1\]: rule r takes HOST entities, but its action kubernetes\.restart \(actions\[0\]\) does not handle them \(it handles SERVICE, PROCESS_GROUP, PROCESS_GROUP_INSTANCE, CLOUD_APPLICATION\)/],
    ['a bad budget', 'budgets:\n  - { scope: team, max: 0, per: 1h }\n', /budgets\[0\]\.scope: expected global, namespace or rule/],
    ['a bad namespace', 'kubernetes:\n  namespaces: { deny: [Kube_System] }\n', /kubernetes\.namespaces\.deny\[0\]: "Kube_System" is not a Kubernetes namespace name/],
  ]
  for (const [what, text, expected] of cases) {
    const errors = errorsOf(text, { env: { HOOK: 'https://hooks.evil.test/x' } })
    t.ok(errors.some((e) => expected.test(e)), `${what}: ${JSON.stringify(errors)}`)
  }
})

t.test('a file with many mistakes lists all of them, in file order', async (t) => {
  const text = [
    'defaults:',
    '  cooldown: 10x',
    '  verifyAfterr: 1m',
    'rules:',
    '  - name: a',
    '    on: problem',
    '    when: { deployedwithin: 30m, title: "(x" }',
    '    actions: [{ use: kubernetes.rolback }]',
    '  - name: a',
    '    on: problem',
    '    actions: [{ use: kubernetes.scale, with: { by: 1 } }]',
    '',
  ].join('\n')
  const errors = errorsOf(text)
  t.same(errors.map((e) => e.split(': ')[0]), [
    'rules.yaml:2:13', 'rules.yaml:3:3', 'rules.yaml:7:13', 'rules.yaml:7:41', 'rules.yaml:8:22', 'rules.yaml:9:11', 'rules.yaml:11:46',
  ], errors.join('\n'))
  t.match(errors[5], /duplicate rule name "a": rules\[0\] \(line 5\) has it too/)
})

t.test('a placeholder in a parameter is checked at plan time, not against the schema at load', async (t) => {
  const rules = loadRules(rule('', 'problem', '{ use: http.request, with: { url: "${event:dt.event.deployment.remediation_action_link}" } }'))
  t.same(rules.rules[0]?.ladder[0]?.with, { url: '${event:dt.event.deployment.remediation_action_link}' })
  t.same(errorsOf(rule('', 'problem', '{ use: http.request, with: { url: "https://ci.example.com/job/${entity:name}" } }')), [], 'a placeholder in the path leaves the host checkable, and allowed')
  t.match(errorsOf(rule('', 'problem', '{ use: http.request, with: { url: "https://evil.test/job/${entity:name}" } }')), [/host not allowed: evil\.test/])
})

t.test('a rule whose ${env:} is unset is disabled with a warning; the others load', async (t) => {
  const text = `${rule('', 'problem', '{ use: notify.slack, with: { webhookUrl: "${env:SLACK_WEBHOOK_URL}" } }')}  - name: other\n    on: problem\n    actions: [{ use: kubernetes.restart }]\n`
  const result = parseRules(text, parseOptions())
  t.ok(result.ok)
  if (!result.ok) return
  t.match(result.rules.rules, [{ name: 'r', enabled: false, disabledReason: '${env:SLACK_WEBHOOK_URL} not set' }, { name: 'other', enabled: true }])
  t.same(result.warnings.map(formatDiagnostic), [
    'rules.yaml:2:5: rules[0]: rule r is disabled: ${env:SLACK_WEBHOOK_URL} is not set',
    'rules.yaml:5:50: rules[0].actions[0].with.webhookUrl: ${env:SLACK_WEBHOOK_URL} is not set',
  ])
  const set = parseRules(text, parseOptions({ env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' } }))
  t.ok(set.ok && set.warnings.length === 0 && set.rules.rules[0]?.enabled === true, 'set, it is enabled')
})

t.test('approval without DTR_ADMIN_TOKENS is a warning', async (t) => {
  const result = parseRules(rule('approval: true'), parseOptions({ adminTokensSet: false }))
  t.ok(result.ok)
  t.match(result.warnings.map(formatDiagnostic), [/^rules\.yaml:6:15: rules\[0\]\.approval: rule r needs approval but DTR_ADMIN_TOKENS is not set/])
  t.same(parseRules(rule('approval: true'), parseOptions({ adminTokensSet: true })).warnings, [])
})

t.test('per-rule overrides win over the defaults', async (t) => {
  const rules = loadRules(`defaults: { cooldown: 5m, verifyAfter: 1m, timeout: 30s, approvalTimeout: 2h, maxTargetsPerProblem: 2 }\n${rule('cooldown: 0s\n    verifyAfter: 1d\n    timeout: 90s\n    approvalTimeout: 10m\n    approval: true\n    dryRun: true')}`)
  t.match(rules.rules[0], { cooldownMs: 0, verifyAfterMs: 86_400_000, timeoutMs: 90_000, approvalTimeoutMs: 600_000, approval: true, dryRun: true })
  t.equal(rules.defaults.maxTargetsPerProblem, 2)
})

t.test('rulesPlugins reads the plugins list leniently, for loading custom actions before the parse', async (t) => {
  t.same(rulesPlugins('plugins: [./a.mjs, " pkg "]\nrules: [oops\n'), [])
  t.same(rulesPlugins('plugins: [./a.mjs, " pkg ", 3]\n'), ['./a.mjs', 'pkg'])
  t.same(rulesPlugins('rules: []\n'), [])
})

/** A one-rule file; `extra` goes under the rule (indented 4), line 6 onwards. */
function rule (extra: string, on = 'problem', action = '{ use: kubernetes.restart }'): string {
  return `rules:\n  - name: r\n    on: ${on}\n    actions:\n      - ${action}\n${extra === '' ? '' : `    ${extra}\n`}`
}

t.test('maxRecurrences: in defaults or per rule, count 0 is off, a negative count or a bad per is an error', async (t) => {
  const rules = loadRules('defaults: { maxRecurrences: { count: 0, per: 1h } }\nrules:\n  - name: a\n    on: problem\n    actions: [{ use: kubernetes.restart }]\n  - name: b\n    on: problem\n    maxRecurrences: { count: 2, per: 2d }\n    when: { rootCause: true }\n    actions: [{ use: kubernetes.restart }]\n')
  t.same(rules.defaults.maxRecurrences, { count: 0, perMs: 3_600_000 })
  t.match(rules.rules, [{ name: 'a', maxRecurrences: { count: 0, perMs: 3_600_000 } }, { name: 'b', maxRecurrences: { count: 2, perMs: 2 * 86_400_000 }, when: { rootCause: true } }])
  const bad = parseRules('defaults: { maxRecurrences: { count: -1, per: 1h } }\nrules:\n  - name: a\n    on: problem\n    maxRecurrences: { count: 1, per: often }\n    actions: [{ use: kubernetes.restart }]\n', parseOptions())
  t.notOk(bad.ok)
  t.match(bad.ok ? [] : bad.errors.map((e) => `${e.path}: ${e.message}`), [/^defaults\.maxRecurrences\.count: must be 0 \(off\) or more/, /^rules\[0\]\.maxRecurrences\.per: "often" is not a duration/])
})
