import t from 'tap'
import { ConfigError } from '../../../src/config.js'
import { effectiveMode } from '../../../src/domain/rules/mode.js'

const rulesFile = '/etc/dt-remediator/remediation.yaml'

t.test('effectiveMode', async (t) => {
  t.test('DTR_MODE wins over the rules file', async (t) => {
    t.same(effectiveMode({ mode: 'live', rulesFile }, 'mode: dry-run\n'), { mode: 'live', source: 'DTR_MODE' })
    t.same(effectiveMode({ mode: 'dry-run', rulesFile }, 'mode: live\n'), { mode: 'dry-run', source: 'DTR_MODE' })
  })

  t.test('DTR_MODE wins even over a rules file that would not parse', async (t) => {
    t.same(effectiveMode({ mode: 'live', rulesFile }, 'mode: [live\n'), { mode: 'live', source: 'DTR_MODE' })
  })

  t.test('without DTR_MODE, the rules file\'s mode applies', async (t) => {
    t.same(effectiveMode({ mode: undefined, rulesFile }, 'mode: live\nrules: []\n'), { mode: 'live', source: 'rules file' })
    t.same(effectiveMode({ mode: undefined, rulesFile }, 'mode: dry-run\n'), { mode: 'dry-run', source: 'rules file' })
  })

  t.test('defaults to dry-run when there is no rules file', async (t) => {
    t.same(effectiveMode({ mode: undefined, rulesFile }, undefined), { mode: 'dry-run', source: 'default' })
  })

  t.test('defaults to dry-run when the rules file sets no mode', async (t) => {
    t.same(effectiveMode({ mode: undefined, rulesFile }, 'rules: []\n'), { mode: 'dry-run', source: 'default' })
    t.same(effectiveMode({ mode: undefined, rulesFile }, 'mode:\n'), { mode: 'dry-run', source: 'default' })
    t.same(effectiveMode({ mode: undefined, rulesFile }, ''), { mode: 'dry-run', source: 'default' })
    t.same(effectiveMode({ mode: undefined, rulesFile }, '# only a comment\n'), { mode: 'dry-run', source: 'default' })
  })

  t.test('invalid YAML is a ConfigError naming DTR_RULES_FILE and the file', async (t) => {
    const err = catchError(() => effectiveMode({ mode: undefined, rulesFile }, 'mode: [live\n'))
    t.ok(err instanceof ConfigError)
    t.match(err, { code: 'DTR_ERR_CONFIG', statusCode: 500, variable: 'DTR_RULES_FILE' })
    t.match((err as Error).message, `DTR_RULES_FILE: ${rulesFile} is not valid YAML: `)
    t.notMatch((err as Error).message, /\n/, 'the message is one line')
  })

  t.test('a mode other than dry-run or live is a ConfigError naming DTR_RULES_FILE, the file and the value', async (t) => {
    for (const [text, shown] of [['mode: enforce\n', '"enforce"'], ['mode: true\n', 'true'], ['mode: Live\n', '"Live"']] as const) {
      const err = catchError(() => effectiveMode({ mode: undefined, rulesFile }, text))
      t.ok(err instanceof ConfigError, text)
      t.match(err, { code: 'DTR_ERR_CONFIG', variable: 'DTR_RULES_FILE' })
      t.equal((err as Error).message, `DTR_RULES_FILE: ${rulesFile}: mode must be "dry-run" or "live" (got ${shown})`)
    }
  })
})

function catchError (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}
