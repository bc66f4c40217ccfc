/**
 * From a notification to one action, one comment and a verdict, against both simulators
 * (SPEC 8, 10): the runner's central promises.
 */
import t from 'tap'
import { imageOf } from '../helpers/kubernetes.js'
import { startLoop } from '../helpers/runner.js'

t.test('an OPEN with a deployment 10 minutes before: one rollback, one comment carrying the facts', async (t) => {
  const loop = await startLoop(t)
  t.equal(await loop.notify(), 202)
  await loop.settle()
  t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1', 'rolled back')
  const comments = loop.comments()
  t.equal(comments.length, 1, 'one comment')
  const [comment = ''] = comments
  t.match(comment, /^✅ kubernetes\.rollback succeeded on Deployment shop\/checkout\n/)
  t.match(comment, /Rolled back Deployment shop\/checkout from revision 2 to revision 1: checkout:1\.4\.2 → checkout:1\.4\.1/)
  t.match(comment, /\*\*Rule:\*\* rollback-bad-deploy \(step 1 of 2\)/)
  t.match(comment, /\*\*Trigger:\*\* deployment event ".*", 12 min before the problem started/)
  t.match(comment, /\*\*Mode:\*\* live/)
  t.match(comment, /\*\*Duration:\*\* .+, 1 attempt/)
  t.match(comment, /\*\*Next:\*\* verifying in 10 min; if the problem is still open, kubernetes\.scale \(step 2\)/)
  t.match(comment, /dt-remediator run [0-9a-f-]{36}$/)
  const runs = (await loop.store.runs.list({ limit: 10 })).runs
  t.equal(runs.length, 1)
  t.match(runs[0], { state: 'succeeded', action: 'kubernetes.rollback', target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, attempts: 1, step: 0, occurrence: 1 })

  t.test('a resend and a merged re-send plan nothing more', async (t) => {
    t.equal(await loop.notify(), 200, 'the exact resend is a duplicate')
    t.equal(await loop.notify(undefined, (b) => ({ ...b, ProblemTitle: 'Failure rate increase (merged: response time degradation)' })), 202, 'a merge is a new notification')
    await loop.settle()
    t.equal((await loop.store.runs.list({ limit: 10 })).runs.length, 1, 'still one run')
    t.equal(loop.comments().length, 1, 'still one comment')
    t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length, 1, 'one change')
  })

  t.test('still open after verifyAfter: an unresolved verdict, then the second step, once', async (t) => {
    await loop.advance(10 * 60_000)
    const comments = loop.comments()
    t.match(comments[1], /^⚠️ Not resolved after kubernetes\.rollback on Deployment shop\/checkout/)
    t.match(comments[1], /still open 10 min after the action: escalating/)
    t.match(comments[2], /^✅ kubernetes\.scale succeeded on Deployment shop\/checkout/)
    t.match(comments[2], /\(step 2 of 2\)/)
    const replicas = (loop.k8s.sim.get('Deployment', 'shop', 'checkout')?.spec as { replicas: number }).replicas
    t.equal(replicas, 4, 'scaled by 2')
    await loop.advance(10 * 60_000)
    t.match(loop.comments()[3], /^⚠️ Not resolved after kubernetes\.scale/)
    t.match(loop.comments()[3], /this was the last step/)
    await loop.advance(60 * 60_000)
    t.equal(loop.comments().length, 4, 'nothing after the last step')
    t.equal((await loop.store.runs.list({ limit: 10 })).runs.length, 2)
  })
})

t.test('RESOLVED gives the verdict at once and starts nothing', async (t) => {
  const loop = await startLoop(t)
  await loop.notify()
  await loop.settle()
  await loop.dt.sim.resolveProblem(loop.problem.problemId, { notify: false })
  t.equal(await loop.notify(), 202, 'the RESOLVED notification')
  await loop.settle()
  const comments = loop.comments()
  t.equal(comments.length, 2)
  t.match(comments[1], /^✔️ Resolved after kubernetes\.rollback on Deployment shop\/checkout/)
  await loop.advance(60 * 60_000)
  t.equal(loop.comments().length, 2, 'no second step, no second verdict')
  t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length, 1)
})

t.test('a RESOLVED before the runs started cancels them: no action on a resolved problem', async (t) => {
  const loop = await startLoop(t, {
    rules: `
mode: live
rules:
  - name: restart
    on: problem
    when: { entityTypes: [SERVICE] }
    approval: true
    actions: [{ use: kubernetes.restart }]
`
  })
  await loop.notify()
  await loop.settle()
  const [waiting] = (await loop.store.runs.list({ limit: 10 })).runs
  t.equal(waiting?.state, 'awaiting_approval')
  await loop.dt.sim.resolveProblem(loop.problem.problemId, { notify: false })
  await loop.notify()
  await loop.settle()
  t.match(await loop.store.runs.view(waiting?.id ?? ''), { state: 'cancelled', reason: /resolved before the action started/ })
  t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0, 'nothing touched the workload')
})
