/**
 * The compiled fast path (src/domain/fast-parse.ts) against zod itself: over generated bodies —
 * the payloads' own fields with values of every JSON type, blank and padded strings, PIDs past
 * the length limit, own `__proto__` keys, extra keys — every answer other than NOT_SURE is
 * exactly zod's output (the same keys in the same order, the same values), and NOT_SURE comes
 * for every body zod refuses. And it is not vacuous: the real samples and most generated valid
 * bodies take the fast path.
 */
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import { z } from 'zod'
import { compileFastParse, NOT_SURE, type FastParse } from '../../src/domain/fast-parse.js'
import { affectedEntitySchema, impactedEntitySchema, problemPayloadSchema, securityPayloadSchema } from '../../src/domain/payload.js'
import { decisionBody, pauseBody, problemParams, runListQuery, runParams } from '../../src/routes/api/schemas.js'
import { reportQuery } from '../../src/routes/api/evidence-schemas.js'
import { sample } from '../helpers/samples.js'

/** The same keys in the same order, recursively, and the same values (isDeepStrictEqual ignores order). */
function identical (a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => identical(x, b[i]))
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return isDeepStrictEqual(ka, kb) && ka.every((k) => identical((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return Object.is(a, b)
}

/** One body: the fast path's answer agrees with zod's. Returns whether the fast path answered. */
function agrees (fast: FastParse, schema: z.ZodType, body: unknown): boolean {
  const answer = fast(body)
  const zod = schema.safeParse(body)
  if (answer === NOT_SURE) return false
  if (!zod.success) throw new Error(`the fast path accepted a body zod refuses: ${JSON.stringify(body)}`)
  if (!identical(answer, zod.data)) throw new Error(`the fast path's output differs from zod's for ${JSON.stringify(body)}: ${JSON.stringify(answer)} vs ${JSON.stringify(zod.data)}`)
  return true
}

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', ' ', '  x  ', '\u2028', '\t\n', 'OPEN', 'RESOLVED', 'true', 'false', 'TESTID', '99999', 'HOST-XXXXXXXXXXXXX', 'SERVICE-1125C375A187D27A', 'MUTED', ' muted '),
  fc.string({ minLength: 250, maxLength: 270 })
)
const flag = fc.oneof(fc.constantFrom('true', 'false', '', true, false), text)
const scalar = fc.oneof(text, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null))
const entity = fc.oneof(
  text,
  fc.record({ entity: text, type: fc.option(text, { nil: undefined }), name: fc.option(scalar, { nil: undefined }), id: fc.option(text, { nil: undefined }) }, { requiredKeys: [] }),
  scalar
)
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: fc.array(entity, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 3 }) }
)

/**
 * Bodies over a schema's own keys (each present or not) plus stray keys, sometimes with an own
 * `__proto__` key. Each value is mostly of a type its field takes (so that many bodies are
 * valid and the outputs are compared), sometimes of any type.
 */
function bodies (shape: Record<string, z.ZodType>): fc.Arbitrary<unknown> {
  const likely = (field: z.ZodType): fc.Arbitrary<unknown> =>
    field.safeParse('x').success ? text : field.safeParse('true').success ? flag : field.safeParse({}).success ? fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 3 }) : field.safeParse([]).success ? fc.array(entity, { maxLength: 4 }) : value
  const own = fc.record(Object.fromEntries(Object.entries(shape).map(([k, field]) => [k, fc.oneof({ weight: 12, arbitrary: likely(field) }, { weight: 1, arbitrary: value })])), { requiredKeys: [] })
  const stray = fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 })
  return fc.tuple(own, stray, fc.boolean(), fc.integer({ min: 0, max: 9 })).map(([o, s, first, proto]) => {
    const merged = first ? { ...s, ...o } : { ...o, ...s }
    // JSON.parse makes `__proto__` an own key, as a hostile body would carry it.
    return proto === 0 ? JSON.parse(JSON.stringify(merged).replace(/^\{/, '{"__proto__":{"x":1},').replace(/,\}$/, '}')) as unknown : merged
  })
}

/** Mostly-valid bodies: the required fields right, the rest drawn as above. */
function validish (shape: Record<string, z.ZodType>, required: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.tuple(bodies(shape), fc.record(required)).map(([b, r]) => (typeof b === 'object' && b !== null ? { ...b, ...r } : r))
}

const problemShape = problemPayloadSchema.shape as unknown as Record<string, z.ZodType>
const securityShape = securityPayloadSchema.shape as unknown as Record<string, z.ZodType>

t.test('the payload schemas compile', async (t) => {
  for (const [name, schema] of Object.entries({ problemPayloadSchema, securityPayloadSchema, impactedEntitySchema, affectedEntitySchema })) {
    t.type(compileFastParse(schema), 'function', name)
  }
})

