/**
 * One contract over every registered notification kind, the way ESLint's RuleTester runs over
 * every rule: a kind added to the registry is held to it without a test of its own.
 */
import t from 'tap'
import { ALL_KINDS, isNotificationKind, KINDS, kindLabel, kindOfBody, kindTitle, notificationState } from '../../../src/domain/kinds/index.js'
import { RUNNER_KINDS, runnerKind } from '../../../src/runner/kinds/index.js'
import { notificationFacts } from '../../../src/runner/enrich.js'
import { sample } from '../../helpers/samples.js'

/** A body Dynatrace sends for each kind (the samples under ../shared/dynatrace/samples). */
const SAMPLES: Readonly<Record<string, string>> = { problem: 'problem-open.json', security: 'security-notification.json' }

for (const kind of ALL_KINDS) {
  t.test(`the ${kind.kind} kind`, async (t) => {
    t.equal(KINDS[kind.kind], kind, 'is registered under its own name')
    t.ok(isNotificationKind(kind.kind))
    t.equal(runnerKind(kind.kind).domain, kind, 'has its runner half, over the same module')
    t.ok(kind.label.length > 0 && kindLabel(kind.kind) === kind.label && kindTitle(kind.kind).toLowerCase() === kind.label)
    t.ok(kind.writeBack === 'comment' || kind.writeBack === 'event')
    t.match(kind.uiPath('a b'), /^\/#.*a%20b/, 'links to Dynatrace with the id encoded')

    const file = SAMPLES[kind.kind]
    if (file === undefined) return t.fail(`no sample body for ${kind.kind}: add one to SAMPLES`)
    const body = sample(file)
    const parsed = kind.parse(body)
    if (!parsed.ok) return t.fail(parsed.errors.join('; '))
    t.notOk(kind.isTest(parsed.value), 'a real notification is not a test call')
    const identity = kind.identity(parsed.value)
    t.ok(identity.problemId.length > 0)
    const facts = kind.facts(parsed.value)
    t.equal(facts.problem.kind, kind.kind)
    t.equal(facts.problem.id, identity.problemId)
    t.ok(facts.entities.length > 0, 'the sample names entities')
    t.same(notificationFacts({ kind: kind.kind, problemId: identity.problemId, body, receivedAt: 0 }).entities.map((e) => e.id), facts.entities.map((e) => e.id),
      'the runner reads a stored body with the same schema')

    t.equal(kindOfBody(body), kind, 'a body file of this kind is recognised as one (simulate)')

    const refused = kind.parse({})
    t.equal(refused.ok, false, 'an empty body is refused, naming the fields to add')
  })
}

t.test('reconciliation lists every registered kind', async (t) => {
  t.same(RUNNER_KINDS.map((k) => k.domain.kind).sort(), ALL_KINDS.map((k) => k.kind).sort())
  t.equal(new Set(RUNNER_KINDS.map((k) => k.reportName)).size, RUNNER_KINDS.length, 'each under its own report name')
})

t.test('a name that is no kind is not one', async (t) => {
  t.notOk(isNotificationKind('toString'), 'not even an Object.prototype name')
  t.notOk(isNotificationKind('Problem'))
})

t.test('a stored notification without State stands for what its kind says', async (t) => {
  t.equal(notificationState({ kind: 'security', state: null }), 'OPEN')
  t.equal(notificationState({ kind: 'problem', state: null }), undefined)
  t.equal(notificationState({ kind: 'problem', state: 'CLOSED' }), 'RESOLVED')
})

t.test('the Gen 3 fields the runner reads are declared in the schema, and refuse nothing', async (t) => {
  const problem = KINDS.problem
  const gen3 = { PID: 'P', State: 'ACTIVE', ImpactedEntities: ['SERVICE-1'], 'dt.davis.is_duplicate': 'true', 'event.category': 'SLOWDOWN', root_cause_entity_id: 'SERVICE-1', 'dt.davis.mute.status': 'MUTED' }
  const parsed = problem.parse(gen3)
  if (!parsed.ok) return t.fail(parsed.errors.join('; '))
  t.match(problem.facts(parsed.value).problem, { duplicate: true, severity: 'PERFORMANCE', rootCause: { id: 'SERVICE-1', type: 'SERVICE' }, muted: true })
  // What the hand-written reader ignored, the schema ignores: an intake that took a body still takes it.
  const odd = problem.parse({ ...gen3, 'dt.davis.is_duplicate': { nested: 1 }, isDuplicate: 7, 'event.start': [], root_cause_entity_id: false })
  if (!odd.ok) return t.fail(odd.errors.join('; '))
  t.match(problem.facts(odd.value).problem, { duplicate: undefined, startTime: undefined, rootCause: undefined })
})

t.test('a stored body its schema refuses gives only what the store row says', async (t) => {
  const facts = notificationFacts({ kind: 'problem', problemId: 'P-9', body: { ImpactedEntities: 'not a list' }, receivedAt: 0 })
  t.match(facts.problem, { kind: 'problem', id: 'P-9', title: undefined })
  t.same(facts.entities, [])
})
