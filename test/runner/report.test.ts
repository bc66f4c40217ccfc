/**
 * The effectiveness report (SPEC 11, issue 21), end to end: a history built with the simulators
 * and the test's clock — a live rule and a dry-run rule, problems resolving at known times — and
 * the report's numbers checked exactly, through GET /api/report, the metrics and the CLI.
 */
import t from 'tap'
import type { SimProblem } from '../../sim/dynatrace/index.js'
import { report } from '../../src/cli/report-run.js'
import { startLoop, type Loop } from '../helpers/runner.js'

const MIN = 60_000
const admin = { authorization: 'Bearer alice-admin-token' }

const RULES = `mode: live
defaults: { cooldown: 0s, verifyAfter: 10m, maxRecurrences: { count: 0, per: 24h } }
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

/** Opens a problem, lets its run happen now, and resolves it `after` ms later (never when undefined); then lets verifications finish. */
async function episode (loop: Loop, p: SimProblem, after: number | undefined): Promise<void> {
  await loop.notify(p)
  await loop.settle()
  if (after !== undefined) {
    await loop.advance(after)
    await loop.dt.sim.resolveProblem(p.problemId, { notify: false })
    await loop.notify(p)
    await loop.settle()
  }
  await loop.advance(60 * MIN)
}

t.test('live against dry-run: runs by state, verdicts, and nearest-rank time to resolve, exactly', async (t) => {
  const loop = await startLoop(t, { rules: RULES })
  // Live: resolved 2 min and 4 min after the restart (before verifyAfter: resolved), 30 min after
  // (verified unresolved at 10 min, resolved later), and one never resolved.
  await episode(loop, loop.problem, 2 * MIN)
  await episode(loop, await loop.addProblem('checkout'), 4 * MIN)
  await episode(loop, await loop.addProblem('checkout'), 30 * MIN)
  await episode(loop, await loop.addProblem('checkout'), undefined)
  // Dry-run: what happens without the action: resolved 20 and 40 min after it was evaluated.
  await episode(loop, await loop.addProblem('checkout', 'Memory saturation'), 20 * MIN)
  await episode(loop, await loop.addProblem('checkout', 'Memory saturation'), 40 * MIN)

  const res = await loop.app.inject({ method: 'GET', url: '/api/report?since=30d', headers: admin })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.until, new Date(loop.clock.now()).toISOString())
  t.equal(body.since, new Date(loop.clock.now() - 30 * 24 * 60 * MIN).toISOString())
  t.same(body.rows, [
    { rule: 'restart', action: 'kubernetes.restart', mode: 'live', runs: { succeeded: 4 }, verdicts: { resolved: 2, unresolved: 2, unknown: 0 }, timeToResolveSeconds: { n: 3, p50: 240, p90: 1800 } },
    { rule: 'restart-shadow', action: 'kubernetes.restart', mode: 'dry-run', runs: { dry_run: 2 }, verdicts: { resolved: 0, unresolved: 2, unknown: 0 }, timeToResolveSeconds: { n: 2, p50: 1200, p90: 2400 } },
  ])

  // A window that starts after the first three live runs leaves them out.
  const recent = (await loop.app.inject({ method: 'GET', url: '/api/report?since=4h', headers: admin })).json()
  t.same(recent.rows.map((r: { rule: string, runs: unknown }) => [r.rule, r.runs]), [['restart', { succeeded: 1 }], ['restart-shadow', { dry_run: 2 }]])
  t.equal((await loop.app.inject({ method: 'GET', url: '/api/report?since=soon', headers: admin })).statusCode, 400)
  t.equal((await loop.app.inject({ method: 'GET', url: '/api/report' })).statusCode, 401)

  const metrics = (await loop.app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, 'dtr_time_to_resolve_seconds_count{rule="restart",action="kubernetes.restart",mode="live"} 3')
  t.match(metrics, 'dtr_time_to_resolve_seconds_sum{rule="restart",action="kubernetes.restart",mode="live"} 2160')
  t.match(metrics, 'dtr_time_to_resolve_seconds_count{rule="restart-shadow",action="kubernetes.restart",mode="dry-run"} 2')
  t.match(metrics, 'dtr_verdicts_total{rule="restart",action="kubernetes.restart",verdict="resolved"} 2')
  t.match(metrics, 'dtr_verdicts_total{rule="restart",action="kubernetes.restart",verdict="unresolved"} 2')

  // The CLI, from the running service.
  await loop.app.listen({ port: 0, host: '127.0.0.1' })
  const address = loop.app.server.address()
  const url = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : ''
  let out = ''
  const io = { out: (s: string) => { out += s }, err: (s: string) => { out += s }, color: false }
  t.equal(await report({ since: '30d', url, token: 'alice-admin-token' }, {}, io), 0)
  t.match(out, /^RULE\s+ACTION\s+LIVE RUNS\s+VERDICTS R\/U\/\?\s+LIVE TIME TO RESOLVE\s+DRY-RUN RUNS/m)
  t.match(out, /^restart\s+kubernetes\.restart\s+4 \(4 succeeded\)\s+2\/2\/0\s+n=3 p50 4 min p90 30 min\s+–\s+–\s+–$/m)
  t.match(out, /^restart-shadow\s+kubernetes\.restart\s+–\s+–\s+–\s+2 \(2 dry_run\)\s+0\/2\/0\s+n=2 p50 20 min p90 40 min$/m)
  t.match(out, 'restart / kubernetes.restart: too few runs to compare: no dry-run runs (a dryRun: true twin of the rule gives the baseline)')
  out = ''
  t.equal(await report({ since: '30d', url, token: 'alice-admin-token', json: true }, {}, io), 0)
  t.same(JSON.parse(out).rows, body.rows, '--json prints the API\'s report')
  out = ''
  t.equal(await report({ since: '30d', url, token: 'wrong' }, {}, io), 1)
  t.match(out, /^report: .* answered 401/)
  t.equal(await report({ since: 'a month', url, token: 'x' }, {}, io), 2)
})
