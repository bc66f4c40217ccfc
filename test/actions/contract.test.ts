/**
 * The contract test: one set of checks over every registered action, the way ESLint's RuleTester
 * runs over every rule (SPEC section 7). Each action gets a fresh world from
 * test/helpers/action-fixtures.ts; its README's examples are taken from its ```yaml blocks.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { z } from 'zod'
import { builtinActions } from '../../actions/index.js'
import type { KubernetesClient } from '../../src/kubernetes/client.js'
import { parseParams, planAction } from '../../src/sdk/index.js'
import { planInputs, runAction } from '../../src/sdk/testing.js'
import { substituteEnv } from '../../src/domain/rules/placeholders.js'
import { actionFixtures, exampleEnv } from '../helpers/action-fixtures.js'

const unusedClient = {} as KubernetesClient
const registered = builtinActions({ kubernetes: unusedClient })

/** Every `with` of a `use: <name>` entry in the README's YAML blocks. */
function readmeExamples (name: string): { readme: string, examples: unknown[] } {
  const readme = readFileSync(fileURLToPath(new URL(`../../actions/${name}/README.md`, import.meta.url)), 'utf8')
  const examples: unknown[] = []
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit)
    else if (typeof value === 'object' && value !== null) {
      const o = value as Record<string, unknown>
      // `${env:…}` is substituted by the runner just before execution; other placeholders at plan time.
      if (o.use === name) examples.push(substituteEnv(o.with ?? {}, exampleEnv).value)
      Object.values(o).forEach(visit)
    }
  }
  for (const block of readme.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    for (const doc of parseAllDocuments(block[1] ?? '')) visit(doc.toJS())
  }
  return { readme, examples }
}

t.test('every built-in action has a folder named as in the rules file and a fixture', async (t) => {
  t.ok(registered.length >= 3)
  for (const action of registered) t.ok(actionFixtures[action.name], `${action.name} has a fixture in test/helpers/action-fixtures.ts`)
  t.same(Object.keys(actionFixtures).sort(), registered.map((a) => a.name).sort(), 'no fixture for an action that does not exist')
})

for (const { name } of registered) {
  const fixture = actionFixtures[name]
  if (fixture === undefined) continue
  const { readme, examples } = readmeExamples(name)

  t.test(name, async (t) => {
    t.test('its README documents every parameter and shows at least one example', async (t) => {
      const { action } = await fixture(t)
      const schema = z.toJSONSchema(action.params, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> }
      for (const key of Object.keys(schema.properties ?? {})) t.match(readme, new RegExp(`^\\| \`${key}\` \\|`, 'm'), `parameter ${key} is in the table`)
      t.ok(examples.length > 0, 'a ```yaml example with `use: <name>`')
    })

    t.test('parameters reject unknown keys, naming them', async (t) => {
      const { action } = await fixture(t)
      for (const example of examples) {
        t.doesNotThrow(() => parseParams(action, example), `the README example ${JSON.stringify(example)} is valid`)
        t.throws(() => parseParams(action, { ...(example as object), notAParameter: 1 }), { code: 'DTR_ERR_ACTION_PARAMS', message: /notAParameter/ })
      }
    })

    t.test('a missing target is a skip, never a call', async (t) => {
      const world = await fixture(t)
      if (!world.action.needsTarget) return t.pass('needs no target')
      const before = world.state()
      const planned = await planAction(world.action, planInputs({ ...world.options, params: examples[0], target: null }))
      t.match(planned, { status: 'skipped', reason: 'no Kubernetes target' })
      t.same(world.writes(), [])
      t.same(world.state(), before)
    })

    t.test('the same plan inputs give the same plan, and a plan survives being stored as JSON', async (t) => {
      const world = await fixture(t)
      const inputs = planInputs({ ...world.options, params: examples[0] })
      const first = await planAction(world.action, inputs)
      const second = await planAction(world.action, inputs)
      t.same(second, first)
      t.same(JSON.parse(JSON.stringify(first)), first)
    })

    for (const [i, example] of examples.entries()) {
      t.test(`README example ${i + 1} in dry run changes nothing: only reads and dryRun=All`, async (t) => {
        const world = await fixture(t)
        const before = world.state()
        const { outcome } = await runAction(world.action, { ...world.options, params: example, dryRun: true })
        t.not(outcome.status, 'failed', JSON.stringify(outcome))
        t.same(world.writes().filter((w) => !w.dryRun), [], 'every write was a dry run')
        t.same(world.state(), before, 'the world is as it was')
      })

      t.test(`README example ${i + 1}: two attempts with one plan make one change`, async (t) => {
        const world = await fixture(t)
        const before = world.state()
        const once = await runAction(world.action, { ...world.options, params: example })
        t.equal(once.outcome.status, 'succeeded', JSON.stringify(once.outcome))
        const afterOne = world.state()
        t.not(JSON.stringify(afterOne), JSON.stringify(before), 'the first attempt changed the world')
        const world2 = await fixture(t)
        const twice = await runAction(world2.action, { ...world2.options, params: example, attempts: 2 })
        t.not(twice.outcomes[1]?.status, 'failed', JSON.stringify(twice.outcomes[1]))
        t.same(world2.state(), afterOne, 'a second attempt with the same plan changed nothing more')
      })
    }
  })
}
