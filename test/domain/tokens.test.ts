import t from 'tap'
import { basicPassword, bearerToken, createSecretMatcher, createTokenMatcher, digestToken, generateToken } from '../../src/domain/tokens.js'

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`

t.test('bearerToken', async (t) => {
  t.test('returns the token of a Bearer authorization', async (t) => {
    t.equal(bearerToken('Bearer abc.DEF-123_~+/='), 'abc.DEF-123_~+/=')
  })

  t.test('accepts any case of the scheme, several spaces and trailing whitespace', async (t) => {
    t.equal(bearerToken('bearer tok'), 'tok')
    t.equal(bearerToken('BEARER   tok  '), 'tok')
  })

  t.test('returns undefined for no header, another scheme, no token or two words', async (t) => {
    t.equal(bearerToken(undefined), undefined)
    t.equal(bearerToken(''), undefined)
    t.equal(bearerToken(basic('dynatrace:password')), undefined)
    t.equal(bearerToken('Bearer'), undefined)
    t.equal(bearerToken('Bearer '), undefined)
    t.equal(bearerToken('Bearer one two'), undefined)
    t.equal(bearerToken('Bearertok'), undefined)
  })
})

t.test('basicPassword', async (t) => {
  t.test('returns the password and ignores the user', async (t) => {
    t.equal(basicPassword(basic('dynatrace:password')), 'password')
    t.equal(basicPassword(basic('anyone:password')), 'password')
    t.equal(basicPassword(basic(':password')), 'password')
  })

  t.test('keeps everything after the first colon when the password has colons', async (t) => {
    t.equal(basicPassword(basic('dynatrace:pa:ss:word')), 'pa:ss:word')
  })

  t.test('accepts any case of the scheme', async (t) => {
    t.equal(basicPassword(basic('u:p').replace('Basic', 'basic')), 'p')
  })

  t.test('decodes UTF-8 passwords', async (t) => {
    t.equal(basicPassword(basic('u:pässwörd')), 'pässwörd')
  })

  t.test('returns undefined when malformed', async (t) => {
    t.equal(basicPassword(undefined), undefined)
    t.equal(basicPassword('Basic'), undefined)
    t.equal(basicPassword('Basic !!!not-base64!!!'), undefined)
    t.equal(basicPassword(basic('no-colon-here')), undefined, 'credentials without a colon')
    t.equal(basicPassword('Bearer password'), undefined)
    t.equal(basicPassword(`Basic ${Buffer.from('u:p').toString('base64')} extra`), undefined)
  })

  t.test('returns an empty password as empty, for the matcher to refuse', async (t) => {
    t.equal(basicPassword(basic('user:')), '')
  })
})

t.test('createTokenMatcher', async (t) => {
  const matches = createTokenMatcher(['old-token-1', 'new-token-2', 'third-token'].map(digestToken))

  t.test('accepts each of several tokens', async (t) => {
    t.ok(matches('old-token-1'))
    t.ok(matches('new-token-2'))
    t.ok(matches('third-token'))
  })

  t.test('refuses anything else, including prefixes, extensions and case changes', async (t) => {
    t.notOk(matches('old-token-'))
    t.notOk(matches('old-token-1x'))
    t.notOk(matches('OLD-TOKEN-1'))
    t.notOk(matches(''))
    t.notOk(matches(' old-token-1'))
  })

  t.test('with no tokens accepts nothing', async (t) => {
    t.notOk(createTokenMatcher([])('old-token-1'))
    t.notOk(createTokenMatcher([])(''))
  })

  t.test('digests are SHA-256, so tokens of any length compare', async (t) => {
    t.equal(digestToken('x').length, 32)
    t.ok(createTokenMatcher([digestToken('a'.repeat(500))])('a'.repeat(500)))
  })
})

t.test('createSecretMatcher (configured tokens, compared as bytes)', async (t) => {
  const matches = createSecretMatcher(['old-token-1', 'new-token-2', 'third-token', 'ünïcödé-tökén'])

  t.test('accepts each of several tokens', async (t) => {
    t.ok(matches('old-token-1'))
    t.ok(matches('new-token-2'))
    t.ok(matches('third-token'))
    t.ok(matches('ünïcödé-tökén'))
  })

  t.test('refuses anything else, including prefixes, extensions, case changes and look-alike bytes', async (t) => {
    t.notOk(matches('old-token-'))
    t.notOk(matches('old-token-1x'))
    t.notOk(matches('OLD-TOKEN-1'))
    t.notOk(matches(''))
    t.notOk(matches(' old-token-1'))
    t.notOk(matches('old-token-1\u0000'))
    // Same number of UTF-16 units, other bytes: compared as UTF-8, not as code units.
    t.notOk(matches('unicode-token'))
    t.notOk(matches('ünïcödé-tökén'.normalize('NFD')))
  })

  t.test('with no tokens accepts nothing', async (t) => {
    t.notOk(createSecretMatcher([])('old-token-1'))
    t.notOk(createSecretMatcher([])(''))
  })

  t.test('agrees with the digest matcher on every candidate', async (t) => {
    const tokens = ['a', 'bench-token-0123456789', 'a'.repeat(500)]
    const byDigest = createTokenMatcher(tokens.map(digestToken))
    const byBytes = createSecretMatcher(tokens)
    for (const candidate of [...tokens, 'b', 'a'.repeat(499), 'bench-token-012345678', 'bench-token-01234567890', '']) {
      t.equal(byBytes(candidate), byDigest(candidate), candidate.slice(0, 30))
    }
  })
})

t.test('generateToken', async (t) => {
  t.test('is 32 URL-safe characters (192 bits)', async (t) => {
    const token = generateToken()
    t.equal(token.length, 32)
    t.match(token, /^[A-Za-z0-9_-]{32}$/)
    t.equal(Buffer.from(token, 'base64url').length, 24)
  })

  t.test('is different every time and survives the Bearer parser', async (t) => {
    const tokens = new Set(Array.from({ length: 50 }, generateToken))
    t.equal(tokens.size, 50)
    for (const token of tokens) t.equal(bearerToken(`Bearer ${token}`), token)
  })
})
