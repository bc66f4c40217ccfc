/**
 * Issue 18: a PID sent unquoted above 2^53 loses digits in JSON.parse, so two problems could
 * merge. It is refused with a 400 that names the field and says to quote the placeholder; a
 * quoted one of the same digits is accepted and kept exactly.
 */
import t from 'tap'
import { bearer, buildTestApp } from '../helpers/app.js'
import { sample } from '../helpers/samples.js'

const json = { ...bearer, 'content-type': 'application/json' }

t.test('an unquoted PID beyond 2^53 is refused naming the field; quoted, it is kept exactly', async (t) => {
  const app = await buildTestApp(t)
  const base = JSON.stringify({ ...sample('problem-open.json'), PID: 'X' })
  const raw = base.replace('"PID":"X"', '"PID":12345678901234567891')
  const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: raw })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'DTR_ERR_INVALID_PAYLOAD', message: /^PID is a number beyond 2\^53 .*; quote its placeholder in the custom payload, e\.g\. "PID":"\{PID\}"$/ })
  t.equal(await app.store.notifications.count(), 0, 'nothing stored')

  const quoted = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: base.replace('"PID":"X"', '"PID":"12345678901234567891"') })
  t.equal(quoted.statusCode, 202, quoted.body)
  const ok = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: base.replace('"PID":"X"', '"PID":9007199254740991') })
  t.not(ok.statusCode, 400, 'a safe integer is not refused for being one')
})

t.test('a nested unsafe integer is named by its path', async (t) => {
  const app = await buildTestApp(t)
  const raw = JSON.stringify({ ...sample('problem-open.json'), Extra: { Id: 'X' } }).replace('"Id":"X"', '"Id":99999999999999999999')
  const res = await app.inject({ method: 'POST', url: '/webhooks/problem', headers: json, payload: raw })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { message: /^Extra\.Id is a number beyond 2\^53/ })
})
