/**
 * Reconciliation of security problems (SPEC 8): a security notification that never reached us is
 * found in the Security Problems API within one interval and acted on once; a security problem
 * that Dynatrace resolved without telling us is closed, and its waiting run cancelled.
 */
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { toNewNotification, uuidV7 } from '../../src/domain/notification.js'
import { parseSecurityPayload } from '../../src/domain/payload.js'
import { bearer } from '../helpers/app.js'
import { startLoop } from '../helpers/runner.js'
import { securityNotificationOf } from '../helpers/world.js'

const INTERVAL = 120_000

async function slackSink (t: Test): Promise<{ url: string, messages: Array<{ text?: string }> }> {
  const messages: Array<{ text?: string }> = []
  const sink = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => { messages.push(JSON.parse(body) as { text?: string }); res.end('ok') })
  })
  sink.listen(0, '127.0.0.1')
  await once(sink, 'listening')
  t.teardown(() => { sink.closeAllConnections(); return new Promise((resolve) => sink.close(resolve)) })
  return { url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/services/T0/B0/secret`, messages }
}

const rules = (approval: boolean): string => `
mode: live
rules:
  - name: critical-exposed-vulnerability
    on: security
    when: { severities: [CRITICAL, HIGH], exposed: true }
    approval: ${String(approval)}
    actions:
      - use: notify.slack
        with: { webhookUrl: "\${env:SLACK_WEBHOOK_URL}" }
`

t.test('a lost security notification is found within one interval: one Slack message, one event', async (t) => {
  const slack = await slackSink(t)
  const loop = await startLoop(t, { rules: rules(false), env: { DTR_HTTP_ALLOWED_HOSTS: '127.0.0.1' }, processEnv: { SLACK_WEBHOOK_URL: slack.url } })
  const host = loop.dt.sim.addEntity({ type: 'PROCESS_GROUP_INSTANCE', displayName: 'checkout-7d9f' } as never)
  const { securityProblem } = await loop.dt.sim.addSecurityProblem({ title: 'Remote code execution in log4j', affectedEntities: [host.entityId], riskLevel: 'CRITICAL', exposed: true, exploitAvailable: true, notify: false } as never)
  await loop.advance(INTERVAL)
  t.equal(slack.messages.length, 1, 'one Slack message')
  t.match(slack.messages[0]?.text, /Remote code execution in log4j/)
  const [run] = (await loop.store.runs.list({ limit: 5 })).runs
  t.match(run, { kind: 'security', problemId: securityProblem.displayId, state: 'succeeded', entityId: '*' }, 'keyed by the display id, as its notification would be')
  const events = loop.dt.sim.tenant.events.filter((e) => e.eventType === 'CUSTOM_INFO')
  t.equal(events.length, 1, 'one CUSTOM_INFO event')
  t.match(events[0]?.properties, { 'dt-remediator.foundBy': /^reconciliation with the Security Problems API/ }, 'the event says how it was found')
  t.match(await loop.store.notifications.listByProblem('security', securityProblem.displayId), [{ source: 'reconcile' }])

  // The notification arrives after all: the same keys, nothing more.
  const body = JSON.stringify(securityNotificationOf(loop.dt, securityProblem).body)
  t.equal((await loop.app.inject({ method: 'POST', url: '/webhooks/security', headers: { ...bearer, 'content-type': 'application/json' }, payload: body })).statusCode, 202)
  await loop.advance(INTERVAL)
  t.equal(slack.messages.length, 1, 'still one message')
  t.equal((await loop.store.runs.list({ limit: 5 })).runs.length, 1)
  t.equal(loop.dt.sim.traffic.find({ operation: 'getSecurityProblems' }).filter((r) => r.url.includes('securityProblemSelector=status')).length, 2, 'one listing per interval')
})

t.test('a security notification stored and not yet planned when the pass lists its problem: left to it', async (t) => {
  const slack = await slackSink(t)
  const loop = await startLoop(t, { rules: rules(false), env: { DTR_HTTP_ALLOWED_HOSTS: '127.0.0.1' }, processEnv: { SLACK_WEBHOOK_URL: slack.url } })
  const host = loop.dt.sim.addEntity({ type: 'PROCESS_GROUP_INSTANCE', displayName: 'checkout-7d9f' } as never)
  const { securityProblem } = await loop.dt.sim.addSecurityProblem({ title: 'Remote code execution in log4j', affectedEntities: [host.entityId], riskLevel: 'CRITICAL', exposed: true, exploitAvailable: true, notify: false } as never)
  // Stored as intake stores it, without waking the runner: only the pass that follows wakes it.
  const body = securityNotificationOf(loop.dt, securityProblem).body
  const parsed = parseSecurityPayload(body)
  if (!parsed.ok) throw new Error(parsed.errors.join('; '))
  await loop.store.notifications.record(toNewNotification(uuidV7(loop.clock.now(), randomUUID()), 'security', parsed.value, body))
  await loop.advance(INTERVAL)
  t.match(await loop.store.notifications.listByProblem('security', securityProblem.displayId), [{ source: 'webhook' }])
  t.equal((await loop.store.notifications.listByProblem('security', securityProblem.displayId)).length, 1, 'nothing taken in beside it')
  t.equal(slack.messages.length, 1, 'one Slack message')
  const events = loop.dt.sim.tenant.events.filter((e) => e.eventType === 'CUSTOM_INFO')
  t.equal(events.length, 1)
  t.notOk(String(events[0]?.properties?.['dt-remediator.foundBy'] ?? '').startsWith('reconciliation'), 'the event does not say reconciliation found it')
})

t.test('a security problem resolved without a notification: its waiting run is cancelled', async (t) => {
  const slack = await slackSink(t)
  const loop = await startLoop(t, { rules: rules(true), env: { DTR_HTTP_ALLOWED_HOSTS: '127.0.0.1' }, processEnv: { SLACK_WEBHOOK_URL: slack.url } })
  const host = loop.dt.sim.addEntity({ type: 'PROCESS_GROUP_INSTANCE', displayName: 'checkout-7d9f' } as never)
  const { securityProblem } = await loop.dt.sim.addSecurityProblem({ title: 'Deserialization', affectedEntities: [host.entityId], riskLevel: 'HIGH', exposed: true, notify: false } as never)
  const body = JSON.stringify(securityNotificationOf(loop.dt, securityProblem).body)
  t.equal((await loop.app.inject({ method: 'POST', url: '/webhooks/security', headers: { ...bearer, 'content-type': 'application/json' }, payload: body })).statusCode, 202)
  await loop.settle()
  const [waiting] = (await loop.store.runs.list({ limit: 5 })).runs
  t.equal(waiting?.state, 'awaiting_approval')
  securityProblem.status = 'RESOLVED'
  await loop.advance(INTERVAL)
  t.match(await loop.store.runs.view(waiting?.id ?? ''), { state: 'cancelled', reason: /found closed by reconciliation/ })
  t.match(await loop.store.problems.get('security', securityProblem.displayId), { status: 'closed' })
  t.equal(slack.messages.length, 0, 'nothing sent')
  await loop.advance(INTERVAL)
  t.equal((await loop.store.notifications.listByProblem('security', securityProblem.displayId)).length, 2, 'the notification and the RESOLVED reconciliation took in; nothing more')
})
