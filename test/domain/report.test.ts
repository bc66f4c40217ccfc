/** The effectiveness report's pure computation (SPEC 11): which runs count, nearest-rank percentiles. */
import t from 'tap'
import { buildReport, nearestRank, type ReportRun } from '../../src/domain/report.js'
import { endTimeOf } from '../../src/runner/evidence.js'

const at = Date.parse('2026-01-01T00:00:00Z')
const run = (o: Partial<ReportRun>): ReportRun => ({ rule: 'r', action: 'kubernetes.restart', dryRun: false, state: 'succeeded', verdict: null, startedAt: at, resolvedAt: null, ...o })

t.test('nearest rank', async (t) => {
  t.equal(nearestRank([], 50), null)
  t.equal(nearestRank([7], 90), 7)
  t.equal(nearestRank([1, 2, 3, 4], 50), 2)
  t.equal(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9)
  t.equal(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90), 10)
})

t.test('only succeeded (live) and dry_run (dry-run) runs whose problem resolved count; rows per rule, action, mode', async (t) => {
  const report = buildReport([
    run({ resolvedAt: at + 60_000, verdict: 'resolved' }),
    run({ resolvedAt: at + 180_000, verdict: 'resolved' }),
    run({ state: 'failed', resolvedAt: at + 5_000 }),
    run({ state: 'skipped', startedAt: null, resolvedAt: at + 5_000 }),
    run({ resolvedAt: null, verdict: 'unknown' }),
    run({ resolvedAt: at - 5_000 }),
    run({ dryRun: true, state: 'dry_run', resolvedAt: at + 600_000, verdict: 'unresolved' }),
    run({ dryRun: true, state: 'succeeded', resolvedAt: at + 1_000 }),
    run({ action: 'kubernetes.scale', state: 'cancelled', startedAt: null }),
  ], { since: at - 1000, until: at + 1000 })
  t.same(report.rows, [
    { rule: 'r', action: 'kubernetes.restart', mode: 'live', runs: { succeeded: 4, failed: 1, skipped: 1 }, verdicts: { resolved: 2, unresolved: 0, unknown: 1 }, timeToResolveSeconds: { n: 3, p50: 60, p90: 180 } },
    { rule: 'r', action: 'kubernetes.restart', mode: 'dry-run', runs: { dry_run: 1, succeeded: 1 }, verdicts: { resolved: 0, unresolved: 1, unknown: 0 }, timeToResolveSeconds: { n: 1, p50: 600, p90: 600 } },
    { rule: 'r', action: 'kubernetes.scale', mode: 'live', runs: { cancelled: 1 }, verdicts: { resolved: 0, unresolved: 0, unknown: 0 }, timeToResolveSeconds: { n: 0, p50: null, p90: null } },
  ])
  t.equal(report.since, new Date(at - 1000).toISOString())
})

t.test('the problem\'s end from a body: ProblemDetailsJSONv2.endTime, Gen 3 event.end; -1 (open) is none', async (t) => {
  t.equal(endTimeOf({ ProblemDetailsJSONv2: { endTime: at } }), at)
  t.equal(endTimeOf({ ProblemDetailsJSONv2: { endTime: -1 } }), undefined)
  t.equal(endTimeOf({ 'event.end': '2026-01-01T00:00:00.000000000Z' }), at)
  t.equal(endTimeOf({ 'event.end': String(at * 1e6) }), at)
  t.equal(endTimeOf('nope'), undefined)
})

t.test('the table: live beside dry-run, "too few runs to compare" under 10 on a side', async (t) => {
  const { renderReport } = await import('../../src/cli/report-run.js')
  const many = (dryRun: boolean, k: number, step: number): ReportRun[] => Array.from({ length: k }, (_, i) => run({ dryRun, state: dryRun ? 'dry_run' : 'succeeded', resolvedAt: at + (i + 1) * step }))
  const few = renderReport(buildReport([...many(false, 9, 60_000), ...many(true, 12, 600_000)], { since: at, until: at }))
  t.match(few, 'r / kubernetes.restart: too few runs to compare (live n=9, dry-run n=12; 10 each are needed)')
  const enough = renderReport(buildReport([...many(false, 10, 60_000), ...many(true, 10, 60_000)], { since: at, until: at }))
  t.match(enough, 'r / kubernetes.restart: live is not faster: median 5 min against 5 min without the action')
  t.match(renderReport(buildReport([], { since: at, until: at })), 'No runs in this window.')
})
