/**
 * The coalescer (src/dynatrace/coalesce.ts): reads of one group go out at once while few are in
 * flight, and together while Dynatrace is busy; never more than a request holds. No timers: the
 * test answers each request when it chooses.
 */
import t from 'tap'
import { Coalescer } from '../../src/dynatrace/coalesce.js'

interface Call { group: string, keys: string[], asks: unknown[][], answer: (value: string) => void, fail: (err: Error) => void }

function harness (maxInFlight = 1, capacity = 100) {
  const calls: Call[] = []
  const coalescer = new Coalescer<unknown, string>({
    maxInFlight,
    weight: (key) => key.length,
    capacity: () => capacity,
    read: async (group, asks) => new Promise<string>((resolve, reject) => {
      calls.push({ group, keys: [...asks.keys()], asks: [...asks.values()].map((a) => [...a]), answer: resolve, fail: reject })
    }),
  })
  return { calls, coalescer }
}

const tick = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

t.test('keys asked in one burst go in one request; while it is in flight the next ones queue and go together', async (t) => {
  const { calls, coalescer } = harness(1)
  const a = coalescer.get('SERVICE', 'a', 1)
  const b = coalescer.get('SERVICE', 'b', 2)
  await tick()
  t.same(calls.map((c) => c.keys), [['a', 'b']])
  t.equal(coalescer.inFlight, 1)
  const c = coalescer.get('SERVICE', 'c', 3)
  const d = coalescer.get('SERVICE', 'd', 4)
  const c2 = coalescer.get('SERVICE', 'c', 5)
  await tick()
  t.equal(calls.length, 1, 'nothing more leaves while the group\'s one request is in flight')
  calls[0]?.answer('first')
  t.same(await Promise.all([a, b]), ['first', 'first'], 'every caller gets the request\'s answer')
  await tick()
  t.same(calls.map((x) => x.keys), [['a', 'b'], ['c', 'd']], 'the queued keys left together')
  t.same(calls[1]?.asks, [[3, 5], [4]], 'a key asked twice is carried once, with both asks')
  calls[1]?.answer('second')
  t.same(await Promise.all([c, d, c2]), ['second', 'second', 'second'])
  await tick()
  t.equal(coalescer.inFlight, 0)
})

t.test('groups are independent, and each has up to maxInFlight requests out', async (t) => {
  const { calls, coalescer } = harness(2)
  const first = coalescer.get('SERVICE', 'a', undefined)
  await tick()
  const second = coalescer.get('SERVICE', 'b', undefined)
  const other = coalescer.get('HOST', 'h', undefined)
  await tick()
  t.same(calls.map((c) => `${c.group}:${c.keys.join(',')}`), ['SERVICE:a', 'SERVICE:b', 'HOST:h'])
  const third = coalescer.get('SERVICE', 'c', undefined)
  await tick()
  t.equal(calls.length, 3, 'the third waits for one of two')
  calls[1]?.answer('b')
  await tick()
  t.same(calls[3]?.keys, ['c'])
  for (const c of calls) c.answer(c.keys.join())
  t.same(await Promise.all([first, second, other, third]), ['a', 'b', 'h', 'c'])
})

t.test('no request holds more than its capacity; a key too big for any goes alone', async (t) => {
  const { calls, coalescer } = harness(1, 5)
  const asked = ['aa', 'bb', 'cc', 'dddddddd', 'e'].map(async (k) => coalescer.get('T', k, undefined))
  await tick()
  for (let i = 0; i < 4; i++) {
    calls[i]?.answer(String(i))
    await tick()
  }
  t.same(calls.map((c) => c.keys), [['aa', 'bb'], ['cc'], ['dddddddd'], ['e']])
  t.same(await Promise.all(asked), ['0', '0', '1', '2', '3'])
})

t.test('a failed request fails its own callers only; a caller\'s abort stops its own wait', async (t) => {
  const { calls, coalescer } = harness(2)
  const failed = coalescer.get('T', 'a', undefined)
  const aborted = new AbortController()
  const gaveUp = coalescer.get('T', 'b', undefined, aborted.signal)
  const kept = coalescer.get('T', 'b', undefined)
  await tick()
  const later = coalescer.get('T', 'c', undefined)
  await tick()
  t.same(calls.map((c) => c.keys), [['a', 'b'], ['c']])
  aborted.abort(new Error('lease lost'))
  await t.rejects(gaveUp, /lease lost/)
  calls[0]?.fail(new Error('unreachable'))
  await t.rejects(failed, /unreachable/)
  await t.rejects(kept, /unreachable/)
  calls[1]?.answer('fine')
  t.equal(await later, 'fine')
  await t.rejects(coalescer.get('T', 'd', undefined, AbortSignal.abort(new Error('already'))), /already/, 'an aborted signal asks nothing')
  await tick()
  t.equal(calls.length, 2)
})

t.test('a read that throws at once fails its callers like one that rejects', async (t) => {
  const coalescer = new Coalescer<undefined, string>({ maxInFlight: 1, weight: () => 1, capacity: () => 10, read: () => { throw new Error('bad selector') } })
  await t.rejects(coalescer.get('T', 'a', undefined), /bad selector/)
  t.throws(() => new Coalescer({ maxInFlight: 0, weight: () => 1, capacity: () => 1, read: async () => '' }), RangeError)
})
