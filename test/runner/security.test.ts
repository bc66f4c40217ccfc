/**
 * Security notifications (SPEC 4, 5, 10): one run per security problem for an action without a
 * target, the Slack message sent once, and the result written back as one CUSTOM_INFO event on
 * the affected entities; a resend does nothing more.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { bearer } from '../helpers/app.js'
import { startLoop } from '../helpers/runner.js'
import { securityNotificationOf } from '../helpers/world.js'

t.test('a security notification: one Slack message, one CUSTOM_INFO event; its resend, nothing more', async (t) => {
  const slack: Array<{ text?: string }> = []
  const sink = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => { slack.push(JSON.parse(body) as { text?: string }); res.end('ok') })
  })
  sink.listen(0, '127.0.0.1')
  await once(sink, 'listening')
  t.teardown(() => { sink.closeAllConnections(); return new Promise((resolve) => sink.close(resolve)) })
  const port = (sink.address() as AddressInfo).port

  const loop = await startLoop(t, {
    rules: `
mode: live
rules:
  - name: critical-exposed-vulnerability
    on: security
    when: { severities: [CRITICAL, HIGH], exposed: true }
    actions:
      - use: notify.slack
        with: { webhookUrl: "\${env:SLACK_WEBHOOK_URL}" }
`,
    env: { DTR_HTTP_ALLOWED_HOSTS: '127.0.0.1' },
    processEnv: { SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}/services/T0/B0/secret` },
  })
  const host = loop.dt.sim.addEntity({ type: 'PROCESS_GROUP_INSTANCE', displayName: 'checkout-7d9f' } as never)
  const { securityProblem } = await loop.dt.sim.addSecurityProblem({ title: 'Remote code execution in log4j', affectedEntities: [host.entityId], riskLevel: 'CRITICAL', exposed: true, exploitAvailable: true, notify: false } as never)
  const body = JSON.stringify(securityNotificationOf(loop.dt, securityProblem).body)
  const post = async (): Promise<number> => (await loop.app.inject({ method: 'POST', url: '/webhooks/security', headers: { ...bearer, 'content-type': 'application/json' }, payload: body })).statusCode

  t.equal(await post(), 202)
  await loop.settle()
  t.equal(slack.length, 1, 'one Slack message')
  t.match(slack[0]?.text, /Remote code execution in log4j/)
  const events = loop.dt.sim.tenant.events.filter((e) => e.eventType === 'CUSTOM_INFO')
  t.equal(events.length, 1, 'one CUSTOM_INFO event')
  t.match(events[0], { title: 'dt-remediator: notify.slack succeeded', properties: { 'dt-remediator.outcome': 'succeeded', 'dt-remediator.action': 'notify.slack' } })
  const [run] = (await loop.store.runs.list({ limit: 5 })).runs
  t.match(run, { kind: 'security', entityId: '*', target: null, state: 'succeeded', displayId: securityProblem.displayId })
  t.equal(events[0]?.properties['dt-remediator.run'], run?.id, 'the run id among its properties')
  t.notMatch(JSON.stringify(run), /secret/, 'the webhook URL\'s secret path is not in the run')

  t.equal(await post(), 200, 'the resend is a duplicate')
  t.equal(await (async () => (await loop.app.inject({ method: 'POST', url: '/webhooks/security', headers: { ...bearer, 'content-type': 'application/json' }, payload: JSON.stringify({ ...JSON.parse(body) as object, Description: 'updated' }) })).statusCode)(), 202, 'an updated notification is new')
  await loop.settle()
  t.equal(slack.length, 1, 'still one Slack message')
  t.equal(loop.dt.sim.tenant.events.filter((e) => e.eventType === 'CUSTOM_INFO').length, 1, 'still one event')
})
