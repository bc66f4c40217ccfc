import t from 'tap'
import { isTestProblem, isTestSecurity, parseProblemPayload, parseSecurityPayload } from '../../src/domain/payload.js'
import { sample, seedTestCall } from '../helpers/samples.js'

t.test('problem payload', async (t) => {
  t.test('accepts the recommended template rendering and keeps unknown keys', async (t) => {
    const r = parseProblemPayload({ ...sample('problem-open.json'), Extra: 1 })
    t.ok(r.ok)
    if (r.ok) {
      t.equal(r.value.PID, '-6386032669938507213_1634684083930V2')
      t.equal((r.value as Record<string, unknown>).Extra, 1)
      t.notOk(isTestProblem(r.value))
    }
  })

  t.test('accepts the 2018 body with entity-id strings', async (t) => {
    const r = parseProblemPayload(sample('problem-open-legacy-2018.json'))
    t.ok(r.ok)
  })

  t.test('accepts a numeric PID as a string', async (t) => {
    const r = parseProblemPayload({ PID: 42, State: 'OPEN', ImpactedEntities: [] })
    t.same(r.ok && r.value.PID, '42')
  })

  t.test('names each missing required field with the placeholder to add', async (t) => {
    const r = parseProblemPayload({})
    t.same(r, {
      ok: false,
      errors: [
        'Missing PID: add "PID":"{PID}" to the custom payload',
        'Missing State: add "State":"{State}" to the custom payload',
        'Missing ImpactedEntities: add "ImpactedEntities":{ImpactedEntities} to the custom payload',
      ],
    })
  })

  t.test('names each invalid field and item', async (t) => {
    const r = parseProblemPayload({ PID: '', State: 3, ImpactedEntities: ['SERVICE-1', 7, { type: 'HOST' }], ProblemDetailsJSON: 'text', ProblemTitle: 5 })
    t.notOk(r.ok)
    if (!r.ok) {
      t.match(r.errors, [
        /^Invalid PID: /,
        /^Invalid State: expected a string/,
        /^Invalid ImpactedEntities\[1\]: expected an entity id string/,
        /^Invalid ImpactedEntities\[2\]: /,
        /^Invalid ProblemTitle: expected a string/,
        /^Invalid ProblemDetailsJSON: expected a JSON object/,
      ])
      t.equal(r.errors.length, 6)
    }
  })

  t.test('reports a quoted ImpactedEntities placeholder as invalid, not missing', async (t) => {
    const r = parseProblemPayload({ PID: '1', State: 'OPEN', ImpactedEntities: '[{"entity":"HOST-1"}]' })
    t.same(r.ok ? [] : r.errors, ['Invalid ImpactedEntities: expected a JSON array (use {ImpactedEntities} without quotes)'])
  })

  t.test('rejects a body that is not an object', async (t) => {
    t.same(parseProblemPayload([1]), { ok: false, errors: ['Body must be a JSON object'] })
    t.same(parseProblemPayload('x'), { ok: false, errors: ['Body must be a JSON object'] })
  })
})

t.test('test notification detection', async (t) => {
  const docs = parseProblemPayload(sample('test-notification-docs.json'))
  t.ok(docs.ok && isTestProblem(docs.value), 'the documentation test payload is a test')

  const seed = JSON.parse(seedTestCall().body) as Record<string, unknown>
  const seedResult = parseProblemPayload(seed)
  t.same(seedResult.ok ? [] : seedResult.errors, ['Missing PID: add "PID":"{PID}" to the custom payload'], 'the seed call lacks PID')
  const fixed = parseProblemPayload({ ...seed, PID: '99999' })
  t.ok(fixed.ok && isTestProblem(fixed.value), 'the seed call with PID is a test')

  const base = { PID: '5', State: 'OPEN', ImpactedEntities: [{ type: 'HOST', name: 'h', entity: 'HOST-1' }] }
  const cases: Array<[Record<string, unknown>, boolean, string]> = [
    [base, false, 'a real notification'],
    [{ ...base, ProblemTitle: 'Dynatrace problem notification test run' }, true, 'by title'],
    [{ ...base, ProblemID: 'TESTID' }, true, 'by TESTID'],
    [{ ...base, PID: '99999', ProblemID: '999' }, true, 'by PID 99999 and ProblemID 999'],
    [{ ...base, PID: '99999', ProblemID: 'P-1' }, false, 'PID 99999 alone is not a test'],
    [{ ...base, ImpactedEntities: ['SERVICE-XXXXXXXXXXXXX'] }, true, 'by entity id'],
  ]
  for (const [body, expected, name] of cases) {
    const r = parseProblemPayload(body)
    t.equal(r.ok && isTestProblem(r.value), expected, name)
  }
})

t.test('security payload', async (t) => {
  const r = parseSecurityPayload(sample('security-notification.json'))
  t.ok(r.ok)
  if (r.ok) {
    t.equal(r.value.Exposed, true)
    t.equal(r.value.SensitiveDataReachable, false)
    t.notOk(isTestSecurity(r.value))
  }
  t.same(parseSecurityPayload({}), {
    ok: false,
    errors: [
      'Missing SecurityProblemId: add "SecurityProblemId":"{SecurityProblemId}" to the custom payload',
      'Missing AffectedEntities: add "AffectedEntities":{AffectedEntities} to the custom payload',
    ],
  })
  const bad = parseSecurityPayload({ SecurityProblemId: 'S-1', AffectedEntities: [{ name: 'x' }], Exposed: 'maybe' })
  t.match(bad.ok ? [] : bad.errors, [/^Invalid AffectedEntities\[0\]/, /^Invalid Exposed: expected "true", "false" or ""/])
  const objects = parseSecurityPayload({ SecurityProblemId: 'S-1', AffectedEntities: [{ id: 'PROCESS_GROUP-1' }, { entity: 'HOST-XXXXXXXXXXXXX' }], Exposed: '' })
  t.ok(objects.ok && objects.value.Exposed === undefined)
  t.ok(objects.ok && isTestSecurity(objects.value))
})
