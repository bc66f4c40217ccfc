/**
 * Reconciliation with the Problems API (SPEC 8), against both simulators: a notification that
 * never reached us is acted on within one interval, once, and says it was found by
 * reconciliation; a problem that opened and closed while we were down is never acted on; a
 * webhook and a reconciliation of one problem make one run; a re-open found by reconciliation is
 * a new occurrence the cooldown judges again. The runner's clock is the test's: an interval
 * passes when the test moves it.
 */
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { toNewNotification, uuidV7 } from '../../src/domain/notification.js'
import { parseProblemPayload, type ProblemPayload } from '../../src/domain/payload.js'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE } from '../../src/dynatrace/templates.js'
import { TRACKED_LOOKBACK_MS } from '../../src/runner/reconcile/index.js'
import type { Metrics } from '../../src/metrics.js'
import type { SimProblem } from '../../sim/dynatrace/index.js'
import { bearer } from '../helpers/app.js'
import { imageOf } from '../helpers/kubernetes.js'
import { startLoop, type Loop } from '../helpers/runner.js'
import { postgresEngine, skipWithoutPostgres } from '../helpers/store.js'
import { notificationOf } from '../helpers/world.js'

const INTERVAL = 120_000
const FOUND_BY = '**Found by:** reconciliation with the Problems API (no notification reached dt-remediator)'
const RESTART = (cooldown: string, approval = false): string => `
mode: live
defaults: { cooldown: ${cooldown}, verifyAfter: 10m }
rules:
  - name: restart
    on: problem
    when: { entityTypes: [SERVICE] }
    approval: ${String(approval)}
    actions: [{ use: kubernetes.restart }]
`

/** A loopback port nothing listens on: Dynatrace's call to it fails to connect. */
async function deadPort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A new problem on shop/checkout's service, opened now; its notification goes to the webhook configured in the simulator, if any. */
async function openProblem (loop: Loop, title: string): Promise<{ problem: SimProblem, delivered: unknown }> {
  const service = loop.problem.impactedEntities[0] as string
  const { problem, notification } = await loop.dt.sim.openProblem({ title, impactedEntities: [service], severityLevel: 'ERROR', startTime: loop.clock.now() } as never)
  return { problem, delivered: notification?.response }
}

const runsOf = async (loop: Loop, p: SimProblem) => (await loop.store.runs.list({ limit: 50 })).runs.filter((r) => r.problemId === p.problemId)
const changes = (loop: Loop): number => loop.k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun).length
const listCalls = (loop: Loop): number => loop.dt.sim.traffic.find({ operation: 'getProblems' }).length

async function counter (metrics: Metrics, name: 'reconcile' | 'notifications', labels: Record<string, string>): Promise<number> {
  const values = (await metrics[name].get()).values
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((sum, v) => sum + v.value, 0)
}

