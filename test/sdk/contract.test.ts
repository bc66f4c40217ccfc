import t from 'tap'
import { z } from 'zod'
import { assertAction, contractProblems, createActionRegistry, defineAction, executeAction, isPlanSkip, parseParams, planAction, skip } from '../../src/sdk/index.js'
import { planInputs, runAction } from '../../src/sdk/testing.js'

const valid = {
  name: 'acme.drain-queue',
  description: 'Drains a queue',
  entityTypes: ['SERVICE'],
  params: z.object({ queue: z.string() }).strict(),
  needsTarget: false,
  async run () { return { status: 'succeeded' as const, summary: 'drained' } },
}

t.test('contractProblems lists every problem of a candidate, and none of a valid action', async (t) => {
  t.same(contractProblems(valid), [])
  t.same(contractProblems(null), ['it is not an object'])
  const problems = contractProblems({ name: 'Drain', description: ' ', entityTypes: ['service'], params: {}, needsTarget: 'yes', plan: 1 })
  t.match(problems, [/^name must be a namespaced/, /^description/, /^entityTypes/, /^params must be a zod schema/, /^needsTarget/, /^plan must be a function/, /^run must be a function/])
  t.same(contractProblems({ ...valid, entityTypes: '*' }), [])
  t.match(contractProblems({ ...valid, entityTypes: [] }), [/entityTypes/])
})

t.test('defineAction returns the action frozen, or throws DTR_ERR_ACTION_CONTRACT naming it', async (t) => {
  const action = defineAction(valid)
  t.ok(Object.isFrozen(action))
  t.equal(action.name, 'acme.drain-queue')
  t.throws(() => defineAction({ ...valid, run: undefined } as never), { code: 'DTR_ERR_ACTION_CONTRACT', message: /^Action acme\.drain-queue does not satisfy the action contract: run must be a function$/ })
})

t.test('assertAction names where a broken action came from', async (t) => {
  t.throws(() => assertAction({ description: 'x' }, './actions/drain.mjs'), { message: /^Action \(unnamed\) \(from \.\/actions\/drain\.mjs\) does not satisfy/ })
})

t.test('the registry shares that validation and refuses a name twice', async (t) => {
  const registry = createActionRegistry([defineAction(valid)])
  t.equal(registry.get('acme.drain-queue')?.description, 'Drains a queue')
  t.equal(registry.get('nope'), undefined)
  t.same(registry.names(), ['acme.drain-queue'])
  t.throws(() => createActionRegistry([valid, valid]), { code: 'DTR_ERR_ACTION_CONTRACT', message: /registered twice/ })
  t.throws(() => createActionRegistry([{ action: { ...valid, name: 'x' }, source: 'acme-actions' }]), { message: /^Action x \(from acme-actions\) does not satisfy the action contract: name must be/ })
  t.throws(() => createActionRegistry([valid, { action: valid, source: 'acme-actions' }]), { message: /Action acme\.drain-queue \(from acme-actions\) is registered twice/ })
})

t.test('parseParams names each bad field', async (t) => {
  const action = defineAction(valid)
  t.same(parseParams(action, { queue: 'orders' }), { queue: 'orders' })
  t.throws(() => parseParams(action, { queue: 3, extra: true }), { code: 'DTR_ERR_ACTION_PARAMS', message: /^acme\.drain-queue: queue: .*expected string.*; \(params\): Unrecognized key: "extra"$/ })
})

t.test('planning', async (t) => {
  t.test('an action that needs a target is skipped without one, and its plan is never called', async (t) => {
    let planned = 0
    const action = defineAction({ ...valid, name: 'acme.needs-target', params: z.object({}), needsTarget: true, async plan () { planned++; return { at: 1 } } })
    t.same(await planAction(action, planInputs()), { status: 'skipped', reason: 'no Kubernetes target' })
    t.equal(planned, 0)
    t.same(await planAction(action, planInputs({ target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' } })), { status: 'planned', plan: { at: 1 } })
  })

  t.test('a plan may skip in a typed way, with details', async (t) => {
    const nothing = skip('no older revision', { revisions: [1] })
    t.ok(isPlanSkip(nothing))
    t.notOk(isPlanSkip({ reason: 'no older revision' }), 'a look-alike object is a plan, not a skip')
    const action = defineAction({ ...valid, async plan () { return nothing } })
    t.same(await planAction(action, planInputs({ params: { queue: 'q' } })), { status: 'skipped', reason: 'no older revision', details: { revisions: [1] } })
    const result = await runAction(action, { params: { queue: 'q' } })
    t.same(result.outcomes, [{ status: 'skipped', reason: 'no older revision', details: { revisions: [1] } }], 'the test kit records the skip and never runs')
  })

  t.test('an action without plan gets an undefined plan and runs without a target when it needs none', async (t) => {
    const seen: unknown[] = []
    const action = defineAction({ ...valid, async run (ctx) { seen.push([ctx.plan, ctx.target, ctx.attempt, ctx.params]); return { status: 'succeeded', summary: 'ok' } } })
    const planned = await planAction(action, planInputs({ params: { queue: 'q' } }))
    t.same(planned, { status: 'planned', plan: undefined })
    const outcome = await executeAction(action, { ...planInputs({ params: { queue: 'q' } }), plan: undefined, dryRun: false, attempt: 2, runId: 'r1' })
    t.same(outcome, { status: 'succeeded', summary: 'ok' })
    t.same(seen, [[undefined, null, 2, { queue: 'q' }]])
  })
})

t.test('the test kit runs attempts with one plan and numbers them', async (t) => {
  const attempts: number[] = []
  const action = defineAction({
    ...valid,
    async plan (ctx) { return { stamp: ctx.plannedAt } },
    async run (ctx) { attempts.push(ctx.attempt); return { status: 'succeeded', summary: `stamp ${ctx.plan.stamp}` } },
  })
  const result = await runAction(action, { params: { queue: 'q' }, plannedAt: 42, attempts: 3 })
  t.same(attempts, [1, 2, 3])
  t.same(result.plan, { stamp: 42 })
  t.same(result.outcomes.map((o) => o.status), ['succeeded', 'succeeded', 'succeeded'])
  await t.rejects(runAction(action, { params: {} }), { code: 'DTR_ERR_ACTION_PARAMS' })
  const reader = defineAction({ ...valid, async run (ctx) { await ctx.dynatrace.getProblem('P'); return { status: 'succeeded', summary: '' } } })
  await t.rejects(runAction(reader, { params: { queue: 'q' } }), /dynatrace\.getProblem was not provided to runAction\(\)/, 'a fake the test did not give is named')
})
