/**
 * docs/rules.md: its reference tables are the zod schema's (so the page cannot drift), and every
 * YAML example on it loads with the built-in actions.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { formatDiagnostic, parseRules } from '../../src/domain/rules/parse.js'
import { rulesReference } from '../../src/domain/rules/reference.js'
import { parseOptions } from '../helpers/rules.js'

const path = fileURLToPath(new URL('../../docs/rules.md', import.meta.url))
const BEGIN = '<!-- BEGIN GENERATED: rules reference (test/docs/rules.test.ts) -->'
const END = '<!-- END GENERATED -->'

t.test('the reference is the schema\'s', async (t) => {
  const page = readFileSync(path, 'utf8')
  const start = page.indexOf(BEGIN)
  const end = page.indexOf(END)
  t.ok(start >= 0 && end > start, 'the page has the generated block')
  const expected = `${BEGIN}\n\n${rulesReference()}\n${END}`
  const actual = page.slice(start, end + END.length)
  if (process.env.DTR_UPDATE_DOCS === '1' && actual !== expected) {
    writeFileSync(path, page.slice(0, start) + expected + page.slice(end + END.length))
    t.pass('rewrote docs/rules.md')
    return
  }
  t.equal(actual, expected, 'docs/rules.md matches the schema; run DTR_UPDATE_DOCS=1 npx tap test/docs/rules.test.ts')
})

t.test('every YAML example on the page loads', async (t) => {
  const page = readFileSync(path, 'utf8')
  const blocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
  t.ok(blocks.length >= 2)
  for (const block of blocks) {
    // The plugins example names modules that do not exist here; the parser only lists them.
    const result = parseRules(block, parseOptions({ env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' } }))
    t.ok(result.ok, result.ok ? 'loads' : result.errors.map(formatDiagnostic).join('\n'))
  }
})
