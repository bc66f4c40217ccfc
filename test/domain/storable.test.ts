import t from 'tap'
import fc from 'fast-check'
import { mayBeUnstorable, unstorableFields } from '../../src/domain/storable.js'

const deep = (depth: number): unknown => {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

t.test('unstorableFields', async (t) => {
  t.same(unstorableFields({ PID: 'P1', ImpactedEntities: [{ entity: 'S-1', name: 'café ✓ 𝄞' }], n: 1, b: true, z: null }), [], 'ordinary JSON is storable')
  t.same(unstorableFields({ a: deep(63) }), [], '64 levels in all')
  t.same(unstorableFields({ a: deep(64) }), ['Invalid a: nested deeper than 64 levels'])
  t.same(unstorableFields({ a: deep(100_000) }), ['Invalid a: nested deeper than 64 levels'], 'any depth, without a stack overflow')
  t.same(unstorableFields(deep(70)), ['Invalid 0: nested deeper than 64 levels'], 'an array body names its first index')
  t.same(unstorableFields({ a: 'x\u0000' }), ['Invalid a: contains \\u0000, which cannot be stored'])
  t.same(unstorableFields({ a: [{ b: '\udc00' }] }), ['Invalid a[0].b: contains a lone UTF-16 surrogate, which cannot be stored'])
  t.same(unstorableFields('\u0000'), ['Invalid body: contains \\u0000, which cannot be stored'])
  t.same(unstorableFields({ 'k\ud800': 1 }), ['Invalid key "k\\ud800": it contains a lone UTF-16 surrogate, which cannot be stored'])
  t.equal(unstorableFields({ a: '\u0000', b: '\u0000', c: '\u0000', d: '\u0000', e: '\u0000', f: '\u0000' }).length, 5, 'at most five messages')
  t.same(unstorableFields({ a: deep(70), b: deep(70) }), ['Invalid a: nested deeper than 64 levels', 'Invalid b: nested deeper than 64 levels'], 'one message per field')
})

t.test('mayBeUnstorable: false only for text whose body unstorableFields passes', async (t) => {
  t.test('a \\u escape or deep nesting sends the body to the walk', async (t) => {
    t.ok(mayBeUnstorable('{"PID":"a\\u0000"}'))
    t.ok(mayBeUnstorable('{"PID":"\\ud800"}'))
    t.ok(mayBeUnstorable(`${'['.repeat(65)}${']'.repeat(65)}`))
    t.notOk(mayBeUnstorable(`${'['.repeat(64)}${']'.repeat(64)}`))
    // An escaped backslash followed by a plain u is walked too (true means "walk it"), and passes.
    t.ok(mayBeUnstorable('{"PID":"a\\\\u0000"}'))
    t.same(unstorableFields(JSON.parse('{"PID":"a\\\\u0000"}') as unknown), [])
    t.notOk(mayBeUnstorable('{"PID":"99999","State":"OPEN","ImpactedEntities":[]}'))
  })

  t.test('agrees with unstorableFields on any JSON (property)', async (t) => {
    const anyString = fc.string({ unit: fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udfff', '\\', 'u', '{', '['), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })) })
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, anyString, fc.integer(), fc.constant(null), fc.array(tie('node')), fc.dictionary(anyString, tie('node'))),
    })).node
    fc.assert(fc.property(value, fc.integer({ min: 1, max: 6 }), (v, maxDepth) => {
      const text = JSON.stringify(v)
      if (!mayBeUnstorable(text, maxDepth)) t.same(unstorableFields(JSON.parse(text) as unknown, maxDepth), [], text)
    }), { numRuns: 2000 })
  })
})
