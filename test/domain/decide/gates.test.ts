import t from 'tap'
import { decideGates, evaluateGates, type GateFacts } from '../../../src/domain/decide/gates.js'

const now = Date.parse('2024-05-01T12:00:00Z')
const MIN = 60_000
const base: GateFacts = {
  now,
  action: 'kubernetes.restart',
  target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
  problemLabel: 'problem P-1',
  paused: null,
  mode: 'live',
  ruleDryRun: false,
  scope: { allow: undefined, deny: ['kube-system', 'dt-remediator'], skipAnnotation: false },
  targets: { count: 1, max: 5 },
  cooldown: { windowMs: 60 * MIN, last: null },
  budgets: [{ scope: 'global', key: '*', max: 20, perMs: 60 * MIN, used: 3 }, { scope: 'namespace', key: 'shop', max: 5, perMs: 60 * MIN, used: 1 }],
  lockedBy: null,
  approval: { required: false, approvedBy: null },
}

t.test('all gates open: run live', async (t) => {
  t.match(decideGates(base), { decision: 'run', dryRun: false, notes: [] })
  t.same(evaluateGates(base).map((r) => r.gate), ['pause', 'mode', 'scope', 'maxTargets', 'cooldown', 'recurrence', 'budget', 'lock', 'approval'], 'in SPEC order')
})

