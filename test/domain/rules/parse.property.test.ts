/**
 * Properties of the rules loader (SPEC 5), with fast-check: any text — random characters, YAML
 * of any shape, rules files close to valid with wrong types, unknown keys, bad durations and
 * unknown actions, aliases and tags — is either loaded or refused with precise errors, and never
 * makes parseRules throw. "Precise": every error has a message, and an error that names a path in
 * the file has a line and column inside the file.
 *
 * DTR_PROPERTY_RUNS sets the number of runs per property (default 300).
 */
import fc from 'fast-check'
import t from 'tap'
import { stringify } from 'yaml'
import { formatDiagnostic, parseRules, type ParseRulesResult } from '../../../src/domain/rules/parse.js'
import { parseOptions } from '../../helpers/rules.js'

const runs = Number(process.env.DTR_PROPERTY_RUNS ?? 300)
const options = parseOptions({ env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' } })

/** Checks one text; returns what happened so a property can count. */
function check (text: string): ParseRulesResult {
  let result: ParseRulesResult
  try {
    result = parseRules(text, options)
  } catch (err) {
    throw new Error(`parseRules threw on ${JSON.stringify(text).slice(0, 300)}: ${(err as Error).stack ?? String(err)}`)
  }
  if (result.ok) return result
  if (result.errors.length === 0) throw new Error(`refused with no error: ${JSON.stringify(text).slice(0, 300)}`)
  const lines = text.split(/\r\n|\r|\n/).length
  for (const e of [...result.errors, ...result.warnings]) {
    if (typeof e.message !== 'string' || e.message.trim() === '') throw new Error(`an error without a message at ${e.path}`)
    if (e.path !== '' && !(e.line >= 1 && e.line <= lines + 1 && e.column >= 1)) {
      throw new Error(`${formatDiagnostic(e)}: names ${e.path} but has no place in the file (line ${e.line}, column ${e.column}, ${lines} lines)\n${text.slice(0, 500)}`)
    }
  }
  return result
}

const duration = fc.oneof({ arbitrary: fc.constantFrom('0s', '30s', '10m', '2h', '1d'), weight: 30 }, fc.constantFrom('10x', '', '-1m', '1.5h', '1000000000000d', 'PT5M'), fc.string({ maxLength: 6 }), fc.integer(), fc.constant(null))
const anyValue = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.object({ maxDepth: 2, maxKeys: 3 }))
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> => fc.oneof({ arbitrary: arb, weight: 30 }, { arbitrary: anyValue, weight: 1 })

const step = fc.record({
  use: maybe(fc.constantFrom('kubernetes.rollback', 'kubernetes.restart', 'kubernetes.scale', 'http.request', 'notify.slack', 'acme.nope', 'Kubernetes.Rollback')),
  with: maybe(fc.oneof(
    fc.record({ by: maybe(fc.integer({ min: -2, max: 5 })), max: maybe(fc.integer({ min: 0, max: 20 })), to: maybe(fc.integer()), factor: maybe(fc.double({ noNaN: true })) }, { requiredKeys: [] }),
    fc.record({ url: maybe(fc.constantFrom('https://ci.example.com/x', 'https://evil.example.com/', '${event:dt.event.deployment.remediation_action_link}', 'ftp://x', 'not a url')), method: maybe(fc.constantFrom('POST', 'GET', 'TRACE')) }, { requiredKeys: ['url'] }),
    fc.record({ webhookUrl: maybe(fc.constantFrom('${env:SLACK_WEBHOOK_URL}', '${env:UNSET_VARIABLE}', 'https://hooks.slack.com/services/a', '${tag:nope}')), text: maybe(fc.string()) }, { requiredKeys: [] })
  )),
}, { requiredKeys: ['use'] })

const rule = fc.record({
  name: maybe(fc.string({ minLength: 1, maxLength: 12 })),
  on: maybe(fc.constantFrom('problem', 'security', 'PROBLEM', 'event')),
  when: maybe(fc.record({
    entityTypes: maybe(fc.array(fc.constantFrom('SERVICE', 'HOST', 'service', ''), { maxLength: 3 })),
    severities: maybe(fc.array(fc.constantFrom('ERROR', 'CRITICAL', 'nope'), { maxLength: 2 })),
    tags: maybe(fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 })),
    title: maybe(fc.constantFrom('failure|rate', '(unclosed', '[a-', '.*', '')),
    deployedWithin: duration,
    exposed: maybe(fc.boolean()),
    duplicates: maybe(fc.constantFrom('skip', 'include', 'maybe')),
  }, { requiredKeys: [] })),
  target: maybe(fc.record({ kind: maybe(fc.constantFrom('Deployment', 'StatefulSet', 'Pod')), namespace: maybe(fc.constantFrom('shop', '${tag:k8s.namespace.name}', '${nope:x}', '${')), name: maybe(fc.string({ maxLength: 8 })) }, { requiredKeys: [] })),
  actions: maybe(fc.array(step, { maxLength: 3 })),
  approval: maybe(fc.boolean()),
  dryRun: maybe(fc.boolean()),
  cooldown: duration,
  verifyAfter: duration,
  unknownKey: anyValue,
}, { requiredKeys: ['name', 'actions'] })