t.test('a problem whose webhook call never reaches us is acted on within one interval, once, found by reconciliation', async (t) => {
  t.test('Dynatrace calls a dead port', async (t) => {
    const loop = await startLoop(t)
    loop.dt.sim.setWebhook({ url: `http://127.0.0.1:${await deadPort()}/webhooks/problem`, headers: { authorization: bearer.authorization }, payload: RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, notifyClosedProblems: true })
    const openedAt = loop.clock.now()
    const { problem, delivered } = await openProblem(loop, 'Failure rate increase')
    t.match(delivered, { error: /ECONNREFUSED|connect/ }, 'the notification never arrived')
    t.equal(changes(loop), 0)

    await loop.advance(INTERVAL)
    t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1', 'rolled back')
    const runs = await runsOf(loop, problem)
    t.equal(runs.length, 1, 'one run')
    t.match(runs[0], { state: 'succeeded', action: 'kubernetes.rollback', occurrence: 1 })
    const actedAt = Date.parse(String(runs[0]?.updatedAt))
    t.ok(actedAt - openedAt <= INTERVAL, `acted on ${(actedAt - openedAt) / 1000} s after the problem opened: within one interval`)
    const comments = loop.comments(problem)
    t.equal(comments.length, 1, 'one comment')
    t.ok(comments[0]?.includes(FOUND_BY), 'the comment says reconciliation found it')
    const stored = await loop.store.notifications.listByProblem('problem', problem.problemId)
    t.match(stored, [{ source: 'reconcile', state: 'OPEN' }], 'taken in as a notification of its own source')
    t.equal(listCalls(loop), 1, 'the interval cost one list call')
    t.equal(await counter(loop.app.metrics, 'notifications', { kind: 'problem', outcome: 'accepted', source: 'reconcile' }), 1)
    t.equal(await counter(loop.app.metrics, 'reconcile', { outcome: 'success' }), 2, 'the pass at start and this one')

    const reads = (): number => loop.dt.sim.traffic.find({ operation: 'getProblem' }).length
    const readsBefore = reads()
    await loop.advance(INTERVAL)
    await loop.advance(INTERVAL)
    t.equal((await runsOf(loop, problem)).length, 1, 'later passes find it tracked: still one run')
    t.equal(changes(loop), 1, 'one change')
    t.equal(loop.comments(problem).length, 1)
    t.equal((await loop.store.notifications.listByProblem('problem', problem.problemId)).length, 1, 'nothing more taken in')
    t.equal(listCalls(loop), 3, 'one list call per interval')
    t.equal(reads(), readsBefore, 'and no read of a problem on its own: the listing says it is open')
  })

  t.test('our service answers 503', async (t) => {
    const loop = await startLoop(t, { underPressure: { maxInFlight: 0 } })
    const { problem } = await openProblem(loop, 'Failure rate increase')
    t.equal(await loop.notify(problem), 503, 'refused: nothing stored')
    t.equal(await loop.store.notifications.count(), 0)
    await loop.advance(INTERVAL)
    t.match(await runsOf(loop, problem), [{ state: 'succeeded', action: 'kubernetes.rollback' }])
    t.equal(changes(loop), 1)
    t.ok(loop.comments(problem)[0]?.includes(FOUND_BY))
  })
})

t.test('DTR_RECONCILE_PROBLEM_SELECTOR: reconciliation takes in only the problems its criteria select, as the alerting profile would', async (t) => {
  const loop = await startLoop(t, { env: { DTR_RECONCILE_PROBLEM_SELECTOR: 'managementZones("Production")' } })
  loop.dt.sim.setWebhook({ url: `http://127.0.0.1:${await deadPort()}/webhooks/problem`, headers: { authorization: bearer.authorization }, payload: RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, notifyClosedProblems: true })
  const service = loop.problem.impactedEntities[0] as string
  const open = async (title: string, zone: string): Promise<SimProblem> =>
    (await loop.dt.sim.openProblem({ title, impactedEntities: [service], severityLevel: 'ERROR', startTime: loop.clock.now(), managementZones: [zone] } as never)).problem
  const staging = await open('Failure rate increase (staging)', 'Staging')
  await loop.advance(INTERVAL)
  t.equal((await runsOf(loop, staging)).length, 0, 'a problem outside the selector is not taken in')
  t.equal(changes(loop), 0)
  const listing = loop.dt.sim.traffic.find({ operation: 'getProblems' }).at(-1)
  t.equal(listing?.status, 200)
  t.equal(new URL(listing?.url ?? '', 'http://x').searchParams.get('problemSelector'), 'status("open"),managementZones("Production")', 'the criteria are added to status("open")')

  const production = await open('Failure rate increase', 'Production')
  await loop.advance(INTERVAL)
  t.match(await runsOf(loop, production), [{ state: 'succeeded', action: 'kubernetes.rollback' }], 'a problem the selector selects is taken in and acted on')
  t.equal((await runsOf(loop, staging)).length, 0)
  t.equal(imageOf(loop.k8s.sim.get('Deployment', 'shop', 'checkout')), 'checkout:1.4.1')
})

t.test('the service is down while a problem opens and closes: after start nothing acts on it', async (t) => {
  const loop = await startLoop(t)
  await loop.stop()
  const { problem } = await openProblem(loop, 'Failure rate increase')
  loop.clock.advance(5 * 60_000)
  await loop.dt.sim.resolveProblem(problem.problemId, { notify: false })
  loop.clock.advance(60_000)
  loop.dt.sim.traffic.reset()
  await loop.start()
  await loop.advance(INTERVAL)
  t.equal(await loop.store.notifications.count(), 0, 'nothing taken in')
  t.same(await runsOf(loop, problem), [])
  t.same(loop.comments(problem), [])
  t.equal(changes(loop), 0)
  t.equal(listCalls(loop), 2, 'the pass at start and one more, a list call each')
})

