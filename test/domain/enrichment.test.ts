import t from 'tap'
import { epochMs, normalizeState, severityOfCategory } from '../../src/domain/enrichment.js'

t.test('State: OPEN/RESOLVED, and a Gen 3 workflow\'s ACTIVE/CLOSED', async (t) => {
  t.equal(normalizeState('ACTIVE'), 'OPEN')
  t.equal(normalizeState(' closed '), 'RESOLVED')
  t.equal(normalizeState('OPEN'), 'OPEN')
  t.equal(normalizeState('MERGED'), 'MERGED', 'anything else as sent')
})

t.test('times as Dynatrace writes them, in ms', async (t) => {
  const ms = Date.parse('2024-07-19T09:54:00Z')
  t.equal(epochMs('2024-07-19T09:54:00.000000000Z'), ms, 'ISO with nanoseconds')
  t.equal(epochMs(ms), ms)
  t.equal(epochMs(ms * 1000), ms, 'microseconds')
  t.equal(epochMs(String(ms * 1_000_000)), ms, 'nanoseconds, as text')
  for (const bad of ['', 'soon', 0, -1, null, undefined, true]) t.equal(epochMs(bad), undefined, `${String(bad)}: unknown`)
})

t.test('Gen 3 categories as classic severities', async (t) => {
  t.equal(severityOfCategory('SLOWDOWN'), 'PERFORMANCE')
  t.equal(severityOfCategory('error'), 'ERROR')
  t.equal(severityOfCategory(''), undefined)
  t.equal(severityOfCategory(undefined), undefined)
})
