import t, { type Test } from 'tap'
import { createSlackAction, defaultSlackText, retryAfterMs } from '../../../actions/notify.slack/index.js'
import type { Clock } from '../../../src/clock.js'
import { runAction } from '../../../src/sdk/testing.js'
import { startHttpSink } from '../../helpers/http-sink.js'

const allowedHosts = [{ host: 'hooks.slack.com', port: undefined }]
const webhookUrl = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET'

/** A clock whose sleep resolves at once but records what was asked, unless the signal aborts. */
function recordingClock (): Clock & { slept: number[] } {
  const slept: number[] = []
  return {
    slept,
    now: () => Date.parse('2024-05-01T10:15:00Z'),
    sleep: async (ms, signal) => {
      slept.push(ms)
      if (signal?.aborted === true) throw signal.reason
    },
  }
}

async function setup (t: Test) {
  const sink = await startHttpSink(t)
  const clock = recordingClock()
  return { sink, clock, action: createSlackAction({ allowedHosts, dispatcher: sink.dispatcher, clock }) }
}

t.test('posts the planned text; the webhook URL is redacted in plan and outcome', async (t) => {
  const { sink, action } = await setup(t)
  const { outcome, plan } = await runAction(action, { params: { webhookUrl, text: 'hello *shop*' }, runId: 'run-9' })
  t.same(outcome, { status: 'succeeded', summary: 'Posted to Slack (https://hooks.slack.com/services/[redacted])', details: { status: 200, body: 'ok' } })
  t.same(plan, { webhook: 'https://hooks.slack.com/services/[redacted]', text: 'hello *shop*' })
  t.match(sink.requests, [{ method: 'POST', host: 'hooks.slack.com', path: '/services/T000/B000/XXXXSECRET', body: '{"text":"hello *shop*"}', headers: { 'content-type': 'application/json', 'idempotency-key': 'run-9' } }])
})

t.test('the default text names the problem, severity, entity and link', async (t) => {
  const text = defaultSlackText({ kind: 'problem', id: 'PID', displayId: 'P-211020', title: 'Failure rate increase', severity: 'ERROR', impact: 'SERVICE', url: 'https://dt/#p', tags: [], startTime: undefined }, { id: 'SERVICE-1', type: 'SERVICE', name: 'checkout-service' })
  t.equal(text, 'Problem *P-211020*: *Failure rate increase* (ERROR, impact SERVICE)\nEntity: checkout-service (SERVICE-1)\nhttps://dt/#p\n_from dt-remediator_')
  const sec = defaultSlackText({ kind: 'security', id: '123', displayId: 'S-1234', title: 'log4shell', severity: 'CRITICAL', impact: undefined, url: undefined, tags: [], startTime: undefined }, { id: 'PROCESS_GROUP-1', type: 'PROCESS_GROUP', name: '' })
  t.equal(sec, 'Notification for *S-1234* and *CRITICAL*.\nTitle: *log4shell*\nEntity: PROCESS_GROUP-1\n_from dt-remediator_')
})

t.test('a 429 is waited out for its Retry-After, then the same message is posted again', async (t) => {
  const { sink, clock, action } = await setup(t)
  sink.queue.push({ status: 429, headers: { 'retry-after': '3' }, body: 'rate_limited' })
  const { outcome } = await runAction(action, { params: { webhookUrl, text: 'x' } })
  t.equal(outcome.status, 'succeeded')
  t.same(clock.slept, [3000], 'waited Retry-After seconds')
  t.equal(sink.requests.length, 2)
  t.equal(sink.requests[0]?.body, sink.requests[1]?.body)
})

t.test('a 429 whose wait outlasts the run\'s timeout fails, saying so', async (t) => {
  const { sink, clock, action } = await setup(t)
  sink.queue.push({ status: 429, headers: { 'retry-after': '30' } })
  const controller = new AbortController()
  // The run's timeout fires while the post waits.
  clock.sleep = async (ms) => { clock.slept.push(ms); controller.abort(new Error('timeout')); throw new Error('timeout') }
  const { outcome } = await runAction(action, { params: { webhookUrl, text: 'x' }, signal: controller.signal })
  t.match(outcome, { status: 'failed', summary: 'Slack rate-limited the post (429, Retry-After 30s) and the run\'s timeout came first' })
  t.equal(sink.requests.length, 1)
})

t.test('Slack\'s refusals fail with its answer; 5xx is retried by the runner', async (t) => {
  const { sink, action } = await setup(t)
  sink.reply = () => ({ status: 404, body: 'no_service' })
  t.match((await runAction(action, { params: { webhookUrl } })).outcome, { status: 'failed', summary: 'Slack answered 404 (no_service)' })
  sink.reply = () => ({ status: 500 })
  await t.rejects(runAction(action, { params: { webhookUrl } }), { message: 'Slack answered 500; retrying the same message' })
})

t.test('dry run posts nothing', async (t) => {
  const { sink, action } = await setup(t)
  const { outcome } = await runAction(action, { params: { webhookUrl, text: 'first line\nsecond' }, dryRun: true })
  t.same(outcome, { status: 'succeeded', summary: 'Dry run: would post to Slack (https://hooks.slack.com/services/[redacted]): first line', details: { message: 'first line\nsecond', dryRun: true } })
  t.equal(sink.requests.length, 0)
})

t.test('Retry-After as seconds or an HTTP date', async (t) => {
  const now = Date.parse('2024-05-01T10:15:00Z')
  t.equal(retryAfterMs('2', now), 2000)
  t.equal(retryAfterMs('Wed, 01 May 2024 10:15:05 GMT', now), 5000)
  t.equal(retryAfterMs(undefined, now), 1000)
})
