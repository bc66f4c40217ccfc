/**
 * Gen 3 workflows (Davis problem trigger → HTTP Request task): the body docs/dynatrace.md
 * publishes, rendered from a Davis problem event the way the Workflows engine renders it, passes
 * the intake of /webhooks/problem with our field names; the simulator builds that event for its
 * problems and sends the task's call on open, close and re-open.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { normalizeState } from '../../../src/domain/enrichment.js'
import { parseProblemPayload } from '../../../src/domain/payload.js'
import { WORKFLOW_PROBLEM_BODY_TEMPLATE } from '../../../src/dynatrace/templates.js'
import { davisProblemEvent, renderWorkflowTemplate, stateSchema, WorkflowTemplateError } from '../../../sim/dynatrace/index.js'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { startSimulator } from '../../helpers/dynatrace.js'

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/dynatrace/davis-problem-event.json', import.meta.url)), 'utf8')) as Record<string, unknown>
const { _about: _, ...sampleEvent } = fixture
const environment = { url: 'https://abc12345.apps.dynatrace.com' }
const render = (event: Record<string, unknown>, template = WORKFLOW_PROBLEM_BODY_TEMPLATE): string => renderWorkflowTemplate(template, { event, environment })

t.test('the documented body, rendered from the sample Davis problem event, carries our field names', async (t) => {
  const body = JSON.parse(render(sampleEvent)) as Record<string, unknown>
  t.same(body, {
    PID: '-1612920186620964634_1721382540000V2',
    ProblemID: 'P-240733209',
    State: 'ACTIVE',
    ProblemTitle: 'Response time degradation',
    ProblemURL: 'https://abc12345.apps.dynatrace.com/ui/apps/dynatrace.davis.problems/problem/-1612920186620964634_1721382540000V2',
    ImpactedEntities: ['SERVICE-1125C375A187D27A'],
    Tags: '',
    'event.category': 'SLOWDOWN',
    'event.start': '2024-07-19T09:54:00.000000000Z',
    'dt.davis.is_duplicate': false,
    'maintenance.is_under_maintenance': false,
    'dt.davis.last_reopen_timestamp': '',
    root_cause_entity_id: '',
    root_cause_entity_name: '',
    'dt.davis.mute.status': 'NOT_MUTED',
  })
  const parsed = parseProblemPayload(body)
  t.ok(parsed.ok, `passes the intake schema: ${parsed.ok ? '' : parsed.errors.join('; ')}`)
  if (parsed.ok) t.equal(normalizeState(parsed.value.State), 'OPEN', 'ACTIVE is read as OPEN')
  t.equal(normalizeState((JSON.parse(render({ ...sampleEvent, 'event.status': 'CLOSED' })) as { State: string }).State), 'RESOLVED', 'CLOSED as RESOLVED')
})

t.test('POSTed to /webhooks/problem: accepted, stored as sent; a resend is a duplicate', async (t) => {
  const app = await buildTestApp(t)
  const post = async (payload: string) => app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload })
  const open = await post(render(sampleEvent))
  t.equal(open.statusCode, 202, open.body)
  const stored = await app.store.notifications.get((open.json() as { notificationId: string }).notificationId)
  t.match(stored, { kind: 'problem', problemId: '-1612920186620964634_1721382540000V2', displayId: 'P-240733209', state: 'ACTIVE', source: 'webhook' })
  t.equal((await post(render(sampleEvent))).statusCode, 200, 'the task retried after a lost answer: a duplicate')
  t.equal((await post(render({ ...sampleEvent, 'event.status': 'CLOSED', 'event.end': '2024-07-19T10:20:00.000000000Z' }))).statusCode, 202, 'the close is a notification of its own')
})

t.test('what may hold quotes, lists and booleans goes through to_json, as Jinja needs', async (t) => {
  const tricky = { ...sampleEvent, 'event.name': 'Failure rate "increase"\non checkout', entity_tags: ['env:production', '[Kubernetes]app:checkout'], 'dt.davis.is_duplicate': true }
  const body = JSON.parse(render(tricky)) as Record<string, unknown>
  t.match(body, { ProblemTitle: 'Failure rate "increase"\non checkout', Tags: 'env:production, [Kubernetes]app:checkout', 'dt.davis.is_duplicate': true })
  t.throws(() => JSON.parse(render(tricky, '{"dup": {{ event()[\'dt.davis.is_duplicate\'] }}}')), 'without to_json, Jinja prints True: not JSON')
  t.equal(render(tricky, '{{ event()[\'entity_tags\'] }}'), "['env:production', '[Kubernetes]app:checkout']", 'and a Python list')
  t.equal(render(sampleEvent, '{{ event().get(\'nope\', \'none here\') }}|{{ event()[\'nope\'] }}'), 'none here|', 'a default, or nothing')
  t.throws(() => render(sampleEvent, '{{ event()[\'nope\'] | to_json }}'), WorkflowTemplateError, 'to_json of a missing field is an error, as in Jinja')
  t.throws(() => render(sampleEvent, '{{ execution().id }}'), /unsupported expression/, 'what the simulator does not know, it says')
  t.throws(() => render(sampleEvent, '{{ event()[\'display_id\'] | upper }}'), /unsupported filter upper/)
})

async function startReceiver (t: Test): Promise<{ url: string, bodies: Array<Record<string, unknown>>, headers: Array<Record<string, unknown>> }> {
  const app = Fastify()
  const bodies: Array<Record<string, unknown>> = []
  const headers: Array<Record<string, unknown>> = []
  app.post('/webhooks/problem', async (req, reply) => {
    bodies.push(req.body as Record<string, unknown>)
    headers.push(req.headers)
    return reply.code(202).send({ status: 'accepted' })
  })
  t.teardown(() => app.close())
  return { url: await app.listen({ port: 0, host: '127.0.0.1' }), bodies, headers }
}

t.test('the simulator: its problems\' Davis events, and the workflow call on open, close and re-open', async (t) => {
  const receiver = await startReceiver(t)
  const { sim } = await startSimulator(t)
  const w = sim.addWorkload({ namespace: 'shop', name: 'checkout', tags: ['env:production'] })
  sim.setWorkflow({ url: `${receiver.url}/webhooks/problem`, headers: { authorization: 'Basic ZHluYXRyYWNlOnBhc3N3b3Jk', 'content-type': 'application/json' } })
  t.equal(sim.workflow?.body, WORKFLOW_PROBLEM_BODY_TEMPLATE, 'the documented body by default')

  const { problem, notification } = await sim.openProblem({ title: 'Response time degradation', impactedEntities: [w.service.entityId], severityLevel: 'PERFORMANCE' })
  t.match(notification, { kind: 'workflow', state: 'ACTIVE', response: { status: 202 } })
  const event = davisProblemEvent(sim.tenant, problem)
  t.same(Object.keys(sampleEvent).filter((k) => !(k in event)), [], 'every field of Dynatrace\'s sample record')
  t.match(event, { 'event.id': problem.problemId, display_id: problem.displayId, 'event.status': 'ACTIVE', 'event.category': 'SLOWDOWN', affected_entity_ids: [w.service.entityId], entity_tags: ['env:production'] })
  t.match(receiver.bodies[0], { PID: problem.problemId, State: 'ACTIVE', ImpactedEntities: [w.service.entityId], Tags: 'env:production', 'event.category': 'SLOWDOWN' })
  t.equal(receiver.headers[0]?.authorization, 'Basic ZHluYXRyYWNlOnBhc3N3b3Jk')

  await sim.resolveProblem(problem.problemId)
  t.match(receiver.bodies[1], { PID: problem.problemId, State: 'CLOSED' })
  await sim.reopenProblem(problem.problemId)
  t.match(receiver.bodies[2], { State: 'ACTIVE', 'dt.davis.last_reopen_timestamp': /^\d{4}-\d\d-\d\dT.*Z$/ })
  for (const b of receiver.bodies) t.ok(parseProblemPayload(b).ok, `${String(b.State)}: passes the intake schema`)
  t.equal(sim.notifications.filter((n) => n.kind === 'workflow').length, 3)
})

t.test('the control API configures the workflow; the state file may too', async (t) => {
  const receiver = await startReceiver(t)
  const { sim, url } = await startSimulator(t)
  const svc = sim.addEntity({ type: 'SERVICE', displayName: 'checkout' })
  const put = await fetch(`${url}/_sim/workflow`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: `${receiver.url}/webhooks/problem`, headers: [{ name: 'x-webhook-token', value: 'change-me' }] }) })
  t.equal(put.status, 200)
  t.match(await put.json(), { url: `${receiver.url}/webhooks/problem`, headers: { 'x-webhook-token': 'change-me' }, body: WORKFLOW_PROBLEM_BODY_TEMPLATE })
  const opened = await fetch(`${url}/_sim/problems`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Crash', impactedEntities: [svc.entityId] }) })
  t.match(await opened.json(), { notification: { kind: 'workflow', response: { status: 202 } } })
  t.match(receiver.bodies, [{ State: 'ACTIVE', ImpactedEntities: [svc.entityId] }])
  t.match(await (await fetch(`${url}/_sim/templates`)).json(), { workflow: WORKFLOW_PROBLEM_BODY_TEMPLATE })
  t.equal((await fetch(`${url}/_sim/workflow`, { method: 'DELETE' })).status, 204)
  t.equal((await fetch(`${url}/_sim/workflow`)).status, 404)
  t.ok(stateSchema.safeParse({ workflow: { url: 'http://127.0.0.1:8080/webhooks/problem', headers: { 'x-webhook-token': 'change-me' } } }).success, 'the state file takes a workflow')
})
