/**
 * The retention pass in the background: driven by the store's clock, so 30 days pass in a call.
 */
import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import t from 'tap'
import { pino } from 'pino'
import type { NewNotification } from '../../src/store/notifications.js'
import { buildTestApp } from '../helpers/app.js'
import { manualClock } from '../helpers/clock.js'
import { openTestStore } from '../helpers/store.js'

const DAY = 86_400_000
const resolved = (i: number): NewNotification => ({
  id: randomUUID(), kind: 'problem', problemId: `old-${i}`, displayId: undefined, state: 'RESOLVED', dedupeKey: randomUUID(), body: { PID: `old-${i}` },
})

t.test('every interval, what is older than DTR_RETENTION is pruned in batches, and nothing newer', { timeout: 20_000 }, async (t) => {
  const clock = manualClock()
  const store = await openTestStore(t, undefined, { clock })
  await Promise.all(Array.from({ length: 12 }, async (_, i) => store.notifications.record(resolved(i))))
  for (const job of await store.jobs.claim('notification', 'runner', { leaseMs: 1000, limit: 20 })) await store.jobs.complete(job.id, 'runner')
  clock.advance(20 * DAY)
  const young = await store.notifications.record(resolved(99))

  let announce: (line: Record<string, unknown>) => void = () => {}
  const pruned = new Promise<Record<string, unknown>>((resolve) => { announce = resolve })
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter((l) => l !== '')) {
        const entry = JSON.parse(line) as Record<string, unknown>
        if (entry.msg === 'pruned what is older than DTR_RETENTION') announce(entry)
      }
      done()
    },
  })
  const app = await buildTestApp(t, { store, logger: pino({ level: 'info' }, stream), env: { DTR_RETENTION: '30d' }, retention: { intervalMs: 60_000, batch: 5 } })
  await app.ready()
  clock.advance(11 * DAY)
  // The pass the clock woke (in batches of 5, so three of them) announces itself when done.
  t.match(await pruned, { notifications: 12, jobs: 12 })
  t.equal(await store.notifications.count(), 1)
  t.ok(await store.notifications.get(young.notificationId), 'the 11-day-old notification stays')
  t.same(await app.retention.prune(), { notifications: 0, jobs: 0, runs: 0 }, 'a pass on demand finds nothing more')
})

t.test('a retention shorter than the longest cooldown or budget window stops start-up in one line', async (t) => {
  await t.rejects(buildTestApp(t, { env: { DTR_RETENTION: '12h' }, retention: { longestWindowMs: DAY } }), {
    code: 'DTR_ERR_CONFIG',
    message: 'DTR_RETENTION: must be at least the longest cooldown, recurrence or budget window of the rules (24h), or their facts would be pruned',
  })
})

t.test('a retention shorter than the rules\' longest cooldown or budget window stops start-up', async (t) => {
  const dir = t.testdir({ 'remediation.yaml': 'mode: dry-run\ndefaults: { cooldown: 30m, maxRecurrences: { count: 0, per: 1h } }\nbudgets: [{ scope: global, max: 20, per: 6h }]\nrules: []\n' })
  await t.rejects(buildTestApp(t, { env: { DTR_RETENTION: '2h', DTR_RULES_FILE: `${dir}/remediation.yaml` } }), { code: 'DTR_ERR_CONFIG', message: /^DTR_RETENTION: must be at least the longest cooldown, recurrence or budget window of the rules \(6h\)/ })
})

t.test('the recurrence window is kept too: the default 3 per 24h stops a 12h retention, a rule\'s own window a longer one, and count 0 needs no history', async (t) => {
  const dir = t.testdir({
    'default.yaml': 'mode: dry-run\nrules: []\n',
    'rule.yaml': 'mode: dry-run\nrules:\n  - name: r\n    on: problem\n    maxRecurrences: { count: 2, per: 3d }\n    actions: [{ use: kubernetes.restart }]\n',
    'off.yaml': 'mode: dry-run\ndefaults: { maxRecurrences: { count: 0, per: 3d } }\nrules: []\n',
  })
  await t.rejects(buildTestApp(t, { env: { DTR_RETENTION: '12h', DTR_RULES_FILE: `${dir}/default.yaml` } }), { code: 'DTR_ERR_CONFIG', message: /recurrence or budget window of the rules \(24h\)/ })
  await t.rejects(buildTestApp(t, { env: { DTR_RETENTION: '2d', DTR_RULES_FILE: `${dir}/rule.yaml` } }), { code: 'DTR_ERR_CONFIG', message: /recurrence or budget window of the rules \(72h\)/ })
  const app = await buildTestApp(t, { env: { DTR_RETENTION: '12h', DTR_RULES_FILE: `${dir}/off.yaml` } })
  t.ok(app, 'count 0: a 12h retention starts')
})
