/**
 * The resend cache's map: at most `size` entries, the one set longest ago forgotten first, a key
 * set again made the newest. Checked against the plain Map it replaced (delete, set, and evict
 * `keys().next()`), over generated sequences of sets, gets and deletes.
 */
import t from 'tap'
import fc from 'fast-check'
import { RecentMap } from '../../src/store/recent-map.js'

t.test('keeps the newest entries, a key set again counting as new', async (t) => {
  const recent = new RecentMap<number>(3)
  for (const [i, key] of ['a', 'b', 'c'].entries()) recent.set(key, i)
  recent.set('a', 10)
  recent.set('d', 3)
  t.same(recent.keys(), ['c', 'a', 'd'], 'b, the oldest, went first; a was set again')
  t.equal(recent.get('b'), undefined)
  t.equal(recent.get('a'), 10)
  recent.delete('c')
  recent.set('e', 4)
  t.same(recent.keys(), ['a', 'd', 'e'], 'a deleted key frees its place')
  t.equal(recent.size, 3)
})

t.test('size 0 keeps nothing', async (t) => {
  const none = new RecentMap<number>(0)
  none.set('a', 1)
  t.equal(none.get('a'), undefined)
  t.equal(none.size, 0)
})

t.test('answers as the Map with delete-and-set and keys().next() eviction did, over generated calls', async (t) => {
  const call = fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer() }),
    fc.record({ op: fc.constant('get' as const), key: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) })
  )
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(call, { maxLength: 400 }), (size, calls) => {
    const recent = new RecentMap<number>(size)
    const model = new Map<string, number>()
    for (const c of calls) {
      const key = `k${c.key}`
      if (c.op === 'set') {
        recent.set(key, c.value)
        model.delete(key)
        model.set(key, c.value)
        if (model.size > size) model.delete(model.keys().next().value as string)
      } else if (c.op === 'delete') {
        recent.delete(key)
        model.delete(key)
      } else if (recent.get(key) !== model.get(key)) {
        return false
      }
    }
    return recent.size === model.size && JSON.stringify(recent.keys()) === JSON.stringify([...model.keys()])
  }), { numRuns: 2000 })
  t.pass('2,000 generated sequences agree')
})

t.test('what it keeps aside for the order stays within a few times its size', async (t) => {
  // One key set again and again never evicts anything: its stale places must still be let go of.
  const recent = new RecentMap<number>(100)
  for (let i = 0; i < 100; i++) recent.set(`k${i}`, i)
  for (let i = 0; i < 100_000; i++) recent.set('k0', i)
  const held = recent.placesHeld()
  t.ok(held <= 2 * 100 + 16, `the order holds ${held} places for 100 entries`)
  t.same(recent.keys().slice(-1), ['k0'])
  t.equal(recent.size, 100)
})
