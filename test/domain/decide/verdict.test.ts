import t from 'tap'
import { afterStep, decideVerdict } from '../../../src/domain/decide/verdict.js'
import { humanDuration } from '../../../src/domain/rules/duration.js'

t.test('what follows a step', async (t) => {
  t.same(afterStep('succeeded', null, true), { next: 'verify' })
  t.same(afterStep('dry_run', null, false), { next: 'verify' })
  t.match(afterStep('skipped', 'action', true), { next: 'step', note: /nothing to do: the next step runs at once/ })
  t.match(afterStep('skipped', 'action', false), { next: 'stop', note: /last step/ })
  t.match(afterStep('skipped', 'gate', true), { next: 'stop', note: /a safety gate skipped it/ })
  t.match(afterStep('skipped', 'target', true), { next: 'stop', note: /no target/ })
  t.match(afterStep('failed', null, true), { next: 'stop', note: /ended failed/ })
  t.match(afterStep('cancelled', null, true), { next: 'stop' })
  t.match(afterStep('expired', null, true), { next: 'stop' })
})

t.test('the verdict', async (t) => {
  t.match(decideVerdict('closed', true, 8 * 60_000), { verdict: 'resolved', escalate: false, note: 'the problem was resolved 8 min after the action' })
  t.match(decideVerdict('open', true, 10 * 60_000), { verdict: 'unresolved', escalate: true, note: /still open 10 min after the action: escalating/ })
  t.match(decideVerdict('open', false, 10 * 60_000), { verdict: 'unresolved', escalate: false, note: /last step/ })
  t.match(decideVerdict('unreadable', true, 60_000), { verdict: 'unknown', escalate: false, note: /could not be read.*the ladder stops/ }, 'only a problem read as open escalates')
})

t.test('durations read like a person writes them', async (t) => {
  t.equal(humanDuration(0), '0 s')
  t.equal(humanDuration(42), '42 ms')
  t.equal(humanDuration(1_400), '1.4 s')
  t.equal(humanDuration(3_000), '3 s')
  t.equal(humanDuration(45_000), '45 s')
  t.equal(humanDuration(12 * 60_000), '12 min')
  t.equal(humanDuration(125 * 60_000), '2 h 5 min')
  t.equal(humanDuration(3 * 3_600_000), '3 h')
  t.equal(humanDuration(27 * 3_600_000 * 2), '2 d 6 h')
  t.equal(humanDuration(-5), '0 s')
})
