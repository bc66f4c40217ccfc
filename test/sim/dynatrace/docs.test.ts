/**
 * docs/dynatrace.md stays true: the payload templates it tells users to paste are the ones the
 * tests render, and its example state file seeds a simulator.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { DynatraceSimulator, stateSchema } from '../../../sim/dynatrace/index.js'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE, WORKFLOW_PROBLEM_BODY_TEMPLATE } from '../../../src/dynatrace/templates.js'

const doc = readFileSync(fileURLToPath(new URL('../../../docs/dynatrace.md', import.meta.url)), 'utf8')
const blocks = (lang: string): string[] => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => (m[1] ?? '').trimEnd())

t.test('the documented payload templates are the exported constants', async (t) => {
  const json = blocks('json')
  t.ok(json.includes(RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE), 'problem template')
  t.ok(json.includes(RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE), 'security template')
  t.ok(blocks('jinja').includes(WORKFLOW_PROBLEM_BODY_TEMPLATE), 'the Gen 3 workflow body')
})

t.test('the documented state file seeds a simulator', async (t) => {
  const [yaml] = blocks('yaml')
  const parsed = stateSchema.safeParse(parseYaml(yaml ?? ''))
  t.ok(parsed.success, parsed.success ? 'valid' : JSON.stringify(parsed.error.issues))
  if (!parsed.success) return
  const sim = new DynatraceSimulator({ state: parsed.data })
  t.teardown(() => sim.close())
  t.ok([...sim.tenant.entities.values()].some((e) => e.type === 'CLOUD_APPLICATION' && e.displayName === 'checkout'))
  t.equal(sim.tenant.events.filter((e) => e.eventType === 'CUSTOM_DEPLOYMENT' && e.title.startsWith('Deploy checkout')).length, 3, 'the event found its service, the deployment both instances, through their selectors')
  const checkout = [...sim.tenant.entities.values()].find((e) => e.type === 'SERVICE' && e.displayName === 'checkout')
  t.same(sim.tenant.related(checkout?.entityId ?? '', 'from', 'calls').map((id) => sim.tenant.entities.get(id)?.displayName), ['orders-db'], 'the relationship joins a workload\'s service to an entity by their documented ids')
  t.equal(sim.tenant.problems.size, 1)
  t.equal(sim.tenant.securityProblems.size, 1)
  t.equal(sim.webhook?.headers['x-webhook-token'], 'change-me')
})
