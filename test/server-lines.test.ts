/**
 * The process's log lines (src/server.ts): joined and handed on once per event-loop turn, in
 * order, and a flush hands on what is pending first.
 */
import { setImmediate as turn } from 'node:timers/promises'
import t from 'tap'
import { lineBatch, type LineDestination } from '../src/server.js'

function recorder (): LineDestination & { writes: string[], flushes: string[] } {
  const writes: string[] = []
  const flushes: string[] = []
  return {
    writes,
    flushes,
    write (text) { writes.push(text); return true },
    flush () { flushes.push('flush') },
    flushSync () { flushes.push('flushSync') },
  }
}

t.test('the lines of one turn reach the destination as one write, in order', async (t) => {
  const inner = recorder()
  const batch = lineBatch(inner)
  batch.write('a\n')
  batch.write('b\n')
  batch.write('c\n')
  t.same(inner.writes, [], 'nothing before the turn ends')
  await turn()
  t.same(inner.writes, ['a\nb\nc\n'])
  batch.write('d\n')
  await turn()
  t.same(inner.writes, ['a\nb\nc\n', 'd\n'], 'the next turn, its own write')
  await turn()
  t.equal(inner.writes.length, 2, 'an idle turn writes nothing')
})

t.test('a flush hands on what is pending, then flushes', async (t) => {
  const inner = recorder()
  const batch = lineBatch(inner)
  batch.write('listening\n')
  batch.flush()
  t.same(inner.writes, ['listening\n'], 'written at once, not at the end of the turn')
  t.same(inner.flushes, ['flush'])
  batch.write('fatal\n')
  batch.flushSync()
  t.same(inner.writes, ['listening\n', 'fatal\n'])
  t.same(inner.flushes, ['flush', 'flushSync'])
  await turn()
  t.equal(inner.writes.length, 2, 'the turn finds nothing left to write')
})
