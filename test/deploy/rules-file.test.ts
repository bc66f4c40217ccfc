/**
 * config/remediation.yaml, the example rules shipped in the image and in the ConfigMap. Until the
 * rules engine validates the whole file (check-config), this holds it to SPEC section 5's shape,
 * and checks that the service starts from it in dry-run.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseDocument } from 'yaml'
import { effectiveMode } from '../../src/domain/rules/mode.js'

const path = fileURLToPath(new URL('../../config/remediation.yaml', import.meta.url))
const text = readFileSync(path, 'utf8')

interface Rule {
  name: string
  on: string
  when: Record<string, unknown>
  target?: Record<string, string>
  actions: Array<{ use: string, with?: Record<string, unknown> }>
  [key: string]: unknown
}
interface RulesFile {
  mode: string
  defaults: Record<string, unknown>
  budgets: Array<{ scope: string, max: number, per: string }>
  kubernetes: { gitops: string }
  rules: Rule[]
  [key: string]: unknown
}

const doc = parseDocument(text)
const rules = doc.toJS() as RulesFile
const duration = /^\d+[smhd]$/
const builtInActions = ['kubernetes.rollback', 'kubernetes.restart', 'kubernetes.scale', 'http.request', 'notify.slack']

t.test('is valid YAML and starts the service in dry-run', async (t) => {
  t.same(doc.errors.map((e) => e.message), [])
  t.same(doc.warnings.map((e) => e.message), [])
  t.same(effectiveMode({ mode: undefined, rulesFile: 'config/remediation.yaml' }, text), { mode: 'dry-run', source: 'rules file' })
})

t.test('has SPEC 5\'s top-level keys and no plugins (none ship)', async (t) => {
  const allowed = ['mode', 'defaults', 'budgets', 'kubernetes', 'plugins', 'rules']
  for (const key of Object.keys(rules)) t.ok(allowed.includes(key), `${key} is a rules-file key`)
  t.notOk('plugins' in rules, 'no plugins entry: it would name a file that does not exist')
  t.same(Object.keys(rules.defaults).sort(), ['cooldown', 'maxTargetsPerProblem', 'timeout', 'verifyAfter'])
  for (const key of ['cooldown', 'verifyAfter', 'timeout']) t.match(rules.defaults[key], duration, `defaults.${key} is a duration`)
  for (const budget of rules.budgets) {
    t.ok(['global', 'namespace'].includes(budget.scope), `budget scope ${budget.scope}`)
    t.ok(Number.isInteger(budget.max) && budget.max > 0)
    t.match(budget.per, duration)
  }
  t.equal(rules.kubernetes.gitops, 'skip', 'GitOps-managed workloads are left alone by default')
})

t.test('each rule is well-formed and uses built-in actions', async (t) => {
  t.ok(rules.rules.length >= 2)
  const names = rules.rules.map((r) => r.name)
  t.equal(new Set(names).size, names.length, 'rule names are unique')
  const ruleKeys = ['name', 'on', 'when', 'target', 'actions', 'approval', 'dryRun', 'cooldown']
  for (const rule of rules.rules) {
    for (const key of Object.keys(rule)) t.ok(ruleKeys.includes(key), `${rule.name}: ${key} is a rule key`)
    t.ok(['problem', 'security'].includes(rule.on), `${rule.name}: on ${rule.on}`)
    t.ok(rule.actions.length > 0, `${rule.name} has actions`)
    for (const action of rule.actions) t.ok(builtInActions.includes(action.use), `${rule.name}: ${action.use} is a built-in action`)
    for (const key of ['cooldown', 'deployedWithin']) {
      const value = key in rule ? rule[key] : rule.when[key]
      if (value !== undefined) t.match(value, duration, `${rule.name}: ${key} is a duration`)
    }
    const scale = rule.actions.find((a) => a.use === 'kubernetes.scale')
    if (scale !== undefined) t.type(scale.with?.max, 'number', `${rule.name}: kubernetes.scale has its required max`)
  }
  const uses = new Set(rules.rules.flatMap((r) => r.actions.map((a) => a.use)))
  for (const use of ['kubernetes.rollback', 'kubernetes.restart', 'notify.slack']) t.ok(uses.has(use), `an example uses ${use}`)
})

// eslint-disable-next-line no-template-curly-in-string
t.test('${env:} placeholders appear only in action parameters', async (t) => {
  const inWith = JSON.stringify(rules.rules.map((r) => r.actions.map((a) => a.with ?? {})))
  const elsewhere = JSON.stringify(rules.rules.map((r) => ({ ...r, actions: r.actions.map((a) => a.use) })))
  t.match(inWith, /\$\{env:SLACK_WEBHOOK_URL\}/, 'notify.slack reads its webhook URL from the environment')
  t.notMatch(elsewhere, /\$\{env:/, 'never in when or target (SPEC 5)')
})
