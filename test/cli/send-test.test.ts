import t from 'tap'
import { buildTestCall } from '../../src/cli/send-test.js'
import { isTestProblem, parseProblemPayload } from '../../src/domain/payload.js'
import { buildTestApp, TOKEN } from '../helpers/app.js'
import { runCliProcess, type CliExit } from '../helpers/server-process.js'

t.test('buildTestCall', async (t) => {
  t.test('a bare base URL gets the problem webhook path', async (t) => {
    t.equal(buildTestCall('http://dtr.example.com:8080', {}).url, 'http://dtr.example.com:8080/webhooks/problem')
    t.equal(buildTestCall('https://dtr.example.com/', {}).url, 'https://dtr.example.com/webhooks/problem')
  })

  t.test('a URL with a path is kept as given', async (t) => {
    t.equal(buildTestCall('https://dtr.example.com/webhooks/security', {}).url, 'https://dtr.example.com/webhooks/security')
    t.equal(buildTestCall('https://ingress.example.com/dtr/webhooks/problem', {}).url, 'https://ingress.example.com/dtr/webhooks/problem')
  })

  t.test('an unparseable URL throws', async (t) => {
    t.throws(() => buildTestCall('dtr.example.com', {}), TypeError)
  })

  t.test('sends the token as a Bearer authorization by default', async (t) => {
    const { headers } = buildTestCall('http://localhost', { token: 's3cret-token' })
    t.equal(headers.authorization, 'Bearer s3cret-token')
    t.equal(headers['content-type'], 'application/json')
  })

  t.test('sends the token in the named header, lower-cased, with --header', async (t) => {
    const { headers } = buildTestCall('http://localhost', { token: 's3cret-token', header: 'X-Webhook-Token' })
    t.equal(headers['x-webhook-token'], 's3cret-token')
    t.notOk('authorization' in headers, 'no authorization header besides the named one')
  })

  t.test('sends no credential without a token', async (t) => {
    const { headers } = buildTestCall('http://localhost', { header: 'x-webhook-token' })
    t.notOk('authorization' in headers)
    t.notOk('x-webhook-token' in headers)
  })

  t.test('the body is Dynatrace\'s test notification, a valid problem payload recognised as a test', async (t) => {
    const body: unknown = JSON.parse(buildTestCall('http://localhost', {}).body)
    const parsed = parseProblemPayload(body)
    t.ok(parsed.ok, 'passes the problem payload schema')
    if (parsed.ok) {
      t.ok(isTestProblem(parsed.value), 'is recognised as the test call')
      t.equal(parsed.value.PID, '99999')
      t.equal(parsed.value.ProblemTitle, 'Dynatrace problem notification test run')
    }
  })

  t.test('renders a custom template with the test values', async (t) => {
    const { body } = buildTestCall('http://localhost', { template: '{"PID":"{PID}","State":"{State}","Entities":{ImpactedEntities}}' })
    t.match(JSON.parse(body), { PID: '99999', State: 'OPEN', Entities: [{ entity: 'HOST-XXXXXXXXXXXXX' }, { entity: 'SERVICE-XXXXXXXXXXXXX' }] })
  })
})

type Exit = CliExit

/** Runs `dt-remediator send-test …` from the sources, as a separate process. */
async function sendTest (args: string[]): Promise<Exit> {
  return runCliProcess(['send-test', ...args])
}

t.test('dt-remediator send-test', async (t) => {
  const app = await buildTestApp(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })

  t.test('exits 0 and prints the 200 test answer when the token is right', async (t) => {
    const { code, stdout, stderr } = await sendTest([address, '--token', TOKEN])
    t.equal(code, 0, stderr)
    t.match(stdout, `POST ${address}/webhooks/problem → 200`)
    t.match(stdout, '{"status":"test"}')
    t.equal(await app.store.notifications.count(), 0, 'the test call stores nothing')
  })

  t.test('exits 1 and prints the 401 when the token is wrong', async (t) => {
    const { code, stdout } = await sendTest([address, '--token', 'not-the-token'])
    t.equal(code, 1)
    t.match(stdout, '→ 401')
    t.match(stdout, 'DTR_ERR_UNAUTHORIZED')
  })

  t.test('exits 0 with the token in the header named by --header', async (t) => {
    const { code, stdout, stderr } = await sendTest([`${address}/webhooks/problem`, '--token', TOKEN, '--header', 'x-webhook-token'])
    t.equal(code, 0, stderr)
    t.match(stdout, '→ 200')
  })

  t.test('exits 2 with the usage line when no URL is given', async (t) => {
    const { code, stdout, stderr } = await sendTest(['--token', TOKEN])
    t.equal(code, 2)
    t.match(stderr, /^Usage: dt-remediator send-test \[options\] <url>/m)
    t.equal(stdout, '')
  })
})
