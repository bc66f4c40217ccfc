/**
 * check-config and simulate. simulate runs against both simulators and must have no side
 * effects: the Dynatrace simulator's request log holds only GETs, the Kubernetes simulator's only
 * GETs and dryRun=All requests, and neither world changed.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { checkConfig } from '../../src/cli/check-config.js'
import type { Output } from '../../src/cli/output.js'
import { simulate } from '../../src/cli/simulate-run.js'
import { openSqlite } from '../../src/store/engine/sqlite.js'
import { createStore } from '../../src/store/index.js'
import { TEST_TOKEN } from '../helpers/dynatrace.js'
import { runCliProcess } from '../helpers/server-process.js'
import { imageOf, rolloutCheckoutHistory, startKubernetesSim } from '../helpers/kubernetes.js'
import { NOW, startDynatraceWorld } from '../helpers/world.js'

function capture (): Output & { stdout: string, stderr: string } {
  const io = { stdout: '', stderr: '', color: false, out: (s: string) => { io.stdout += s }, err: (s: string) => { io.stderr += s } }
  return io
}

const RULES = `mode: live
rules:
  - name: rollback-bad-deploy
    on: problem
    when: { entityTypes: [SERVICE, PROCESS_GROUP_INSTANCE, CLOUD_APPLICATION], severities: [ERROR, PERFORMANCE], tags: ["env:production"], deployedWithin: 30m }
    actions:
      - use: kubernetes.rollback
  - name: restart-crashing-process
    on: problem
    when: { entityTypes: [PROCESS_GROUP_INSTANCE, CLOUD_APPLICATION], severities: [AVAILABILITY] }
    actions:
      - use: kubernetes.restart
  - name: tell-slack
    on: problem
    actions:
      - use: notify.slack
        with: { webhookUrl: "\${env:SLACK_WEBHOOK_URL}" }
`

async function worlds (t: Test) {
  const dt = await startDynatraceWorld(t)
  const k8s = await startKubernetesSim(t)
  rolloutCheckoutHistory(k8s, NOW)
  dt.sim.sim.traffic.reset()
  const dir = t.testdir({ 'rules.yaml': RULES, 'payload.json': JSON.stringify(dt.notification.body), 'kubeconfig.yaml': k8s.sim.kubeconfig() })
  const env = {
    DTR_DYNATRACE_URL: dt.sim.url,
    DTR_DYNATRACE_TOKEN: TEST_TOKEN,
    DTR_KUBECONFIG: join(dir, 'kubeconfig.yaml'),
    DTR_RULES_FILE: join(dir, 'rules.yaml'),
    DTR_DATA_DIR: join(dir, 'data'),
    SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/SECRETSECRET',
  }
  const before = { k8s: JSON.stringify(k8s.sim.snapshot()), image: imageOf(k8s.sim.snapshot().find((o) => o.kind === 'Deployment')) }
  return { dt, k8s, dir, env, before }
}

function assertNoSideEffects (t: Test, w: Awaited<ReturnType<typeof worlds>>): void {
  const dtWrites = w.dt.sim.sim.traffic.requests.filter((r) => r.method !== 'GET')
  t.same(dtWrites.map((r) => `${r.method} ${r.url}`), [], 'Dynatrace: only reads (no comment, no event)')
  t.ok(w.dt.sim.sim.traffic.requests.length > 0, 'Dynatrace was read')
  const k8sWrites = w.k8s.sim.requests.filter((r) => r.method !== 'GET')
  t.ok(k8sWrites.length > 0, 'the rollback was sent to Kubernetes in dry run')
  t.same(k8sWrites.filter((r) => !r.dryRun).map((r) => `${r.method} ${r.path}`), [], 'Kubernetes: every write was dryRun=All')
  t.equal(JSON.stringify(w.k8s.sim.snapshot()), w.before.k8s, 'the cluster is as it was')
}

t.test('simulate explains per rule, per entity and per run, against both simulators, with no side effect', async (t) => {
  const w = await worlds(t)
  const io = capture()
  const code = await simulate(join(w.dir, 'payload.json'), {}, w.env, io, () => NOW + 30_000)
  t.equal(code, 0, io.stderr)
  const out = io.stdout
  const svc = w.dt.checkout.service.entityId
  t.match(out, `Problem ${w.dt.problem.displayId} (${w.dt.problem.problemId}): Failure rate increase`)
  t.match(out, `enriched from Dynatrace (${w.dt.sim.url}`)
  t.match(out, /mode: live \(the rules file\); simulate runs every action in dry-run/)
  t.match(out, /✓ rollback-bad-deploy\s+matched/)
  t.match(out, new RegExp(`${svc}\\s+SERVICE checkout\\s+→ Deployment shop/checkout\\s+\\(workload entity: CLOUD_APPLICATION-`))
  t.match(out, /deployment event \S+ "Deploy checkout 1\.4\.2", 12m before the problem/)
  t.match(out, /step 0 kubernetes\.rollback on Deployment shop\/checkout: Dry run: would roll back Deployment shop\/checkout.*checkout:1\.4\.2 → checkout:1\.4\.1/)
  t.match(out, /✗ restart-crashing-process\s+severity ERROR not in \[AVAILABILITY\]/)
  t.match(out, /step 0 notify\.slack once for the problem: Dry run: would post to Slack \(https:\/\/hooks\.slack\.com\/services\/\[redacted\]\)/)
  t.notMatch(out, /SECRETSECRET/, 'the webhook URL never shows')
  t.match(out, /targets: 1 distinct \(Deployment shop\/checkout\); maxTargetsPerProblem 5/)
  t.match(out, /step 0 kubernetes\.rollback on Deployment shop\/checkout: Dry run[^\n]*\n\s+gates: all pass — it would run now/)
  t.match(out, /gates read from nothing: no store in DTR_DATA_DIR \S+ yet, so no cooldown or budget has been spent/)
  t.notOk(out.includes('\u001b['), 'no colour when not on a terminal')
  assertNoSideEffects(t, w)
})

t.test('simulate shows the gates a run would meet now, from the store beside the service', async (t) => {
  const w = await worlds(t)
  // What a running service left in its store: a live rollback of shop/checkout 10 minutes ago, and the kill switch on.
  const store = await createStore(await openSqlite(w.env.DTR_DATA_DIR), { clock: { now: () => NOW + 20_000, sleep: async () => {} } })
  await store.runs.insert([{ id: 'earlier-run', key: 'earlier', kind: 'problem', problemId: 'P-OLD', displayId: 'P-1', occurrence: 1, notificationId: 'n', rule: 'rollback-bad-deploy', step: 0, entityId: 'SERVICE-1', action: 'kubernetes.rollback', target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, state: 'queued', reason: null, skipSource: null, dryRun: false, params: {}, plan: null, facts: {}, settings: { timeoutMs: 1, verifyAfterMs: 1, cooldownMs: 1, approvalTimeoutMs: 1, approval: false, steps: 1 }, note: 'earlier' }])
  await store.runs.transition('earlier-run', ['queued'], 'running', 'go', { startedAt: NOW + 20_000 })
  await store.runs.transition('earlier-run', ['running'], 'succeeded', 'done')
  await store.close()
  const io = capture()
  t.equal(await simulate(join(w.dir, 'payload.json'), {}, w.env, io, () => NOW + 30_000), 0, io.stderr)
  t.match(io.stdout, /gates: it would be skipped by cooldown: kubernetes\.rollback ran on Deployment shop\/checkout 10 s ago \(run earlier-run\), cooldown 30 min/)
  t.match(io.stdout, /gates read from the store \(DTR_DATA_DIR /)
  const json = capture()
  await simulate(join(w.dir, 'payload.json'), { json: true }, w.env, json, () => NOW + 30_000)
  const gates = (JSON.parse(json.stdout) as { gates: { runs: Record<string, { decision: string }> } }).gates.runs
  t.ok(Object.values(gates).some((g) => g.decision === 'skip'), '--json carries the gates too')
})

t.test('simulate --json gives the plan and the dry-run outcomes for tools', async (t) => {
  const w = await worlds(t)
  const io = capture()
  t.equal(await simulate(join(w.dir, 'payload.json'), { json: true }, w.env, io, () => NOW + 30_000), 0, io.stderr)
  const result = JSON.parse(io.stdout) as { plan: { rules: Array<{ rule: string, matched: boolean, runs: Array<{ runKey: string, status: string }> }> }, dryRuns: Record<string, { outcome?: { status: string, summary: string } }> }
  const rollback = result.plan.rules.find((r) => r.rule === 'rollback-bad-deploy')
  t.equal(rollback?.matched, true)
  const key = rollback?.runs[0]?.runKey ?? ''
  t.match(result.dryRuns[key]?.outcome, { status: 'succeeded', summary: /^Dry run: would roll back Deployment shop\/checkout/ })
  t.notMatch(io.stdout, /SECRETSECRET/)
  assertNoSideEffects(t, w)
})

t.test('simulate without DTR_DYNATRACE_URL says it used the notification alone', async (t) => {
  const dir = t.testdir({ 'payload.json': JSON.stringify({ PID: 'P1', State: 'OPEN', ProblemSeverity: 'AVAILABILITY', ImpactedEntities: [{ type: 'PROCESS_GROUP_INSTANCE', name: 'pod', entity: 'PROCESS_GROUP_INSTANCE-0000000000000001' }] }), 'rules.yaml': RULES })
  const io = capture()
  t.equal(await simulate(join(dir, 'payload.json'), { rules: join(dir, 'rules.yaml') }, { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/x/y/z' }, io), 0, io.stderr)
  t.match(io.stdout, /enriched from the notification alone/)
  t.match(io.stdout, /note: DTR_DYNATRACE_URL is not set/)
  t.match(io.stdout, /✓ restart-crashing-process/)
  t.match(io.stdout, /step 0 kubernetes\.restart for PROCESS_GROUP_INSTANCE-0000000000000001: skipped — no target: rule target: none given; tags: PROCESS_GROUP_INSTANCE-0000000000000001 was not read \(DTR_DYNATRACE_URL is not set\)/)
})

t.test('simulate refuses a bad payload as the webhook would, and explains a test notification', async (t) => {
  const dir = t.testdir({ 'bad.json': '{"State":"OPEN"}', 'test.json': JSON.stringify({ PID: '99999', ProblemID: '999', State: 'OPEN', ImpactedEntities: [] }) })
  const bad = capture()
  t.equal(await simulate(join(dir, 'bad.json'), {}, {}, bad), 1)
  t.match(bad.stderr, /the webhook would answer 400: Missing PID: add "PID":"\{PID\}" to the custom payload; Missing ImpactedEntities/)
  const test = capture()
  t.equal(await simulate(join(dir, 'test.json'), {}, {}, test), 0)
  t.match(test.stdout, /This is Dynatrace's test notification/)
})

t.test('check-config: exit 0 with a summary, exit 1 with every error, --strict refuses warnings', async (t) => {
  const dir = t.testdir({
    'good.yaml': RULES,
    'bad.yaml': 'rules:\n  - name: r\n    on: problem\n    when: { deployedWithin: 10x }\n    actions:\n      - use: http.request\n        with: { url: "https://not-allowed.example.org/x" }\n',
  })
  const good = capture()
  t.equal(await checkConfig(join(dir, 'good.yaml'), {}, {}, good), 0, good.stderr)
  t.match(good.stdout, /good\.yaml: OK\n {2}mode: live \(the rules file\)\n {2}rules: 3 \(2 enabled; disabled: tell-slack\)\n {2}actions used: kubernetes\.restart, kubernetes\.rollback, notify\.slack\n {2}custom actions loaded: none\n {2}warning: .*good\.yaml:13:5: rules\[2\]: rule tell-slack is disabled/)
  const strict = capture()
  t.equal(await checkConfig(join(dir, 'good.yaml'), { strict: true }, {}, strict), 1)
  t.match(strict.stderr, /2 warnings, refused by --strict/)
  t.equal(await checkConfig(join(dir, 'good.yaml'), { strict: true }, { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/a/b/c' }, capture()), 0, 'no warning once set')
  const live = capture()
  t.equal(await checkConfig(join(dir, 'good.yaml'), {}, { DTR_MODE: 'dry-run' }, live), 0)
  t.match(live.stdout, /mode: dry-run \(DTR_MODE\)/)

  const bad = capture()
  t.equal(await checkConfig(join(dir, 'bad.yaml'), {}, {}, bad), 1)
  t.match(bad.stderr, /bad\.yaml: 2 errors\n {2}.*bad\.yaml:4:29: rules\[0\]\.when\.deployedWithin: "10x" is not a duration.*\n {2}.*bad\.yaml:7:22: rules\[0\]\.actions\[0\]\.with\.url: host not allowed: not-allowed\.example\.org is not in DTR_HTTP_ALLOWED_HOSTS \(hooks\.slack\.com\)/)
  const allowed = capture()
  t.equal(await checkConfig(join(dir, 'bad.yaml'), {}, { DTR_HTTP_ALLOWED_HOSTS: 'not-allowed.example.org' }, allowed), 1)
  t.notMatch(allowed.stderr, /host not allowed/, 'allowed once listed in DTR_HTTP_ALLOWED_HOSTS')

  const missing = capture()
  t.equal(await checkConfig(join(dir, 'nope.yaml'), {}, {}, missing), 1)
  t.match(missing.stderr, /nope\.yaml: cannot read the rules file \(ENOENT\)/)
})

t.test('the executable: check-config passes on the shipped rules; simulate --json runs against the simulators', async (t) => {
  const run = runCliProcess
  const shipped = await run(['check-config', 'config/remediation.yaml'], {})
  t.equal(shipped.code, 0, shipped.stderr)
  t.match(shipped.stdout, /^config\/remediation\.yaml: OK/)

  const w = await worlds(t)
  writeFileSync(join(w.dir, 'payload.json'), JSON.stringify(w.dt.notification.body))
  const sim = await run(['simulate', join(w.dir, 'payload.json'), '--json'], w.env)
  t.equal(sim.code, 0, sim.stderr)
  t.match(JSON.parse(sim.stdout), { plan: { rules: [{ rule: 'rollback-bad-deploy', matched: true }, { rule: 'restart-crashing-process', matched: false }, { rule: 'tell-slack', matched: true }] } })
  assertNoSideEffects(t, w)
})
