/**
 * The gates under concurrency (SPEC 9, issue 12): a check and its record in one transaction, so
 * concurrent runs — in one process or across replicas — never overspend a budget. Runs are held
 * for approval, then approved all at once, so they reach the gates together.
 */
import t, { type Test } from 'tap'
import { startLoop, type Loop } from '../helpers/runner.js'
import { postgresEngine, sqliteEngine, type TestEngine } from '../helpers/store.js'

const admin = { authorization: 'Bearer alice-admin-token' }

async function approveAll (loop: Loop, expected: number, t: Test): Promise<void> {
  await loop.settle()
  const waiting = (await loop.store.runs.list({ limit: 100, state: 'awaiting_approval' })).runs
  t.equal(waiting.length, expected, `${expected} runs wait for approval`)
  await Promise.all(waiting.map(async (r, i) => loop.replicas[i % loop.replicas.length]?.app.inject({ method: 'POST', url: `/api/runs/${r.id}/approve`, headers: admin, payload: {} })))
  await loop.settle()
}

for (const [engine, replicas] of [[sqliteEngine, 1], [postgresEngine, 3]] as Array<[TestEngine, number]>) {
  t.test(`${engine.name}, ${replicas} replica(s)`, { skip: engine.skip }, async (t) => {
    t.test('20 runs on 20 Deployments of one namespace, cooldown 0s, a namespace budget of 3: exactly 3 execute', async (t) => {
      const loop = await startLoop(t, {
        engine,
        replicas,
        rules: `mode: live
defaults: { cooldown: 0s, maxTargetsPerProblem: 5 }
budgets: [{ scope: namespace, max: 3, per: 1h }]
rules:
  - name: restart
    on: problem
    when: { entityTypes: [SERVICE] }
    approval: true
    actions: [{ use: kubernetes.restart }]
`,
      })
      const problems = []
      for (let i = 0; i < 20; i++) problems.push(await loop.addProblem(`app-${i}`))
      await Promise.all(problems.map(async (p, i) => loop.notify(p, undefined, i % replicas)))
      await approveAll(loop, 20, t)
      const runs = (await loop.store.runs.list({ limit: 100 })).runs
      t.equal(runs.filter((r) => r.state === 'succeeded').length, 3, 'exactly 3 executed')
      const skipped = runs.filter((r) => r.state === 'skipped')
      t.equal(skipped.length, 17)
      t.match(skipped[0]?.reason, /^skipped by budget: 3 live runs in namespace shop in the last 60 min, at most 3$/)
      t.equal(new Set(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).map((r) => r.path)).size, 3, 'three workloads touched')
    })
  })
}

t.test('the scope gate: a denied namespace and an annotated workload are never acted on, with the reason', async (t) => {
  const loop = await startLoop(t, {
    rules: 'mode: live\nkubernetes:\n  namespaces: { deny: [shop] }\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n',
  })
  await loop.notify()
  await loop.settle()
  t.match((await loop.store.runs.list({ limit: 5 })).runs, [{ state: 'skipped', reason: 'skipped by scope: namespace shop is denied (kubernetes.namespaces.deny)' }])
  t.match(loop.comments()[0], /^⏭️ kubernetes\.restart skipped on Deployment shop\/checkout\n\nskipped by scope/)

  const annotated = await startLoop(t, { rules: 'mode: live\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n' })
  const live = annotated.k8s.sim.get('Deployment', 'shop', 'checkout')
  annotated.k8s.sim.apply({ ...live, metadata: { ...live?.metadata, annotations: { ...live?.metadata.annotations, 'dt-remediator.io/skip': 'true' } } } as never)
  annotated.k8s.sim.clearRequests()
  await annotated.notify()
  await annotated.settle()
  t.match((await annotated.store.runs.list({ limit: 5 })).runs, [{ state: 'skipped', reason: 'skipped by scope: Deployment shop/checkout is annotated dt-remediator.io/skip: "true"' }])
  t.equal(annotated.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0)
})

t.test('maxTargetsPerProblem: a problem resolving to more targets acts on none', async (t) => {
  const loop = await startLoop(t, { rules: 'mode: live\ndefaults: { maxTargetsPerProblem: 1 }\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n' })
  const other = await loop.addProblem('cart')
  const services = [...loop.problem.impactedEntities, ...other.impactedEntities]
  const wide = (await loop.dt.sim.openProblem({ title: 'Failure rate increase on two services', impactedEntities: services, severityLevel: 'ERROR', startTime: loop.clock.now(), notify: false } as never)).problem
  await loop.notify(wide)
  await loop.settle()
  const runs = (await loop.store.runs.list({ limit: 5 })).runs
  t.equal(runs.length, 2)
  for (const run of runs) t.match(run, { state: 'skipped', reason: /^skipped by maxTargetsPerProblem: problem .* resolves to 2 targets, more than 1$/ })
})

t.test('dry-run mode: every gate reported as "would be", no cooldown used, no waiting for approval', async (t) => {
  const loop = await startLoop(t, { rules: 'mode: dry-run\ndefaults: { cooldown: 1h }\nrules:\n  - name: restart\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    approval: true\n    actions: [{ use: kubernetes.restart }]\n' })
  const [a, b] = [loop.problem, await loop.addProblem('checkout', 'Another')]
  await loop.notify(a)
  await loop.settle()
  await loop.notify(b)
  await loop.settle()
  const runs = (await loop.store.runs.list({ limit: 5 })).runs
  t.same(runs.map((r) => r.state), ['dry_run', 'dry_run'], 'both dry-ran: a dry run uses no cooldown')
  t.match(runs[0], { reason: /would be held for approval: awaiting approval/ })
  t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length, 0, 'only dryRun=All')
  t.match(loop.comments()[0], /^🧪 kubernetes\.restart dry run on Deployment shop\/checkout \(no change made\)/)
  t.match(loop.comments()[0], /\*\*Gates:\*\* would be held for approval: awaiting approval to run kubernetes\.restart/)
  t.notMatch(loop.comments(b)[0], /cooldown/, 'the first dry run started no cooldown for the second')
})
