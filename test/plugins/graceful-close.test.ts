/**
 * plugins/graceful-close.ts's set of requests still receiving their bodies: a request leaves it
 * when answered; one whose client gave up (destroyed) is swept out once the set has doubled, so
 * clients that abandon their uploads cannot grow it without bound. The shutdown's own behaviour
 * (a 503 while closing, a 408 for a body still arriving) is in test/routes/intake-limits.test.ts.
 */
import t from 'tap'
import { Receiving } from '../../plugins/graceful-close.js'

interface Fake { destroyed: boolean, readonly id: number }

t.test('abandoned requests are swept out; live ones never are', async (t) => {
  const receiving = new Receiving<Fake>()
  const live: Fake[] = Array.from({ length: 10 }, (_, id) => ({ destroyed: false, id }))
  for (const r of live) receiving.add(r)
  let largest = 0
  for (let id = 10; id < 100_010; id++) {
    const abandoned = { destroyed: false, id }
    receiving.add(abandoned)
    abandoned.destroyed = true
    largest = Math.max(largest, receiving.size)
  }
  t.ok(largest <= 512, `100,000 abandoned uploads: the set never held more than ${largest}`)
  const kept = new Set(receiving)
  t.ok(live.every((r) => kept.has(r)), 'every live request is still there')
})

t.test('many live requests: each is kept until it is answered', async (t) => {
  const receiving = new Receiving<Fake>()
  const live = Array.from({ length: 2000 }, (_, id) => ({ destroyed: false, id }))
  for (const r of live) receiving.add(r)
  t.equal(receiving.size, 2000)
  for (const r of live.slice(0, 1500)) receiving.delete(r)
  t.equal(receiving.size, 500, 'answered requests leave at once')
  t.same([...receiving].map((r) => r.id), live.slice(1500).map((r) => r.id))
})
