/**
 * Aim at the cause (issue 21, SPEC 5): a `when.rootCause: true` rule acts on the root-cause
 * entity — from the classic notification's ProblemDetailsJSONv2, the Problems API v2, or a Gen 3
 * workflow body's root_cause_entity_id — even when it is not impacted; a problem without one
 * matches nothing, and the admin API says why. A Gen 3 `dt.davis.mute.status: MUTED` plans
 * nothing, whatever the rule says.
 */
import t from 'tap'
import type { Test } from 'tap'
import { enrich } from '../../src/runner/enrich.js'
import { matchRule } from '../../src/domain/rules/match.js'
import { TOKEN } from '../helpers/app.js'
import { notificationOf } from '../helpers/world.js'
import { startLoop, type Loop } from '../helpers/runner.js'
import { loadRules } from '../helpers/rules.js'

const admin = { authorization: 'Bearer alice-admin-token' }
const RULES = `mode: live
defaults: { cooldown: 0s }
rules:
  - name: restart-root-cause
    on: problem
    when: { rootCause: true, maintenance: include }
    actions: [{ use: kubernetes.restart }]
`

/** A problem impacting checkout's service whose root cause is the payments service (not impacted). */
async function rootCaused (loop: Loop) {
  const payments = loop.dt.sim.addWorkload({ namespace: 'shop', name: 'payments', cluster: 'eu-1', tags: ['env:production'] })
  const { deployment } = await import('../helpers/kubernetes.js')
  loop.k8s.sim.apply(deployment('payments', 'payments:2.0.0'))
  const checkout = loop.problem.impactedEntities
  const { problem } = await loop.dt.sim.openProblem({ title: 'Failure rate increase', impactedEntities: [...checkout], rootCauseEntity: payments.service.entityId, severityLevel: 'ERROR', startTime: loop.clock.now(), notify: false })
  return { problem, rootCause: payments.service.entityId }
}

async function withWorkflow (t: Test, loop: Loop): Promise<void> {
  const url = await loop.app.listen({ port: 0, host: '127.0.0.1' })
  loop.dt.sim.setWorkflow({ url: `${url}/webhooks/problem`, headers: { authorization: `Basic ${Buffer.from(`workflow:${TOKEN}`).toString('base64')}`, 'content-type': 'application/json' } })
}

t.test('the root cause is the one candidate, also when not impacted: from the API and from a Gen 3 body', async (t) => {
  for (const via of ['classic notification + Problems API', 'Gen 3 workflow'] as const) {
    t.test(via, async (t) => {
      const loop = await startLoop(t, { rules: RULES })
      const { problem, rootCause } = await rootCaused(loop)
      if (via === 'Gen 3 workflow') {
        await withWorkflow(t, loop)
        t.match(await loop.dt.sim.sendWorkflow(problem), { response: { status: 202 } })
      } else {
        await loop.notify(problem)
      }
      await loop.settle()
      const runs = (await loop.store.runs.list({ problemId: problem.problemId, limit: 5 })).runs
      t.match(runs, [{ state: 'succeeded', entityId: rootCause, target: { kind: 'Deployment', namespace: 'shop', name: 'payments' } }])
      t.equal(runs.length, 1, 'the impacted checkout service is not a candidate')
      const view = (await loop.app.inject({ method: 'GET', url: `/api/problems/${problem.problemId}`, headers: admin })).json()
      t.match(view.explanations, [{ rule: 'restart-root-cause', matched: true, reason: null, entities: [{ entityId: rootCause, matched: true, target: { name: 'payments' }, targetSource: String, targetNote: String, tried: [{ source: String, note: String }] }], runs: [{ action: 'kubernetes.restart', entityId: rootCause, status: 'planned' }] }])
    })
  }
})

t.test('from the classic body alone (ProblemDetailsJSONv2, no API): the root cause with no details is still the candidate', async (t) => {
  const loop = await startLoop(t, { rules: RULES })
  const { problem, rootCause } = await rootCaused(loop)
  const n = notificationOf(loop.dt, problem)
  const e = await enrich(n, { dynatrace: undefined, longestDeployedWithinMs: 0 })
  t.match(e.rootCause, { id: rootCause, type: 'SERVICE', missing: 'DTR_DYNATRACE_URL is not set' })
  const rule = loadRules(RULES).rules[0]
  if (rule === undefined) throw new Error('rule')
  t.match(matchRule(rule, e, { fallbackStartTime: 0 }), { matched: true, entities: [{ entityId: rootCause, matched: true }] })
  t.equal(matchRule(rule, e, { fallbackStartTime: 0 }).entities.length, 1)
})

t.test('no identified root cause matches nothing, and GET /api/problems/:pid says so', async (t) => {
  const loop = await startLoop(t, { rules: RULES })
  await loop.notify()
  await loop.settle()
  t.equal((await loop.store.runs.list({ limit: 5 })).runs.length, 0)
  const view = (await loop.app.inject({ method: 'GET', url: `/api/problems/${loop.problem.problemId}`, headers: admin })).json()
  t.match(view.explanations, [{ rule: 'restart-root-cause', matched: false, reason: /^rootCause: true, but Dynatrace identified no root-cause entity for this problem/ }])
})

t.test('dt.davis.mute.status MUTED plans nothing, with the reason, whatever the rule includes', async (t) => {
  const loop = await startLoop(t, { rules: RULES.replace('rootCause: true, ', 'duplicates: include, ') })
  await loop.notify(loop.problem, (b) => ({ ...b, 'dt.davis.mute.status': 'MUTED' }))
  await loop.settle()
  t.equal((await loop.store.runs.list({ limit: 5 })).runs.length, 0, 'nothing planned')
  t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0)
  const view = (await loop.app.inject({ method: 'GET', url: `/api/problems/${loop.problem.problemId}`, headers: admin })).json()
  t.match(view.explanations, [{ rule: 'restart-root-cause', matched: false, reason: /^the problem is muted in Dynatrace \(dt\.davis\.mute\.status: MUTED\)/ }])

  // NOT_MUTED (what a workflow sends for every other problem) plans as usual.
  const other = await loop.addProblem('checkout')
  await loop.notify(other, (b) => ({ ...b, 'dt.davis.mute.status': 'NOT_MUTED' }))
  await loop.settle()
  t.match((await loop.store.runs.list({ limit: 5 })).runs, [{ state: 'succeeded' }])
})