t.test('a problem that opens while the service is down is acted on by the pass at start', async (t) => {
  const loop = await startLoop(t)
  await loop.stop()
  const { problem } = await openProblem(loop, 'Failure rate increase')
  loop.clock.advance(10 * 60_000)
  await loop.start()
  t.match(await runsOf(loop, problem), [{ state: 'succeeded' }], 'acted on as the service came back, before any interval passed')
  t.ok(loop.comments(problem)[0]?.includes(FOUND_BY))
})

t.test('a problem that closes while the service is down: its waiting run is cancelled at start, nothing acts', async (t) => {
  const loop = await startLoop(t, { rules: RESTART('30m', true) })
  const { problem } = await openProblem(loop, 'Crash loop')
  t.equal(await loop.notify(problem), 202)
  await loop.settle()
  const [waiting] = await runsOf(loop, problem)
  t.equal(waiting?.state, 'awaiting_approval')
  await loop.stop()
  await loop.dt.sim.resolveProblem(problem.problemId, { notify: false })
  loop.clock.advance(60_000)
  await loop.start()
  t.match(await loop.store.runs.view(waiting?.id ?? ''), { state: 'cancelled', reason: /resolved before the action started \(found closed by reconciliation with the Problems API\)/ })
  t.match(await loop.store.notifications.listByProblem('problem', problem.problemId), [{ source: 'webhook', state: 'OPEN' }, { source: 'reconcile', state: 'RESOLVED' }])
  t.match(loop.comments(problem).at(-1), /^🚫 kubernetes\.restart cancelled/)
  t.equal(changes(loop), 0, 'nothing touched the workload')
  t.match(await loop.store.problems.get('problem', problem.problemId), { status: 'closed', occurrence: 1 })
  await loop.advance(INTERVAL)
  t.equal((await loop.store.notifications.listByProblem('problem', problem.problemId)).length, 2, 'closed now: not read again')
})

t.test('a problem notified by webhook and found again by reconciliation has one run', async (t) => {
  t.test('the webhook first, then a pass', async (t) => {
    const loop = await startLoop(t)
    const { problem } = await openProblem(loop, 'Failure rate increase')
    t.equal(await loop.notify(problem), 202)
    await loop.settle()
    await loop.advance(INTERVAL)
    t.equal((await runsOf(loop, problem)).length, 1)
    t.equal((await loop.store.notifications.listByProblem('problem', problem.problemId)).length, 1, 'tracked: the pass takes nothing in')
    t.equal(changes(loop), 1)
  })

  t.test('a pass first, then the webhook arrives late', async (t) => {
    const loop = await startLoop(t)
    const { problem } = await openProblem(loop, 'Failure rate increase')
    await loop.advance(INTERVAL)
    t.equal(await loop.notify(problem), 202, 'another body: another notification')
    await loop.settle()
    t.equal((await runsOf(loop, problem)).length, 1, 'the same run keys: one run')
    t.equal(changes(loop), 1, 'one action')
    t.equal(loop.comments(problem).length, 1, 'one comment')
  })

  t.test('the listing comes between the webhook\'s commit and its planning: the problem is left to the webhook', async (t) => {
    const loop = await startLoop(t)
    const { problem } = await openProblem(loop, 'Failure rate increase')
    // Stored as intake stores it, without waking the runner: the pass finds the problem not yet tracked.
    const body = notificationOf(loop.dt, problem).body
    await loop.store.notifications.record(toNewNotification(uuidV7(loop.clock.now(), randomUUID()), 'problem', (parseProblemPayload(body) as { value: ProblemPayload }).value, body))
    // Only the pass wakes the runner: it lists before the notification is planned.
    loop.clock.advance(INTERVAL)
    await loop.settle()
    t.same((await loop.store.notifications.listByProblem('problem', problem.problemId)).map((n) => n.source), ['webhook'], 'nothing taken in beside it')
    const runs = await runsOf(loop, problem)
    t.equal(runs.length, 1, 'one run')
    t.equal(changes(loop), 1, 'one action')
    const comments = loop.comments(problem)
    t.equal(comments.length, 1, 'one comment')
    t.notOk(comments[0]?.includes('Found by'), 'which does not say reconciliation found it: a notification did reach us')
  })
})