t.test('each gate alone stops a live run with its reason and evidence', async (t) => {
  const cases: Array<[string, Partial<GateFacts>, object]> = [
    ['kill switch', { paused: { since: now - 5 * MIN, by: 'alice', reason: 'incident review' } }, { decision: 'skip', gate: 'pause', reason: 'skipped by the kill switch: paused by alice 5 min ago (incident review)' }],
    ['denied namespace', { target: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' } }, { decision: 'skip', gate: 'scope', reason: 'skipped by scope: namespace kube-system is denied (kubernetes.namespaces.deny)' }],
    ['not allowed namespace', { scope: { allow: ['payments'], deny: [], skipAnnotation: false } }, { decision: 'skip', gate: 'scope', reason: 'skipped by scope: namespace shop is not in kubernetes.namespaces.allow [payments]' }],
    ['skip annotation', { scope: { allow: undefined, deny: [], skipAnnotation: true } }, { decision: 'skip', gate: 'scope', reason: /annotated dt-remediator\.io\/skip: "true"/ }],
    ['too many targets', { targets: { count: 7, max: 5 } }, { decision: 'skip', gate: 'maxTargets', reason: 'skipped by maxTargetsPerProblem: problem P-1 resolves to 7 targets, more than 5' }],
    ['cooldown', { cooldown: { windowMs: 60 * MIN, last: { runId: 'r-7', at: now - 12 * MIN } } }, { decision: 'skip', gate: 'cooldown', reason: 'skipped by cooldown: kubernetes.restart ran on Deployment shop/checkout 12 min ago (run r-7), cooldown 60 min' }],
    ['budget', { budgets: [{ scope: 'namespace', key: 'shop', max: 3, perMs: 60 * MIN, used: 3 }] }, { decision: 'skip', gate: 'budget', reason: 'skipped by budget: 3 live runs in namespace shop in the last 60 min, at most 3' }],
    ['global budget', { budgets: [{ scope: 'global', key: '*', max: 20, perMs: 60 * MIN, used: 20 }] }, { decision: 'skip', gate: 'budget', reason: /20 live runs in all in the last 60 min, at most 20/ }],
    ['lock', { lockedBy: 'r-9' }, { decision: 'wait', gate: 'lock', reason: 'waiting for the lock on Deployment shop/checkout, held by run r-9' }],
    ['approval', { approval: { required: true, approvedBy: null } }, { decision: 'approval', reason: 'awaiting approval to run kubernetes.restart on Deployment shop/checkout' }],
  ]
  for (const [name, change, expected] of cases) t.match(decideGates({ ...base, ...change }), expected, name)
})

t.test('an expired cooldown and an approved run pass', async (t) => {
  t.match(decideGates({ ...base, cooldown: { windowMs: 60 * MIN, last: { runId: 'r-7', at: now - 61 * MIN } } }), { decision: 'run' })
  t.match(decideGates({ ...base, approval: { required: true, approvedBy: 'bob' } }), { decision: 'run', dryRun: false })
})

t.test('in combination, the first gate in SPEC order decides', async (t) => {
  t.match(decideGates({ ...base, paused: { since: now, by: 'ci', reason: 'freeze' }, lockedBy: 'r-1', approval: { required: true, approvedBy: null } }), { gate: 'pause' })
  t.match(decideGates({ ...base, cooldown: { windowMs: 60 * MIN, last: { runId: 'r-7', at: now } }, lockedBy: 'r-1' }), { gate: 'cooldown' })
  t.match(decideGates({ ...base, lockedBy: 'r-1', approval: { required: true, approvedBy: null } }), { decision: 'wait' }, 'the lock before approval')
})

t.test('a cooldown without a target is per problem', async (t) => {
  t.match(decideGates({ ...base, action: 'notify.slack', target: null, cooldown: { windowMs: 30 * MIN, last: { runId: 'r-2', at: now - MIN } } }), { decision: 'skip', reason: 'skipped by cooldown: notify.slack ran on problem P-1 60 s ago (run r-2), cooldown 30 min' })
})

t.test('dry run: every gate evaluated and reported, none used, no waiting for approval', async (t) => {
  const facts: GateFacts = {
    ...base,
    mode: 'dry-run',
    cooldown: { windowMs: 60 * MIN, last: { runId: 'r-7', at: now - 12 * MIN } },
    lockedBy: 'r-9',
    approval: { required: true, approvedBy: null },
  }
  const decision = decideGates(facts)
  t.match(decision, { decision: 'run', dryRun: true })
  t.same(decision.decision === 'run' ? decision.notes : [], [
    'would be skipped by cooldown: kubernetes.restart ran on Deployment shop/checkout 12 min ago (run r-7), cooldown 60 min',
    'would be held by lock: waiting for the lock on Deployment shop/checkout, held by run r-9',
    'would be held for approval: awaiting approval to run kubernetes.restart on Deployment shop/checkout',
  ])
  t.match(decideGates({ ...base, ruleDryRun: true }), { decision: 'run', dryRun: true, notes: [] }, 'the rule\'s dryRun forces a dry run in live mode')
  t.match(decideGates({ ...facts, paused: { since: now, by: 'alice', reason: 'freeze' } }), { decision: 'skip', gate: 'pause' }, 'the kill switch stops dry runs too')
})

t.test('recurrence: count or more other problems fixed within the window skip the run, fewer or count 0 do not; a dry run reports it', async (t) => {
  const problems = [{ problemId: '-1', displayId: 'P-3' }, { problemId: '-2', displayId: 'P-2' }, { problemId: '-3', displayId: null }]
  const recurrence = { count: 3, perMs: 24 * 60 * MIN, problems }
  t.match(decideGates({ ...base, recurrence }), { decision: 'skip', gate: 'recurrence', reason: `skipped by recurrence: ${base.action} succeeded on Deployment shop/checkout for 3 problems in the last 24 h (P-3, P-2, -3); the fix does not last, a person should look` })
  t.match(decideGates({ ...base, recurrence: { ...recurrence, problems: problems.slice(0, 2) } }), { decision: 'run', dryRun: false })
  t.match(decideGates({ ...base, recurrence: { ...recurrence, count: 0 } }), { decision: 'run', dryRun: false }, 'count 0 is off')
  t.match(decideGates({ ...base, target: null, recurrence }), { decision: 'run' }, 'actions without a target are not counted')
  t.match(decideGates({ ...base, mode: 'dry-run', recurrence }), { decision: 'run', dryRun: true, notes: [/^would be skipped by recurrence: .* succeeded on Deployment shop\/checkout for 3 problems in the last 24 h/] })
  t.match(decideGates({ ...base, recurrence, cooldown: { windowMs: 60 * MIN, last: { runId: 'r-7', at: now - MIN } } }), { gate: 'cooldown' }, 'cooldown comes first')
})
