/**
 * The recurrence gate (SPEC 9, issue 21): when the same action already succeeded live on the same
 * target for `maxRecurrences.count` other problems within `per`, the next run is skipped, with
 * the problems named, commented and counted; a dry run reports that it would be. Store-backed, so
 * two replicas on one PostgreSQL share it.
 */
import t from 'tap'
import { startLoop } from '../helpers/runner.js'
import { postgresEngine, sqliteEngine, type TestEngine } from '../helpers/store.js'

const RULES = `mode: live
defaults: { cooldown: 0s, verifyAfter: 10m }
rules:
  - name: restart
    on: problem
    when: { entityTypes: [SERVICE], title: "failure rate" }
    actions: [{ use: kubernetes.restart }]
  - name: restart-shadow
    on: problem
    dryRun: true
    when: { entityTypes: [SERVICE], title: "memory" }
    actions: [{ use: kubernetes.restart }]
`

for (const [engine, replicas] of [[sqliteEngine, 1], [postgresEngine, 2]] as Array<[TestEngine, number]>) {
  t.test(`${engine.name}, ${replicas} replica(s): the fourth problem fixed by the same restart is left to a person`, { skip: engine.skip }, async (t) => {
    const loop = await startLoop(t, { engine, replicas, rules: RULES })
    const fixed = [loop.problem]
    for (let i = 0; i < 2; i++) fixed.push(await loop.addProblem('checkout'))
    // Each problem through another replica: the history the gate counts is the store's.
    for (const [i, p] of fixed.entries()) {
      await loop.notify(p, undefined, i % replicas)
      await loop.settle()
      await loop.advance(60_000)
    }
    let runs = (await loop.store.runs.list({ limit: 20 })).runs
    t.equal(runs.filter((r) => r.state === 'succeeded').length, 3, 'three restarts ran')

    const fourth = await loop.addProblem('checkout')
    await loop.notify(fourth, undefined, 3 % replicas)
    await loop.settle()
    runs = (await loop.store.runs.list({ problemId: fourth.problemId, limit: 5 })).runs
    const ids = [...fixed].reverse().map((p) => p.displayId).join(', ')
    t.match(runs, [{ state: 'skipped', reason: `skipped by recurrence: kubernetes.restart succeeded on Deployment shop/checkout for 3 problems in the last 24 h (${ids}); the fix does not last, a person should look` }])
    t.match(loop.comments(fourth)[0], /^⏭️ kubernetes\.restart skipped on Deployment shop\/checkout\n\nskipped by recurrence: /, 'commented')
    // Counted by the replica that skipped it (metrics are per process).
    const metrics = await Promise.all(loop.replicas.map(async (r) => (await r.app.inject({ method: 'GET', url: '/metrics' })).body))
    t.equal(metrics.filter((m) => /dtr_runs_total\{action="kubernetes.restart",outcome="skipped"\} 1/.test(m)).length, 1, 'counted')
    t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length, 3, 'no fourth restart')

    // A dry-run rule on the same target reports it from the live history.
    const shadow = await loop.addProblem('checkout', 'Memory saturation')
    await loop.notify(shadow, undefined, 0)
    await loop.settle()
    runs = (await loop.store.runs.list({ problemId: shadow.problemId, limit: 5 })).runs
    t.match(runs, [{ state: 'dry_run', reason: /would be skipped by recurrence: kubernetes\.restart succeeded on Deployment shop\/checkout for 3 problems in the last 24 h/ }])

    // Once the first success leaves the window, a restart runs again.
    await loop.advance(24 * 3_600_000 - 3 * 60_000 + 1)
    const later = await loop.addProblem('checkout')
    await loop.notify(later, undefined, replicas - 1)
    await loop.settle()
    t.match((await loop.store.runs.list({ problemId: later.problemId, limit: 5 })).runs, [{ state: 'succeeded' }], 'two successes in the window: it runs')
  })
}

t.test('count 0 turns the gate off; a rule\'s own maxRecurrences overrides the defaults', async (t) => {
  const loop = await startLoop(t, {
    rules: `mode: live
defaults: { cooldown: 0s, maxRecurrences: { count: 0, per: 24h } }
rules:
  - name: restart
    on: problem
    when: { entityTypes: [SERVICE], title: "failure rate" }
    actions: [{ use: kubernetes.restart }]
  - name: restart-strict
    on: problem
    maxRecurrences: { count: 1, per: 1h }
    when: { entityTypes: [SERVICE], title: "memory" }
    actions: [{ use: kubernetes.restart }]
`,
  })
  const problems = [loop.problem]
  for (let i = 0; i < 4; i++) problems.push(await loop.addProblem('checkout'))
  for (const p of problems) {
    await loop.notify(p)
    await loop.settle()
  }
  t.equal((await loop.store.runs.list({ limit: 20 })).runs.filter((r) => r.state === 'succeeded').length, 5, 'off: five restarts')
  const strict = await loop.addProblem('checkout', 'Memory saturation')
  await loop.notify(strict)
  await loop.settle()
  t.match((await loop.store.runs.list({ problemId: strict.problemId, limit: 5 })).runs, [{ state: 'skipped', reason: /^skipped by recurrence: kubernetes\.restart succeeded on Deployment shop\/checkout for 5 problems in the last 60 min/ }])
})
