import t from 'tap'
import { redactSecretText, secretRedactor, type Secret } from '../../src/domain/secrets.js'

t.test('redactSecretText replaces each value, longest first, also as it reads inside a JSON string', async (t) => {
  const secrets: Secret[] = [['[a]', 'abcd'], ['[b]', 'abcdef"gh']]
  t.equal(redactSecretText('x abcdef"gh y abcd', secrets), 'x [b] y [a]')
  t.equal(redactSecretText(JSON.stringify({ v: 'abcdef"gh' }), secrets), '{"v":"[b]"}')
  t.equal(redactSecretText('abc', [['[short]', 'abc']]), 'abc', 'values under 4 characters are not looked for')
})

t.test('secretRedactor prepares its list once per version, and again when the version changes (a reload)', async (t) => {
  let version = 1
  let listed = 0
  let secrets: Secret[] = [['[token]', 'first-secret']]
  const redact = secretRedactor(() => version, () => { listed++; return secrets })
  t.equal(redact('a first-secret b'), 'a [token] b')
  t.equal(redact('first-secret'), '[token]')
  t.equal(listed, 1, 'listed once for two lines')
  secrets = [['[env]', 'second-secret']]
  t.equal(redact('second-secret'), 'second-secret', 'same version: the list as prepared')
  version = 2
  t.equal(redact('second-secret first-secret'), '[env] first-secret', 'a new version: the new list')
  t.equal(listed, 2)
})