t.test('three replicas on one PostgreSQL: one reconciles per interval', { skip: skipWithoutPostgres }, async (t) => {
  const loop = await startLoop(t, { engine: postgresEngine, replicas: 3 })
  const { problem } = await openProblem(loop, 'Failure rate increase')
  for (let i = 1; i <= 3; i++) {
    await loop.advance(INTERVAL)
    t.equal(listCalls(loop), i, `interval ${i}: one list call across the three`)
  }
  const passes = await Promise.all(loop.replicas.map(async (r) => counter(r.app.metrics, 'reconcile', { outcome: 'success' })))
  const skipped = await Promise.all(loop.replicas.map(async (r) => counter(r.app.metrics, 'reconcile', { outcome: 'skipped' })))
  t.equal(passes.reduce((a, b) => a + b, 0), 4, 'four passes in all: at start and one per interval')
  t.equal(skipped.reduce((a, b) => a + b, 0), 2 + 3 * 2, 'every other tick skipped: the turn was taken')
  t.equal((await runsOf(loop, problem)).length, 1, 'the missed problem: one run')
  t.equal(changes(loop), 1, 'one action')

  const leader = passes.findIndex((n) => n > 0)
  await loop.stop(leader)
  await loop.advance(INTERVAL)
  t.equal(listCalls(loop), 4, 'the replica reconciling went away: another takes the next turn')
  await loop.advance(INTERVAL)
  t.equal(listCalls(loop), 5, 'and one per interval still')
})

t.test('a re-opened problem is a new occurrence, judged again by the cooldown', async (t) => {
  /** Acted on, resolved (notified), `after` later re-opened with no notification; then one interval. */
  async function reopened (t: Test, cooldown: string, after: number) {
    const loop = await startLoop(t, { rules: RESTART(cooldown) })
    const { problem } = await openProblem(loop, 'Crash loop')
    await loop.notify(problem)
    await loop.settle()
    t.match(await runsOf(loop, problem), [{ state: 'succeeded', occurrence: 1 }])
    await loop.dt.sim.resolveProblem(problem.problemId, { notify: false })
    await loop.notify(problem)
    await loop.settle()
    t.match(await loop.store.problems.get('problem', problem.problemId), { status: 'closed', occurrence: 1 })
    loop.clock.advance(after)
    t.match(await loop.dt.sim.reopenProblem(problem.problemId, { notify: false }), { outcome: 'reopened' })
    await loop.advance(INTERVAL)
    t.match(await loop.store.problems.get('problem', problem.problemId), { status: 'open', occurrence: 2, source: 'reconcile' }, 'occurrence 2, found by reconciliation')
    return { loop, problem, runs: (await runsOf(loop, problem)).sort((a, b) => a.occurrence - b.occurrence) }
  }

  t.test('the cooldown allows it: it acts again', async (t) => {
    const { loop, problem, runs } = await reopened(t, '5m', 10 * 60_000)
    t.match(runs, [{ occurrence: 1, state: 'succeeded' }, { occurrence: 2, state: 'succeeded' }])
    t.equal(changes(loop), 2, 'restarted again')
    t.ok(loop.comments(problem).at(-1)?.includes(FOUND_BY))
  })

  t.test('the cooldown does not: it stops it, and says so', async (t) => {
    const { loop, problem, runs } = await reopened(t, '30m', 5 * 60_000)
    t.match(runs, [{ occurrence: 1, state: 'succeeded' }, { occurrence: 2, state: 'skipped', reason: /^skipped by cooldown: kubernetes\.restart ran on Deployment shop\/checkout/ }])
    t.equal(changes(loop), 1, 'no second restart')
    t.match(loop.comments(problem).at(-1), /skipped by cooldown/)
  })

  t.test('a second pass takes in nothing more', async (t) => {
    const { loop, problem } = await reopened(t, '5m', 10 * 60_000)
    await loop.advance(INTERVAL)
    t.equal((await loop.store.notifications.listByProblem('problem', problem.problemId)).filter((n) => n.source === 'reconcile').length, 1)
    t.equal(changes(loop), 2)
  })
})

