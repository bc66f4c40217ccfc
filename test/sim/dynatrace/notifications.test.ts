/**
 * The notification sender: what the simulated tenant POSTs to a webhook parses as JSON and passes
 * the service's intake schema (src/domain/payload.ts) — for the recommended templates, the test
 * notification and a resolve — with Dynatrace's rendering rules (escaping, unquoted JSON
 * placeholders, {Tags[key]}).
 */
import Fastify from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { isTestNotification } from '../../../src/domain/kinds/index.js'
import { parseProblemPayload, parseSecurityPayload } from '../../../src/domain/payload.js'
import {
  RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE, renderTemplate, testPlaceholders,
} from '../../../src/dynatrace/templates.js'
import { schemaErrors } from '../../helpers/dynatrace-openapi.js'
import { startSimulator } from '../../helpers/dynatrace.js'

interface Received { headers: Record<string, string | string[] | undefined>, body: string }

/** A webhook receiver that records raw bodies and answers 202. */
async function startReceiver (t: Test): Promise<{ url: string, received: Received[] }> {
  const app = Fastify()
  const received: Received[] = []
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => { done(null, body) })
  app.post('/webhooks/:kind', async (req, reply) => {
    received.push({ headers: req.headers, body: String(req.body) })
    return reply.code(202).send({ status: 'accepted' })
  })
  t.teardown(() => app.close())
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, received }
}

t.test('the recommended problem template: open, resolve, test notification', async (t) => {
  const receiver = await startReceiver(t)
  const { sim } = await startSimulator(t)
  const w = sim.addWorkload({ namespace: 'shop', name: 'checkout', tags: ['k8s.namespace.name:shop', 'env:production', 'team:checkout'] })
  sim.setWebhook({ url: `${receiver.url}/webhooks/problem`, headers: { 'x-webhook-token': 's3cret' }, payload: RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, notifyClosedProblems: true })

  const { problem, notification } = await sim.openProblem({ title: 'Failure rate "increase"\non checkout', impactedEntities: [w.service.entityId], severityLevel: 'ERROR' })
  t.match(notification?.response, { status: 202 }, 'the webhook answered')
  const open = JSON.parse(receiver.received[0]?.body ?? '') as Record<string, unknown>
  const parsedOpen = parseProblemPayload(open)
  t.ok(parsedOpen.ok, `passes the intake schema: ${parsedOpen.ok ? '' : parsedOpen.errors.join('; ')}`)
  t.match(open, {
    PID: problem.problemId,
    ProblemID: problem.displayId,
    State: 'OPEN',
    ProblemTitle: 'Failure rate "increase"\non checkout',
    ProblemImpact: 'SERVICE',
    ProblemSeverity: 'ERROR',
    ProblemURL: new RegExp(`#problems/problemdetails;pid=${problem.problemId}$`),
    Tags: /k8s\.namespace\.name:shop/,
    ImpactedEntities: [{ type: 'SERVICE', name: 'checkout', entity: w.service.entityId }],
  })
  t.same(schemaErrors('Problem', open.ProblemDetailsJSONv2), [], 'ProblemDetailsJSONv2 is a v2 Problem')
  t.equal(receiver.received[0]?.headers['x-webhook-token'], 's3cret', 'custom headers are sent')
  t.equal(receiver.received[0]?.headers['content-type'], 'application/json')
  if (parsedOpen.ok) t.notOk(isTestNotification('problem', parsedOpen.value))

  await sim.resolveProblem(problem.problemId)
  const resolved = JSON.parse(receiver.received[1]?.body ?? '') as Record<string, unknown>
  const parsedResolved = parseProblemPayload(resolved)
  t.ok(parsedResolved.ok, 'the RESOLVED notification passes the intake schema')
  t.equal(resolved.State, 'RESOLVED')
  t.match(resolved.ProblemDetailsJSONv2, { status: 'CLOSED' })
  t.ok(((resolved.ProblemDetailsJSONv2 as { endTime: number }).endTime) >= problem.startTime, 'with its endTime')

  await sim.sendTestNotification()
  const test = JSON.parse(receiver.received[2]?.body ?? '') as Record<string, unknown>
  const parsedTest = parseProblemPayload(test)
  t.ok(parsedTest.ok, 'the test notification passes the intake schema')
  if (parsedTest.ok) t.ok(isTestNotification('problem', parsedTest.value), 'and is recognised as a test')
  t.match(test, { PID: '99999', ProblemID: '999', ImpactedEntities: [{ entity: 'HOST-XXXXXXXXXXXXX' }, { entity: 'SERVICE-XXXXXXXXXXXXX' }] })
  t.equal(sim.notifications.length, 3)
})

