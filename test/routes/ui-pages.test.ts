/**
 * The console's pages as pure functions (issue 22): the report with its server-drawn chart per
 * rule, and a problem's explanations, from a ConsoleData that another part of the service will
 * provide (src/routes/ui/data.ts); without one, each page says this version has none.
 */
import t from 'tap'
import type { Report } from '../../src/routes/ui/data.js'
import { problemPage, reportPage, runPage } from '../../src/routes/ui/pages.js'

const ctx = { who: 'alice', csrf: 'csrf-token', now: Date.parse('2024-05-01T12:00:00Z') }
const row = (mode: 'live' | 'dry-run', p50: number | null, p90: number | null, n: number) => ({
  rule: 'rollback-bad-deploy', action: 'kubernetes.rollback', mode, runs: { succeeded: n, failed: 1 }, verdicts: { resolved: n, unresolved: 1, unknown: 0 }, timeToResolveSeconds: { n, p50, p90 },
})

t.test('the report: one chart per rule and action, live beside dry-run, numbers in words too', async (t) => {
  const report: Report = { since: '2024-04-01T12:00:00.000Z', until: '2024-05-01T12:00:00.000Z', rows: [row('live', 240, 600, 4), row('dry-run', 900, null, 2), { ...row('live', null, null, 0), rule: '<img src=x onerror=alert(1)>' }] }
  const html = reportPage(ctx, report, '30d')
  t.equal(html.match(/<svg /g)?.length, 2, 'a chart per rule and action')
  t.match(html, /<figure class="chart"><svg viewBox="0 0 560 \d+" role="img" aria-label="Time to resolve for rollback-bad-deploy · kubernetes\.rollback: live p50: 4 min \(n=4\); live p90: 10 min \(n=4\); dry-run p50: 15 min \(n=2\); dry-run p90: no data \(n=2\)"/)
  t.match(html, /<rect x="110" y="8" width="\d+" height="20" fill="#0550ae"(\/>|><\/rect>)/, 'live bars in blue')
  t.match(html, /fill="#8c959f"/, 'dry-run bars in grey')
  t.notMatch(html, /<img/, 'a hostile rule name is text')
  t.match(html, /&lt;img src=x onerror=alert\(1\)>/)
  t.match(html, /<option value="30d" selected>30d<\/option>/)

  t.match(reportPage(ctx, undefined, '30d'), /No report is available in this version of dt-remediator/)
  t.match(reportPage(ctx, { ...report, rows: [] }, '7d'), /No runs started since 7d/)
})

t.test('a problem page: per notification, why each rule did or did not match, and each entity\'s target', async (t) => {
  const base = { problemId: 'PID-1', status: 'open', occurrence: 1, runs: [], dynatraceLink: undefined, title: 'Failure <b>rate</b>', notifications: [{ id: 'n1', state: 'OPEN', receivedAt: ctx.now - 60_000, source: 'webhook', displayId: 'P-1' }] }
  const explained = problemPage(ctx, {
    ...base,
    explanations: new Map([['n1', {
      rules: [{ rule: 'rollback-bad-deploy', matched: true }, { rule: 'restart-leaking-service', matched: false, failed: 'title does not match "memory"' }],
      entities: [{ entityId: 'SERVICE-1', target: 'Deployment shop/checkout', source: 'workload' }, { entityId: 'HOST-1', tried: 'no Kubernetes workload on this host' }],
      read: { source: 'notification', notes: ['DTR_DYNATRACE_URL is not set', 'entity <img src=x onerror=alert(1)>: tags not read'] },
    }]]),
  })
  t.match(explained, /Rule <strong>rollback-bad-deploy<\/strong>: matched/)
  t.match(explained, /Rule <strong>restart-leaking-service<\/strong>: did not match — title does not match &quot;memory&quot;/)
  t.match(explained, /Entity SERVICE-1: Deployment shop\/checkout from workload/)
  t.match(explained, /Entity HOST-1: no target \(no Kubernetes workload on this host\)/)
  t.match(explained, /Failure &lt;b>rate&lt;\/b>/)
  t.match(explained, /Read from the notification alone: DTR_DYNATRACE_URL is not set; entity &lt;img src=x onerror=alert\(1\)>: tags not read/, 'what enrichment read, a hostile note as text')
  t.notMatch(explained, /<img/)
  t.notMatch(problemPage(ctx, { ...base, explanations: new Map([['n1', { rules: [], entities: [] }]]) }), /Read from/, 'nothing said when nothing was kept')
  t.match(problemPage(ctx, { ...base, explanations: undefined }), /This version keeps no explanation of what each rule matched/)
  t.match(problemPage(ctx, { ...base, explanations: new Map() }), /No explanation kept for this notification/)
})

t.test('a run page: a rollback\'s plan as revisions, its outcome with the images', async (t) => {
  const at = '2024-05-01T11:00:00.000Z'
  const run = { id: 'r1', state: 'succeeded' as const, reason: null, kind: 'problem' as const, problemId: 'PID-1', displayId: 'P-1', entityId: 'SERVICE-1', rule: 'rollback-bad-deploy', action: 'kubernetes.rollback', step: 0, target: { kind: 'Deployment' as const, namespace: 'shop', name: 'checkout' }, dryRun: false, approvedBy: null, createdAt: at, updatedAt: at, timeline: [], outcome: { status: 'succeeded' as const, summary: 'Rolled back Deployment shop/checkout from revision 2 to revision 1: checkout:1.4.2 → checkout:1.4.1', details: {} }, verification: null, occurrence: 1, attempts: 1 }
  const html = runPage(ctx, { run, plan: { source: { kind: 'ReplicaSet', name: 'checkout-abc' }, toRevision: 1, fromRevision: 2, chosenBy: 'deploymentEvent' }, gates: [], comments: [], dynatraceLink: 'https://abc.live.dynatrace.com/#problems/problemdetails;pid=PID-1', problemTitle: 'Failure rate increase' })
  t.match(html, /<strong>revision 2 → revision 1 \(chosen by deploymentEvent\)<\/strong>/)
  t.match(html, /checkout:1\.4\.2 → checkout:1\.4\.1/)
  t.match(html, /href="https:\/\/abc\.live\.dynatrace\.com\/#problems\/problemdetails;pid=PID-1"/)
})
