import { createHash, randomUUID } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { canonicalJson, dedupeKey, toNewNotification, uuidV7 } from '../../src/domain/notification.js'
import { parseProblemPayload, parseSecurityPayload, type ProblemPayload, type SecurityPayload } from '../../src/domain/payload.js'
import { sample } from '../helpers/samples.js'

t.test('canonicalJson', async (t) => {
  t.test('sorts object keys at every depth, including inside arrays', async (t) => {
    const value = { b: 1, a: { d: [{ z: 1, y: 2 }, 3], c: null } }
    t.equal(canonicalJson(value), '{"a":{"c":null,"d":[{"y":2,"z":1},3]},"b":1}')
  })

  t.test('keeps array order, which is meaningful', async (t) => {
    t.not(canonicalJson([1, 2]), canonicalJson([2, 1]))
  })

  t.test('writes scalars as JSON does, and undefined as null', async (t) => {
    t.equal(canonicalJson('a"b'), '"a\\"b"')
    t.equal(canonicalJson(1.5), '1.5')
    t.equal(canonicalJson(false), 'false')
    t.equal(canonicalJson(null), 'null')
    t.equal(canonicalJson(undefined), 'null')
  })

  t.test('is valid JSON that parses back to the same value', async (t) => {
    const body = sample('problem-open.json')
    t.same(JSON.parse(canonicalJson(body)), body)
  })

  // Every stored dedupe key was made from this text: a resend after an upgrade must find its
  // notification. The first implementation, kept here as the reference:
  const first = (value: unknown): string => {
    if (Array.isArray(value)) return `[${value.map(first).join(',')}]`
    if (value !== null && typeof value === 'object') {
      const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${first((value as Record<string, unknown>)[k])}`)
      return `{${entries.join(',')}}`
    }
    return JSON.stringify(value) ?? 'null'
  }

  t.test('writes exactly the text of its first implementation, so stored dedupe keys still match', async (t) => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (value) => {
      if (canonicalJson(value) !== first(value)) throw new Error(`differs for ${String(first(value))}`)
    }), { numRuns: 5000 })
    const odd = [[1, , 2], { a: undefined, b: () => 1 }, [undefined], { '': 1, ' ': 2, é: 3, Z: 4, a: 5, 10: 6, 9: 7 }, '\u2028\ud800', -0, 1e21] // eslint-disable-line no-sparse-arrays
    odd.forEach((value, i) => { t.equal(canonicalJson(value), first(value), `odd value ${i}`) })
    const body = sample('problem-open.json')
    t.equal(dedupeKey('problem', 'p', 'OPEN', body), createHash('sha256').update(first(['problem', 'p', 'OPEN', body])).digest('base64url'), 'the key is the same SHA-256 as before')
  })
})

t.test('dedupeKey', async (t) => {
  const body = { PID: 'p-1', State: 'OPEN', ImpactedEntities: [{ entity: 'SERVICE-1', type: 'SERVICE' }] }
  const key = dedupeKey('problem', 'p-1', 'OPEN', body)

  t.test('is a SHA-256 digest in base64url', async (t) => {
    t.match(key, /^[A-Za-z0-9_-]{43}$/)
  })

  t.test('is the same for the same content in another key order', async (t) => {
    const reordered = JSON.parse('{"ImpactedEntities":[{"type":"SERVICE","entity":"SERVICE-1"}],"State":"OPEN","PID":"p-1"}') as unknown
    t.equal(dedupeKey('problem', 'p-1', 'OPEN', reordered), key)
  })

  t.test('differs for another state, kind, problem or body', async (t) => {
    t.not(dedupeKey('problem', 'p-1', 'RESOLVED', body), key, 'state')
    t.not(dedupeKey('security', 'p-1', 'OPEN', body), key, 'kind')
    t.not(dedupeKey('problem', 'p-2', 'OPEN', body), key, 'problem')
    t.not(dedupeKey('problem', 'p-1', 'OPEN', { ...body, ImpactedEntities: [{ entity: 'SERVICE-2', type: 'SERVICE' }] }), key, 'body')
    t.not(dedupeKey('problem', 'p-1', undefined, body), key, 'no state')
  })
})

t.test('toNewNotification', async (t) => {
  t.test('a problem keeps its PID, display id, state and body', async (t) => {
    const body = sample('problem-open.json')
    const parsed = parseProblemPayload(body)
    t.ok(parsed.ok)
    const n = toNewNotification('id-1', 'problem', (parsed as { value: ProblemPayload }).value, body)
    t.same(n, {
      id: 'id-1',
      source: 'webhook',
      kind: 'problem',
      problemId: '-6386032669938507213_1634684083930V2',
      displayId: 'P-211020',
      state: 'OPEN',
      dedupeKey: dedupeKey('problem', '-6386032669938507213_1634684083930V2', 'OPEN', body),
      body,
    })
  })

  t.test('a problem without ProblemID has no display id', async (t) => {
    const body = { PID: 42, State: 'RESOLVED', ImpactedEntities: [] }
    const parsed = parseProblemPayload(body)
    t.ok(parsed.ok)
    const n = toNewNotification('id-2', 'problem', (parsed as { value: ProblemPayload }).value, body)
    t.match(n, { problemId: '42', state: 'RESOLVED', displayId: undefined })
  })

  t.test('the resolved notification of the same problem is another notification', async (t) => {
    const open = sample('problem-open.json')
    const resolved = sample('problem-resolved.json')
    const a = toNewNotification('a', 'problem', (parseProblemPayload(open) as { value: ProblemPayload }).value, open)
    const b = toNewNotification('b', 'problem', (parseProblemPayload(resolved) as { value: ProblemPayload }).value, resolved)
    t.equal(a.problemId, b.problemId)
    t.not(a.dedupeKey, b.dedupeKey)
  })

  t.test('a security problem uses its SecurityProblemId as problem and display id, with no state', async (t) => {
    const body = sample('security-notification.json')
    const parsed = parseSecurityPayload(body)
    t.ok(parsed.ok)
    const payload = (parsed as { value: SecurityPayload }).value
    const n = toNewNotification('id-3', 'security', payload, body)
    t.same(n, {
      id: 'id-3',
      source: 'webhook',
      kind: 'security',
      problemId: payload.SecurityProblemId,
      displayId: payload.SecurityProblemId,
      state: undefined,
      dedupeKey: dedupeKey('security', payload.SecurityProblemId, undefined, body),
      body,
    })
    t.ok(payload.SecurityProblemId.length > 0)
  })
})

t.test('uuidV7 is a time-ordered RFC 9562 UUID', async (t) => {
  const at = Date.UTC(2025, 0, 1, 12, 0, 0, 1)
  const id = uuidV7(at, 'ffffffff-ffff-4fff-bfff-ffffffffffff')
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'version 7, variant 10')
  t.equal(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16), at, 'the first 48 bits are the time in ms')
  t.equal(id, '019421bc-aa01-7fff-bfff-ffffffffffff')
  t.match(uuidV7(at, randomUUID()), /^019421bc-aa01-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  const earlier = uuidV7(at - 1, 'ffffffff-ffff-4fff-bfff-ffffffffffff')
  const later = uuidV7(at + 1, '00000000-0000-4000-8000-000000000000')
  t.ok(earlier < id && id < later, 'ids sort by time as text')
})