t.test('closed problems are not notified when the integration says so', async (t) => {
  const receiver = await startReceiver(t)
  const { sim } = await startSimulator(t)
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 's' })
  sim.setWebhook({ url: `${receiver.url}/webhooks/problem`, headers: {}, payload: RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, notifyClosedProblems: false })
  const { problem } = await sim.openProblem({ title: 'p', impactedEntities: [svc.entityId] })
  const result = await sim.resolveProblem(problem.problemId)
  t.equal(result?.notification, undefined)
  t.equal(receiver.received.length, 1, 'only the OPEN notification')
})

t.test('Dynatrace\'s default template lacks PID: the intake names the placeholder to add', async (t) => {
  const receiver = await startReceiver(t)
  const { sim } = await startSimulator(t)
  sim.setWebhook({ url: `${receiver.url}/webhooks/problem`, headers: {}, notifyClosedProblems: true })
  await sim.sendTestNotification()
  const body = JSON.parse(receiver.received[0]?.body ?? '') as unknown
  const parsed = parseProblemPayload(body)
  t.notOk(parsed.ok)
  if (!parsed.ok) t.match(parsed.errors.join('\n'), /Missing PID: add "PID":"\{PID\}"/)
})

t.test('the recommended security template passes the security intake', async (t) => {
  const receiver = await startReceiver(t)
  const { sim } = await startSimulator(t)
  const w = sim.addWorkload({ namespace: 'shop', name: 'checkout', tags: ['env:production'], managementZones: ['Shop'] })
  sim.setSecurityWebhook({ url: `${receiver.url}/webhooks/security`, headers: { authorization: 'Bearer s3cret' }, payload: RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE })
  const { securityProblem } = await sim.addSecurityProblem({
    title: 'Improper Input Validation in log4j-core',
    description: 'JNDI "lookup"\nfeatures',
    affectedEntities: [w.processGroup.entityId],
    riskLevel: 'CRITICAL',
    riskScore: 10,
    cvssScore: 10,
    exposed: true,
    exploitAvailable: true,
    managementZones: ['Shop'],
  })
  const body = JSON.parse(receiver.received[0]?.body ?? '') as Record<string, unknown>
  const parsed = parseSecurityPayload(body)
  t.ok(parsed.ok, `passes the intake schema: ${parsed.ok ? '' : parsed.errors.join('; ')}`)
  t.match(body, {
    SecurityProblemId: securityProblem.displayId,
    Severity: 'Critical',
    DavisSecurityScore: '10.0',
    Exposed: 'true',
    ExploitAvailable: 'true',
    DataAssetsReachable: 'false',
    ManagementZones: 'Shop',
    AffectedEntities: [w.processGroup.entityId],
    Description: 'JNDI "lookup"\nfeatures',
  })
  t.equal(receiver.received[0]?.headers.authorization, 'Bearer s3cret')
})

t.test('template rendering rules', async (t) => {
  const placeholders = { tags: [{ context: 'CONTEXTLESS', key: 'env', value: 'prod' }, { context: 'CONTEXTLESS', key: 'flag' }], values: { ProblemTitle: { kind: 'text' as const, value: 'a "b"' }, ImpactedEntities: { kind: 'json' as const, value: ['X'] } } }
  t.equal(renderTemplate('{"t":"{ProblemTitle}","e":{ImpactedEntities}}', placeholders), '{"t":"a \\"b\\"","e":["X"]}', 'strings escaped, JSON unquoted')
  t.equal(renderTemplate('"{ProblemTitle}"', placeholders, false), '"a "b""', 'no escaping with a non-JSON Content-Type')
  t.equal(renderTemplate('{Tags[env]}|{Tags[flag]}|{Tags[missing]}', placeholders), 'prod||{Tags[missing]}', '{Tags[key]}: value, "" without value, unreplaced when absent')
  t.equal(renderTemplate('{Unknown}', placeholders), '{Unknown}')
  const rendered = JSON.parse(renderTemplate(RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, testPlaceholders())) as unknown
  t.ok(parseProblemPayload(rendered).ok, 'the recommended template renders the test values into a valid payload')
  t.ok(RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE.length <= 5000 && RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE.length <= 5000, 'within Dynatrace\'s 5000-character payload limit')
})