t.test('a problem that started before the store was created is never taken in', async (t) => {
  // The loop's own problem started at 10:15; the store was created five seconds later.
  const loop = await startLoop(t)
  t.ok(loop.problem.startTime < loop.store.createdAt)
  await loop.advance(INTERVAL)
  await loop.advance(INTERVAL)
  t.equal(await loop.store.notifications.count(), 0, 'listed as open, and left alone')
  t.equal(changes(loop), 0)
  t.equal(listCalls(loop), 2)
  t.equal(loop.dt.sim.traffic.find({ operation: 'getProblems' })[0]?.status, 200)
  t.match(loop.dt.sim.traffic.find({ operation: 'getProblems' })[0]?.url, new RegExp(`from=${loop.store.createdAt}&`), 'from: the horizon, nothing tracked being older')
  t.equal(await loop.store.settings.get('reconcile.since'), String(loop.store.createdAt), 'the horizon, written once')
  // Once notified, it is ours: tracked, so later passes read it even though it predates the store.
  await loop.notify()
  await loop.settle()
  const tracked = await loop.store.problems.get('problem', loop.problem.problemId)
  await loop.advance(INTERVAL)
  t.match(loop.dt.sim.traffic.find({ operation: 'getProblems' }).at(-1)?.url, new RegExp(`from=${(tracked?.openedAt ?? 0) - TRACKED_LOOKBACK_MS}&`), 'from reaches back before the oldest problem tracked as open')
})

t.test('Dynatrace answers 429: a short Retry-After is waited for within the pass, a long one moves the next pass', async (t) => {
  const loop = await startLoop(t)
  const { problem } = await openProblem(loop, 'Failure rate increase')
  loop.dt.sim.addFault({ operation: 'getProblems', status: 429, retryAfter: 0, count: 1 })
  await loop.advance(INTERVAL)
  t.same(loop.dt.sim.traffic.find({ operation: 'getProblems' }).map((r) => r.status), [429, 200], 'retried once')
  t.equal((await runsOf(loop, problem)).length, 1, 'and the problem taken in')

  loop.dt.sim.traffic.reset()
  loop.dt.sim.addFault({ operation: 'getProblems', status: 429, retryAfter: 300, count: 1 })
  await loop.advance(INTERVAL)
  t.same(loop.dt.sim.traffic.find({ operation: 'getProblems' }).map((r) => r.status), [429], 'asked to wait five minutes: the pass fails at once')
  t.equal(await counter(loop.app.metrics, 'reconcile', { outcome: 'failure' }), 1, 'counted')
  await loop.advance(INTERVAL)
  await loop.advance(INTERVAL)
  t.equal(listCalls(loop), 1, 'the next two intervals are within the five minutes: no call')
  await loop.advance(60_000)
  t.same(loop.dt.sim.traffic.find({ operation: 'getProblems' }).map((r) => r.status), [429, 200], 'five minutes after it, the next pass')
})

t.test('a problem tracked as open that the API cannot read is left as it is: only a positive CLOSED closes it', async (t) => {
  const loop = await startLoop(t, { rules: RESTART('30m', true) })
  // A 2018-era PID the Problems API v2 does not know (its 404), on a known service.
  const legacy = { ...notificationOf(loop.dt, loop.problem).body as Record<string, unknown>, PID: '9114682195990673984', ProblemID: 'Problem 984' }
  t.equal((await loop.app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload: JSON.stringify(legacy) })).statusCode, 202)
  await loop.settle()
  t.match(await loop.store.problems.get('problem', '9114682195990673984'), { status: 'open' })
  await loop.advance(INTERVAL)
  await loop.advance(INTERVAL)
  t.match(await loop.store.problems.get('problem', '9114682195990673984'), { status: 'open' }, 'still open: a 404 is not a close')
  t.same((await loop.store.notifications.listByProblem('problem', '9114682195990673984')).map((n) => n.source), ['webhook'], 'nothing taken in')
  t.equal(loop.dt.sim.traffic.find({ operation: 'getProblem' }).filter((r) => r.url.includes('9114682195990673984') && r.status === 404).length >= 2, true, 'read on its own each pass')
})
