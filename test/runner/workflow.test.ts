/**
 * A Gen 3 workflow calling /webhooks/problem with the body docs/dynatrace.md publishes, sent by
 * the Dynatrace simulator over HTTP to the service: the same run as the classic notification;
 * its CLOSED resolves; problems Dynatrace flags as duplicates or under maintenance are skipped
 * unless the rule includes them (SPEC 4, 5).
 */
import t from 'tap'
import type { Test } from 'tap'
import { TOKEN } from '../helpers/app.js'
import { startLoop, ROLLBACK_RULES, type Loop } from '../helpers/runner.js'

/** The service listens (port 0), and the simulator's workflow calls it, authenticated from the credential vault (Basic). */
async function withWorkflow (t: Test, rules?: string): Promise<Loop> {
  const loop = await startLoop(t, rules === undefined ? {} : { rules })
  const url = await loop.app.listen({ port: 0, host: '127.0.0.1' })
  loop.dt.sim.setWorkflow({ url: `${url}/webhooks/problem`, headers: { authorization: `Basic ${Buffer.from(`workflow:${TOKEN}`).toString('base64')}`, 'content-type': 'application/json' } })
  return loop
}

/** A run as compared across the two ways in: what it did, to what, and why. */
async function theRun (loop: Loop) {
  const runs = (await loop.store.runs.list({ limit: 10 })).runs
  return runs.map((r) => ({ problemId: r.problemId, displayId: r.displayId, occurrence: r.occurrence, rule: r.rule, step: r.step, entityId: r.entityId, action: r.action, target: r.target, state: r.state, reason: r.reason, outcome: r.outcome }))
}

const withoutRunIds = (comments: string[]): string[] => comments.map((c) => c.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<run>').replace(/\*\*Duration:\*\* [^\n]*/, '**Duration:** …'))

t.test('the workflow body from the docs gives the same run as the classic notification', async (t) => {
  const classic = await startLoop(t)
  t.equal(await classic.notify(), 202)
  await classic.settle()

  const gen3 = await withWorkflow(t)
  const sent = await gen3.dt.sim.sendWorkflow(gen3.problem)
  t.match(sent, { kind: 'workflow', state: 'ACTIVE', response: { status: 202 } }, 'accepted')
  await gen3.settle()
  const [stored] = await gen3.store.notifications.listByProblem('problem', gen3.problem.problemId)
  t.match(stored, { state: 'ACTIVE', source: 'webhook', body: { 'event.category': 'ERROR' } })

  const runs = await theRun(gen3)
  t.equal(runs.length, 1)
  t.match(runs[0], { state: 'succeeded', action: 'kubernetes.rollback', target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' } })
  t.same(runs, await theRun(classic), 'the same problem, occurrence, rule, step, entity, action, target and outcome')
  t.same(withoutRunIds(gen3.comments()), withoutRunIds(classic.comments()), 'and the same comment')
  t.equal(gen3.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length, 1)

  t.test('its CLOSED resolves, and a resend of it is a duplicate', async (t) => {
    const closed = await gen3.dt.sim.resolveProblem(gen3.problem.problemId)
    t.match(closed?.notification, { kind: 'workflow', state: 'CLOSED', response: { status: 202 } })
    await gen3.settle()
    t.match(gen3.comments().at(-1), /^✔️ Resolved after kubernetes\.rollback/)
    t.match(await gen3.dt.sim.sendWorkflow(gen3.problem), { response: { status: 200 } })
    t.match(await gen3.store.problems.get('problem', gen3.problem.problemId), { status: 'closed', occurrence: 1 })
  })
})

t.test('a problem Dynatrace flags as a duplicate: skipped by default, acted on with duplicates: include', async (t) => {
  const skip = await withWorkflow(t)
  skip.problem.duplicate = true
  t.match(await skip.dt.sim.sendWorkflow(skip.problem), { response: { status: 202 } }, 'accepted')
  await skip.settle()
  t.same(await theRun(skip), [], 'no run: the rule does not match a duplicate')

  const include = await withWorkflow(t, ROLLBACK_RULES.replace('deployedWithin: 30m }', 'deployedWithin: 30m, duplicates: include }'))
  include.problem.duplicate = true
  await include.dt.sim.sendWorkflow(include.problem)
  await include.settle()
  t.match(await theRun(include), [{ state: 'succeeded', action: 'kubernetes.rollback' }])
})

t.test('entities under maintenance: skipped by default, acted on with maintenance: include', async (t) => {
  const skip = await withWorkflow(t)
  skip.problem.underMaintenance = true
  t.match(await skip.dt.sim.sendWorkflow(skip.problem), { response: { status: 202 } }, 'accepted')
  await skip.settle()
  t.same(await theRun(skip), [])

  const include = await withWorkflow(t, ROLLBACK_RULES.replace('deployedWithin: 30m }', 'deployedWithin: 30m, maintenance: include }'))
  include.problem.underMaintenance = true
  await include.dt.sim.sendWorkflow(include.problem)
  await include.settle()
  t.match(await theRun(include), [{ state: 'succeeded' }])
})

t.test('a re-open the workflow reports is the next occurrence', async (t) => {
  const loop = await withWorkflow(t, 'mode: live\ndefaults: { cooldown: 0s }\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n')
  await loop.dt.sim.sendWorkflow(loop.problem)
  await loop.settle()
  await loop.dt.sim.resolveProblem(loop.problem.problemId)
  await loop.settle()
  loop.clock.advance(60_000)
  const reopened = await loop.dt.sim.reopenProblem(loop.problem.problemId)
  t.match(reopened, { outcome: 'reopened', notification: { kind: 'workflow', response: { status: 202 } } })
  await loop.settle()
  t.match((await theRun(loop)).sort((a, b) => a.occurrence - b.occurrence), [{ occurrence: 1, state: 'succeeded' }, { occurrence: 2, state: 'succeeded' }])
})
