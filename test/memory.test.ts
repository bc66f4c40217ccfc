/**
 * Start-up's memory, given back once after ready: when (the clock decides, so no test waits),
 * not while the service is busy, at most once; and the release itself shrinks V8's young
 * generation, which a plain full collection does not.
 */
import { getHeapSpaceStatistics } from 'node:v8'
import type { EventLoopUtilization } from 'node:perf_hooks'
import t from 'tap'
import { eventLoopBusy, lowMemoryNotification, releaseStartupMemory, type StartupMemoryOptions, type StartupMemoryOutcome } from '../src/memory.js'
import { manualClock } from './helpers/clock.js'

/** Lets what the clock woke run on. */
const settle = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

function start (busy: () => boolean, options: Partial<StartupMemoryOptions> = {}): { clock: ReturnType<typeof manualClock>, releases: () => number, stop: AbortController, outcome: Promise<StartupMemoryOutcome> } {
  const clock = manualClock()
  const stop = new AbortController()
  let releases = 0
  const outcome = releaseStartupMemory({ clock, busy, release: async () => { releases++ }, signal: stop.signal, intervalMs: 1000, looks: 5, ...options })
  return { clock, releases: () => releases, stop, outcome }
}

t.test('releases once, an interval after ready and not before', async (t) => {
  const { clock, releases, outcome } = start(() => false)
  await settle()
  t.equal(releases(), 0, 'not at ready')
  clock.advance(999)
  await settle()
  t.equal(releases(), 0, 'not before the interval has passed')
  clock.advance(1)
  t.same(await outcome, { released: true, look: 1 })
  t.equal(releases(), 1)
  clock.advance(10_000)
  await settle()
  t.equal(releases(), 1, 'and never again')
})

t.test('while the service is busy, the release waits for an idle interval', async (t) => {
  const looks: boolean[] = [true, true, false]
  let asked = 0
  const { clock, releases, outcome } = start(() => looks[asked++] ?? false)
  for (let i = 0; i < 2; i++) {
    clock.advance(1000)
    await settle()
    t.equal(releases(), 0, `not after busy interval ${i + 1}`)
  }
  clock.advance(1000)
  t.same(await outcome, { released: true, look: 3 })
  t.equal(releases(), 1)
  t.equal(asked, 3, 'busy is asked once per interval')
})

t.test('a service busy throughout is left to V8: no release, ever', async (t) => {
  const { clock, releases, outcome } = start(() => true)
  for (let i = 0; i < 5; i++) {
    clock.advance(1000)
    await settle()
  }
  t.same(await outcome, { released: false, reason: 'busy' })
  clock.advance(60_000)
  await settle()
  t.equal(releases(), 0)
})

t.test('a service that stops first releases nothing', async (t) => {
  const { clock, releases, stop, outcome } = start(() => false)
  clock.advance(500)
  stop.abort()
  t.same(await outcome, { released: false, reason: 'stopped' })
  clock.advance(10_000)
  await settle()
  t.equal(releases(), 0)
})

t.test('busy means the event loop ran more than the threshold since the previous look', async (t) => {
  // Cumulative active and idle ms, as performance.eventLoopUtilization() reports them.
  const readings: EventLoopUtilization[] = []
  let current: EventLoopUtilization = { active: 500, idle: 100, utilization: 0 }
  const read = (now?: EventLoopUtilization, before?: EventLoopUtilization): EventLoopUtilization => {
    if (now === undefined) { readings.push(current); return current }
    const active = now.active - (before?.active ?? 0)
    const idle = now.idle - (before?.idle ?? 0)
    return { active, idle, utilization: active / (active + idle) }
  }
  const busy = eventLoopBusy(0.05, read)
  current = { active: 510, idle: 1090, utilization: 0 }
  t.equal(busy(), false, '1% since it was made: start-up (before it) does not count')
  current = { active: 610, idle: 1990, utilization: 0 }
  t.equal(busy(), true, '10% since the previous look')
  current = { active: 620, idle: 2980, utilization: 0 }
  t.equal(busy(), false, '1% since the previous look, whatever came before it')
  t.equal(readings.length, 4)
})

t.test('the release shrinks a grown young generation back', async (t) => {
  const young = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? Number.NaN
  // Objects that live through a few scavenges make V8 grow the young generation, as start-up does.
  let kept: unknown[][] = []
  for (let round = 0; round < 50; round++) {
    kept.push(Array.from({ length: 20_000 }, (_, i) => ({ i, round })))
    if (kept.length > 5) kept.shift()
  }
  kept = []
  const grown = young()
  t.ok(grown >= 4 * 1024 * 1024, `grown to ${grown} bytes`)
  await lowMemoryNotification()
  t.ok(young() <= grown / 4, `${grown} bytes, then ${young()}`)
})
