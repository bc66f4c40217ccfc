import t from 'tap'
import { nextAfterStep, nextStep, renderWriteBack, type CommentRun } from '../../../src/domain/writeback/index.js'
import { afterStep } from '../../../src/domain/decide/verdict.js'

const run: CommentRun = {
  id: '6f1c2d3e-0000-4000-8000-000000000001',
  state: 'awaiting_approval',
  reason: null,
  kind: 'problem',
  problemId: '-7079974447799175602_1752266005311V2',
  displayId: 'P-240733',
  entityId: 'SERVICE-52AC624D70C377BC',
  rule: 'rollback-bad-deploy',
  action: 'kubernetes.rollback',
  step: 0,
  target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
  dryRun: false,
  approvedBy: null,
  attempts: 0,
  outcome: null,
  occurrence: 1,
}
const security: CommentRun = { ...run, kind: 'security', problemId: '2145998104236664519', displayId: 'S-17' }
const request = { steps: 2, adminConfigured: true, publicUrl: 'https://dtr.example.com', expiresInMs: 60 * 60_000 }
const verification = { verdict: 'resolved', at: '2024-05-01T10:25:00.000Z', note: 'the problem was resolved 10 min after the action' } as const

t.test('a problem gets comments, a security problem events: one choice for every message', async (t) => {
  const messages = [
    { type: 'result', ctx: { steps: 2 } },
    { type: 'verdict', verification, steps: 2, next: undefined },
    { type: 'approval', request },
  ] as const
  for (const m of messages) {
    const comment = renderWriteBack({ ...m, run })
    t.equal(comment.channel, 'comment', `${m.type} on a problem`)
    t.equal(comment.key, `${m.type}:${run.id}`)
    t.ok(comment.channel === 'comment' && comment.message.endsWith(comment.marker), `${m.type}: the comment ends with its marker`)
    const event = renderWriteBack({ ...m, run: security })
    t.equal(event.channel, 'event', `${m.type} on a security problem`)
    t.equal(event.channel === 'event' && event.event.properties['dt-remediator.run'], run.id, `${m.type}: the event carries the run id`)
  }
  const markers = new Set(messages.map((m) => renderWriteBack({ ...m, run }).marker))
  t.equal(markers.size, 3, 'each message has its own marker')
})

t.test('an approval request says how to approve, or that nobody can', async (t) => {
  const rendered = renderWriteBack({ type: 'approval', run, request })
  t.ok(rendered.channel === 'comment')
  if (rendered.channel !== 'comment') return
  t.match(rendered.message, `Approve or reject in the console: https://dtr.example.com/ui/runs/${run.id}`)
  t.match(rendered.message, `https://dtr.example.com/api/runs/${run.id}/approve`)
  t.matchSnapshot(rendered.message, 'admin API on')
  const off = renderWriteBack({ type: 'approval', run: { ...run, target: null, entityId: '*' }, request: { ...request, adminConfigured: false, publicUrl: undefined } })
  t.matchSnapshot(off.channel === 'comment' ? off.message : off, 'admin API off, no target')
  t.matchSnapshot(renderWriteBack({ type: 'approval', run: security, request }), 'security: an event')
})

t.test('a verdict on a security problem is an event with the verdict and its note', async (t) => {
  t.matchSnapshot(renderWriteBack({ type: 'verdict', run: security, verification, steps: 2, next: undefined }), 'security verdict')
})

t.test('many runs with one outcome share one summary comment, under the first run\'s result marker', async (t) => {
  const skipped = { ...run, state: 'skipped' as const, target: null, reason: 'no target: rule target: none given; tags: no k8s.namespace.name' }
  const runs = Array.from({ length: 12 }, (_, i) => ({ ...skipped, id: `run-${i}`, entityId: `SERVICE-${i}`, ...(i % 4 === 0 ? { reason: 'no target: `weird`\nname' } : {}) }))
  const [first, ...rest] = runs
  if (first === undefined) throw new Error('no runs')
  // A security problem's runs are never summarised; the summary is a comment whatever it is given.
  const rendered = renderWriteBack({ type: 'summary', runs: [first, ...rest], steps: 1 })
  t.equal(rendered.key, 'result:run-0')
  t.equal(rendered.channel, 'comment')
  t.matchSnapshot(rendered.channel === 'comment' ? rendered.message : rendered, '12 entities, two reasons')
})

t.test('the Next: line says what follows a step', async (t) => {
  const o = { step: 0, hasNext: true, nextAction: 'kubernetes.scale', verifyAfterMs: 10 * 60_000 }
  t.equal(nextAfterStep(afterStep('succeeded', null, true), o), 'verifying in 10 min; if the problem is still open, kubernetes.scale (step 2)')
  t.equal(nextAfterStep(afterStep('succeeded', null, false), { ...o, hasNext: false }), 'verifying in 10 min')
  t.equal(nextAfterStep(afterStep('skipped', 'action', true), { ...o, nextAction: undefined }), 'the action had nothing to do: the next step runs at once (the next step, step 2)')
  t.equal(nextAfterStep(afterStep('skipped', 'gate', true), o), 'the ladder stops: a safety gate skipped it')
  t.equal(nextStep(1, 'kubernetes.scale'), 'kubernetes.scale (step 3)')
})
