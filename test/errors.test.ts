import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ConfigError, DtrError, errorCatalogue, errorCodeOf, frameworkErrors, isDtrError, isRetryable, TerminalError, toDtrError, type ErrorCode } from '../src/errors.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const codes = Object.keys(errorCatalogue) as ErrorCode[]
const docs = readFileSync(join(root, 'docs/errors.md'), 'utf8')

/** Every file under dir, recursively. */
function filesUnder (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

const mentions = (text: string): Set<string> => new Set(text.match(/DTR_ERR_[A-Z_]*[A-Z]/g) ?? [])

t.test('docs/errors.md', async (t) => {
  // `| \`DTR_ERR_X\` | 400 | when | what to do |`
  const rows = new Map<string, number>()
  for (const match of docs.matchAll(/^\| `(DTR_ERR_[A-Z_]+)` \| (\d{3}) \|(.+)\|(.+)\|$/gm)) {
    t.notOk(rows.has(match[1] as string), `${match[1]} has one row, not several`)
    rows.set(match[1] as string, Number(match[2]))
  }

  t.test('has a table row for every catalogue code, with the catalogue\'s status', async (t) => {
    for (const code of codes) {
      t.equal(rows.get(code), errorCatalogue[code].statusCode, `${code} is documented with HTTP ${errorCatalogue[code].statusCode}`)
    }
  })

  t.test('names no code that the catalogue does not define', async (t) => {
    const named = mentions(docs)
    t.ok(named.size >= codes.length, 'the page names the codes at all')
    for (const code of named) t.ok(Object.hasOwn(errorCatalogue, code), `${code} is in errorCatalogue`)
  })

  t.test('quotes the generic 500 message the error handler sends', async (t) => {
    t.ok(docs.includes(errorCatalogue.DTR_ERR_INTERNAL.description))
  })
})

t.test('every DTR_ERR_ code written under src/, plugins/ and actions/ is in the catalogue', async (t) => {
  const used = new Map<string, string>()
  for (const file of ['src', 'plugins', 'actions'].flatMap((dir) => filesUnder(join(root, dir)))) {
    if (!/\.(ts|md|sql|ya?ml|json)$/.test(file)) continue
    for (const code of mentions(readFileSync(file, 'utf8'))) used.set(code, file.slice(root.length))
  }
  // Guards against a walk that silently finds nothing: these are thrown in well-known places.
  for (const known of ['DTR_ERR_UNAVAILABLE', 'DTR_ERR_INVALID_PAYLOAD', 'DTR_ERR_CONFIG', 'DTR_ERR_KUBERNETES_FORBIDDEN']) {
    t.ok(used.has(known), `the scan finds ${known}`)
  }
  for (const [code, file] of used) t.ok(Object.hasOwn(errorCatalogue, code), `${code} (used in ${file}) is in errorCatalogue`)
})

t.test('DtrError', async (t) => {
  t.test('carries its code and the catalogue\'s status for every code', async (t) => {
    for (const code of codes) {
      const err = new DtrError(code, `about ${code}`)
      t.equal(err.code, code)
      t.equal(err.statusCode, errorCatalogue[code].statusCode, `${code} → ${errorCatalogue[code].statusCode}`)
      t.equal(err.message, `about ${code}`)
    }
  })

  t.test('is an Error named DtrError that keeps its cause and details', async (t) => {
    const cause = new Error('socket hang up')
    const err = new DtrError('DTR_ERR_STORE', 'store unreachable', { cause, details: { engine: 'sqlite' } })
    t.ok(err instanceof Error)
    t.equal(err.name, 'DtrError')
    t.equal(err.cause, cause)
    t.same(err.details, { engine: 'sqlite' })
    t.equal(err.statusCode, 503)
    t.match(err.stack, /DtrError: store unreachable/)
  })

  t.test('has no cause property when none is given', async (t) => {
    const err = new DtrError('DTR_ERR_NOT_FOUND', 'gone')
    t.notOk('cause' in err)
    t.equal(err.details, undefined)
  })

  t.test('isDtrError tells DtrErrors from other errors with a code', async (t) => {
    t.ok(isDtrError(new DtrError('DTR_ERR_INTERNAL', 'x')))
    t.notOk(isDtrError(Object.assign(new Error('x'), { code: 'DTR_ERR_INTERNAL', statusCode: 500 })))
    t.notOk(isDtrError({ code: 'DTR_ERR_INTERNAL', statusCode: 500 }))
    t.notOk(isDtrError(undefined))
  })
})

t.test('isRetryable: terminal and request faults no, declared retryable taken at its word, unknown faults yes', async (t) => {
  t.equal(isRetryable(new TerminalError('no')), false)
  t.equal(isRetryable(new DtrError('DTR_ERR_ACTION_PARAMS', 'bad')), false)
  t.equal(isRetryable(new DtrError('DTR_ERR_STORE', 'busy')), true)
  t.equal(isRetryable(Object.assign(new DtrError('DTR_ERR_DYNATRACE', 'x'), { retryable: true })), true, 'an error that declares retryable decides')
  t.equal(isRetryable(new Error('ECONNRESET')), true)
})

t.test('ConfigError names the variable first', async (t) => {
  const err = new ConfigError('DTR_PORT', 'must be a port number')
  t.match(err, { code: 'DTR_ERR_CONFIG', variable: 'DTR_PORT', message: 'DTR_PORT: must be a port number' })
})

t.test('framework errors map through one table', async (t) => {
  const ctx = { bodyLimit: 1024, contentType: 'application/xml' }
  t.equal(errorCodeOf(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' })), 'DTR_ERR_BODY_TOO_LARGE')
  t.match(toDtrError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), ctx), { code: 'DTR_ERR_UNSUPPORTED_MEDIA_TYPE', message: /application\/xml/ })
  t.match(toDtrError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), ctx), { message: /1024 bytes/ })
  t.match(toDtrError(Object.assign(new Error('Route GET:/x not found'), { statusCode: 404 }), ctx), { code: 'DTR_ERR_NOT_FOUND', message: 'Route GET:/x not found' })
  t.match(toDtrError(new Error('secret detail'), ctx), { code: 'DTR_ERR_INTERNAL', message: 'Internal error' })
  const ours = new DtrError('DTR_ERR_STORE', 'down')
  t.equal(toDtrError(ours, ctx), ours)
  for (const [fastifyCode, entry] of Object.entries(frameworkErrors)) t.ok(errorCatalogue[entry.code], `${fastifyCode} maps to a catalogue code`)
})
