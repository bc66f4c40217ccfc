import t, { type Test } from 'tap'
import { createHttpRequestAction } from '../../../actions/http.request/index.js'
import { BODY_EXCERPT_BYTES } from '../../../src/sdk/index.js'
import { runAction } from '../../../src/sdk/testing.js'
import { startHttpSink } from '../../helpers/http-sink.js'

const allowedHosts = [{ host: 'ci.example.com', port: undefined }]

async function setup (t: Test) {
  const sink = await startHttpSink(t)
  const action = createHttpRequestAction({ allowedHosts, dispatcher: sink.dispatcher })
  return { sink, action }
}

t.test('sends the planned request to an allowed host, with the run id as Idempotency-Key', async (t) => {
  const { sink, action } = await setup(t)
  sink.reply = () => ({ status: 201, body: '{"queued":true}' })
  const { outcome, plan } = await runAction(action, { params: { url: 'https://ci.example.com/job/rollback?token=s3cr3t', headers: { authorization: 'Bearer abc', 'x-team': 'shop' }, body: { problem: 'P-1' } }, runId: 'run-42' })
  t.match(outcome, { status: 'succeeded', summary: 'POST https://ci.example.com/job/rollback?token=[redacted] answered 201', details: { status: 201, body: '{"queued":true}', bodyTruncated: false } })
  t.same(plan, { method: 'POST', url: 'https://ci.example.com/job/rollback?token=[redacted]', headers: { authorization: '[redacted]', 'x-team': 'shop' }, body: { problem: 'P-1' }, expect: '2xx' })
  const [req] = sink.requests
  t.match(req, { method: 'POST', host: 'ci.example.com', path: '/job/rollback?token=s3cr3t', body: '{"problem":"P-1"}' })
  t.match(req?.headers, { 'idempotency-key': 'run-42', authorization: 'Bearer abc', 'content-type': 'application/json', 'user-agent': 'dt-remediator' })
  t.notMatch(JSON.stringify(outcome), /s3cr3t|Bearer abc/, 'no secret in the outcome')
})

t.test('two attempts send the same request with the same key', async (t) => {
  const { sink, action } = await setup(t)
  await runAction(action, { params: { url: 'https://ci.example.com/x' }, attempts: 2, runId: 'run-7' })
  t.equal(sink.requests.length, 2)
  t.same(sink.requests.map((r) => [r.headers['idempotency-key'], r.body]), [['run-7', ''], ['run-7', '']])
})

t.test('a host not allowed is refused at plan time, terminally; redirects are not followed', async (t) => {
  const { sink, action } = await setup(t)
  await t.rejects(runAction(action, { params: { url: 'https://evil.example.org/x' } }), { name: 'TerminalError', message: 'host not allowed: evil.example.org is not in DTR_HTTP_ALLOWED_HOSTS (ci.example.com)' })
  t.equal(sink.requests.length, 0, 'nothing sent')
  sink.reply = () => ({ status: 302, headers: { location: 'https://evil.example.org/steal?key=abc' } })
  const { outcome } = await runAction(action, { params: { url: 'https://ci.example.com/x' } })
  t.match(outcome, { status: 'failed', summary: 'POST https://ci.example.com/x answered 302, expected 2xx (redirects are not followed; Location: https://evil.example.org/steal?key=[redacted])' })
  t.equal(sink.requests.length, 1, 'the redirect was not followed')
})

t.test('expectStatus, a bounded body excerpt, and transient answers retried by the runner', async (t) => {
  const { sink, action } = await setup(t)
  sink.reply = () => ({ status: 404, body: 'x'.repeat(10_000) })
  const { outcome } = await runAction(action, { params: { url: 'https://ci.example.com/x', method: 'GET' } })
  t.match(outcome, { status: 'failed', summary: 'GET https://ci.example.com/x answered 404, expected 2xx', details: { bodyTruncated: true } })
  t.equal((outcome.details?.body as string).length, BODY_EXCERPT_BYTES)
  const ok = await runAction(action, { params: { url: 'https://ci.example.com/x', expectStatus: [404] } })
  t.equal(ok.outcome.status, 'succeeded')
  sink.reply = () => ({ status: 503 })
  await t.rejects(runAction(action, { params: { url: 'https://ci.example.com/x' } }), { message: 'POST https://ci.example.com/x answered 503; retrying the same request' })
})

t.test('dry run sends nothing and says what it would send', async (t) => {
  const { sink, action } = await setup(t)
  const { outcome } = await runAction(action, { params: { url: 'https://ci.example.com/x', body: { a: 1 } }, dryRun: true, runId: 'run-1' })
  t.match(outcome, { status: 'succeeded', summary: 'Dry run: would send POST https://ci.example.com/x with a JSON body (Idempotency-Key run-1)' })
  t.equal(sink.requests.length, 0)
})

t.test('the run\'s signal aborts the call', async (t) => {
  const { sink, action } = await setup(t)
  const controller = new AbortController()
  sink.reply = () => { controller.abort(); return { status: 200 } }
  controller.abort()
  await t.rejects(runAction(action, { params: { url: 'https://ci.example.com/x' }, signal: controller.signal }), { message: /^POST https:\/\/ci\.example\.com\/x failed: .*\(the run was aborted\)$/ })
})