const rulesFile = fc.record({
  mode: maybe(fc.constantFrom('live', 'dry-run', 'LIVE', 'test')),
  defaults: maybe(fc.record({ cooldown: duration, verifyAfter: duration, timeout: duration, maxTargetsPerProblem: maybe(fc.integer({ min: -1, max: 10 })), approvalTimeout: duration }, { requiredKeys: [] })),
  budgets: maybe(fc.array(fc.record({ scope: maybe(fc.constantFrom('global', 'namespace', 'rule', 'planet')), max: maybe(fc.integer({ min: -1, max: 30 })), per: duration }), { maxLength: 3 })),
  kubernetes: maybe(fc.record({ gitops: maybe(fc.constantFrom('skip', 'allow', 'yes')), namespaces: maybe(fc.record({ deny: maybe(fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 })), allow: maybe(fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 })) }, { requiredKeys: [] })) }, { requiredKeys: [] })),
  rules: maybe(fc.array(rule, { maxLength: 4 })),
  extra: anyValue,
}, { requiredKeys: [] })

/** YAML as people write it: flow or block style, sometimes damaged by a cut or a bad indent. */
const yamlText = fc.tuple(rulesFile, fc.constantFrom('block', 'flow'), fc.nat(), fc.constantFrom('none', 'cut', 'tab', 'dedent')).map(([doc, style, at, damage]) => {
  const text = stringify(doc, style === 'flow' ? { collectionStyle: 'flow' } : {})
  const i = text.length === 0 ? 0 : at % text.length
  switch (damage) {
    case 'cut': return text.slice(0, i)
    case 'tab': return `${text.slice(0, i)}\t${text.slice(i)}`
    case 'dedent': return text.split('\n').map((l, n) => (n === at % 7 ? l.trimStart() : l)).join('\n')
    default: return text
  }
})

const oddYaml = fc.constantFrom(
  'a: &a [*a, *a]\nrules: *a\n',
  'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nrules: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
  'rules: !!binary aGVsbG8=\n',
  'rules:\n  - name: a\n    name: b\n    actions: []\n',
  'mode: live\nmode: dry-run\n',
  '--- \nrules: []\n---\nrules: []\n',
  'rules: [{ name: x, actions: [{ use: kubernetes.restart }] }]\nplugins: 7\n',
  '? [complex, key]\n: value\n',
  '%YAML 1.1\n---\nrules: []\n',
  '\uFEFFrules: []\n',
  'rules:\n- name: "\\u0000"\n  actions: [{use: kubernetes.restart}]\n',
  '',
  '# only a comment\n'
)

t.test('any text is loaded or refused with precise errors, never a throw', async (t) => {
  let loaded = 0
  await fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 200 })), (text) => {
    if (check(text).ok) loaded++
  }), { numRuns: runs })
  t.pass(`${runs} random texts (${loaded} loaded)`)
})

t.test('any rules-like YAML, valid or not, damaged or not, is loaded or refused with precise errors', async (t) => {
  let loaded = 0
  let refused = 0
  await fc.assert(fc.property(yamlText, (text) => {
    if (check(text).ok) loaded++
    else refused++
  }), { numRuns: runs * 3 })
  t.ok(refused > 0, `refused some (${refused})`)
  t.comment(`${loaded} loaded, ${refused} refused`)
})

t.test('an alias without its anchor, or a "billion laughs" of aliases, is an error placed at the alias', async (t) => {
  const missing = check('mode: live\nrules: *nope\n')
  t.notOk(missing.ok)
  t.match(missing.ok ? [] : missing.errors.map(formatDiagnostic), [/^rules\.yaml:2:8: YAML alias \*nope: /])
  const laughs = check(['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
    'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]', 'rules: [*d, *d, *d, *d, *d, *d, *d, *d, *d]', ''].join('\n'))
  t.match(laughs.ok ? [] : laughs.errors.map(formatDiagnostic), [/^rules\.yaml:2:8: YAML alias \*a: .*resource exhaustion/])
})

t.test('a key that is a list or a map is an error placed at the key, not a key stringified with a process warning', async (t) => {
  // The yaml library would turn `? [a, b]` into the text "[ a, b ]" (a header name, a param) and
  // print a warning on the process's stderr, which an operator would read as the service's.
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(w.message) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const text = [
    'mode: dry-run',
    'rules:',
    '  - name: hook',
    '    on: problem',
    '    actions:',
    '      - use: http.request',
    '        with:',
    '          url: https://ci.example.com/x',
    '          headers:',
    '            ? [x-a, x-b]',
    '            : v',
    '',
  ].join('\n')
  const result = check(text)
  t.notOk(result.ok, 'refused')
  t.match(result.ok ? [] : result.errors.map(formatDiagnostic), [/^rules\.yaml:10:15: a mapping key must be a plain value, not a list or a map/])
  t.match(check('? { a: 1 }\n: value\n'), { ok: false, errors: [{ line: 1, column: 3 }] }, 'a map as a key, at the top')
  await new Promise((resolve) => setImmediate(resolve))
  t.same(warnings, [], 'no warning printed')
})

t.test('aliases, tags, duplicate keys and several documents are refused or loaded, never a throw or a hang', async (t) => {
  await fc.assert(fc.property(oddYaml, (text) => { check(text) }), { numRuns: 30 })
  t.pass()
})