for (const generate of [true, false]) {
  const form = generate ? 'generated objects' : 'closures'
  t.test(`problem bodies (${form}): the fast path gives exactly zod's output, or defers to it`, async (t) => {
    const fast = compileFastParse(problemPayloadSchema, { generate }) as FastParse
    let answered = 0
    fc.assert(fc.property(bodies(problemShape), (body) => { if (agrees(fast, problemPayloadSchema, body)) answered++ }), { numRuns: 3000 })
    const valid = validish(problemShape, {
      PID: fc.oneof(text, fc.integer()),
      State: fc.constantFrom('OPEN', 'RESOLVED'),
      ImpactedEntities: fc.array(fc.oneof(fc.constantFrom('HOST-1', ' HOST-2 '), fc.record({ entity: fc.constantFrom('SERVICE-1', ' s '), name: fc.string({ maxLength: 4 }) })), { maxLength: 3 }),
    })
    let validAnswered = 0
    fc.assert(fc.property(valid, (body) => { if (agrees(fast, problemPayloadSchema, body)) validAnswered++ }), { numRuns: 3000 })
    t.ok(answered > 0, `random bodies: the fast path answered ${answered} of 3000`)
    t.ok(validAnswered > 300, `mostly-valid bodies: the fast path answered ${validAnswered} of 3000`)
  })

  t.test(`security bodies (${form}): the fast path gives exactly zod's output, or defers to it`, async (t) => {
    const fast = compileFastParse(securityPayloadSchema, { generate }) as FastParse
    const required = Object.fromEntries(Object.entries(securityShape)
      .filter(([, field]) => !field.safeParse(undefined).success)
      .map(([k, field]) => [k, k === 'AffectedEntities'
        ? fc.array(fc.oneof(fc.constant('HOST-1'), fc.record({ id: fc.constant('PROCESS_GROUP-1'), type: scalar })), { maxLength: 3 })
        : fc.oneof(text, fc.integer())]))
    let answered = 0
    fc.assert(fc.property(fc.oneof(bodies(securityShape), validish(securityShape, required)), (body) => { if (agrees(fast, securityPayloadSchema, body)) answered++ }), { numRuns: 3000 })
    t.ok(answered > 50, `the fast path answered ${answered} of 3000`)
  })
}

t.test('the real samples take the fast path, with zod\'s output', async (t) => {
  const problem = compileFastParse(problemPayloadSchema) as FastParse
  const security = compileFastParse(securityPayloadSchema) as FastParse
  for (const name of ['problem-open.json', 'problem-resolved.json', 'problem-open-legacy-2018.json', 'test-notification-docs.json']) {
    t.ok(agrees(problem, problemPayloadSchema, sample(name)), name)
  }
  t.ok(agrees(security, securityPayloadSchema, sample('security-notification.json')), 'security-notification.json')
})

t.test('what it does not compile, it leaves to zod', async (t) => {
  t.equal(compileFastParse(z.string().email()), undefined, 'a string format')
  t.equal(compileFastParse(z.object({ a: z.string() }).strict()), undefined, 'a strict object')
  t.equal(compileFastParse(z.object({ a: z.string().default('x') })), undefined, 'a default')
  t.equal(compileFastParse(z.coerce.number()), undefined, 'a coercion')
  const asyncRefine = compileFastParse(z.string().refine(async () => true)) as FastParse
  t.equal(asyncRefine('a'), NOT_SURE, 'an async refine is zod\'s to run')
  const refined = compileFastParse(z.string().refine((v) => v.length > 2 ? 'yes' : false)) as FastParse
  t.equal(refined('abcd'), NOT_SURE, 'a refine answering other than true is zod\'s to judge')
  t.equal(refined('ab'), NOT_SURE)
  const transformed = compileFastParse(z.string().transform(async (v) => v)) as FastParse
  t.equal(transformed('a'), NOT_SURE, 'a transform answering with a promise')
  const strip = compileFastParse(z.object({ a: z.string() })) as FastParse
  t.same(strip({ a: 'x', b: 1 }), { a: 'x' }, 'a stripping object drops extra keys, as zod')
  t.equal(strip({}), NOT_SURE, 'an absent required key is zod\'s to word')
})

t.test('where the runtime refuses code from strings, objects stay closures, with the same answers', async (t) => {
  // What --disallow-code-generation-from-strings does to `new Function`.
  const original = globalThis.Function
  let refusals = 0
  globalThis.Function = function refused () { refusals++; throw new EvalError('Code generation from strings disallowed for this context') } as unknown as FunctionConstructor
  let fast: FastParse
  try {
    fast = compileFastParse(problemPayloadSchema) as FastParse
  } finally {
    globalThis.Function = original
  }
  t.ok(refusals > 0, `code generation was asked for and refused (${refusals} objects)`)
  t.type(fast, 'function', 'still compiled')
  for (const name of ['problem-open.json', 'test-notification-docs.json']) t.ok(agrees(fast, problemPayloadSchema, sample(name)), name)
  t.equal(fast({ State: 'OPEN', ImpactedEntities: [] }), NOT_SURE, 'an absent PID is zod\'s to word')
})

t.test('the admin API\'s schemas: the fast path agrees with zod where it compiles', async (t) => {
  let compiled = 0
  for (const [name, schema] of Object.entries({ runListQuery, runParams, decisionBody, problemParams, pauseBody, reportQuery })) {
    const fast = compileFastParse(schema)
    if (fast === undefined) continue
    compiled++
    fc.assert(fc.property(bodies(schema.shape as unknown as Record<string, z.ZodType>), (body) => { agrees(fast, schema, body) }), { numRuns: 500 })
    t.pass(`${name} agrees`)
  }
  t.ok(compiled >= 2, `${compiled} of 6 compile`)
})
