/**
 * The simulator speaks the real API: every response of the operations dt-remediator uses
 * validates against the component schema the OpenAPI document names for that operation and
 * status, and every error against ErrorEnvelope.
 */
import t from 'tap'
import { ENTITY_PROPERTIES_DEFECT, openApi, responseSchemaName, schemaErrors, scopeOf } from '../../helpers/dynatrace-openapi.js'
import { TEST_TOKEN, startSimulator } from '../../helpers/dynatrace.js'

const auth = { authorization: `Api-Token ${TEST_TOKEN}` }

t.test('simulator responses validate against env-v2.json', async (t) => {
  const { sim, url } = await startSimulator(t)
  const w = sim.addWorkload({ namespace: 'shop', name: 'checkout', instances: 2, tags: ['env:production'], managementZones: ['Shop'] })
  const { problem } = await sim.openProblem({ title: 'Failure rate increase', impactedEntities: [w.service.entityId], rootCauseEntity: w.service.entityId })
  sim.tenant.addComment(problem, 'first', 'ctx')
  sim.addEvent({ eventType: 'CUSTOM_DEPLOYMENT', title: 'Deploy checkout 1.4.2', entityId: w.service.entityId, properties: { 'dt.event.deployment.version': '1.4.2' } })
  const { securityProblem } = await sim.addSecurityProblem({ title: 'log4shell', affectedEntities: [w.processGroup.entityId], cveIds: ['CVE-2021-44228'], cvssScore: 10, exposed: true })
  const pid = encodeURIComponent(problem.problemId)
  const commentId = problem.comments[0]?.id ?? ''

  const calls: Array<{ operation: string, method?: string, path: string, body?: unknown, status: number }> = [
    { operation: 'getProblem', path: `/problems/${pid}?fields=evidenceDetails,impactAnalysis,recentComments`, status: 200 },
    { operation: 'getProblems', path: '/problems?problemSelector=status("open")&fields=evidenceDetails', status: 200 },
    { operation: 'getProblems', path: `/problems?problemSelector=status("open")&from=${Date.now() - 86_400_000}&pageSize=500`, status: 200 },
    { operation: 'getComments', path: `/problems/${pid}/comments`, status: 200 },
    { operation: 'getComment', path: `/problems/${pid}/comments/${commentId}`, status: 200 },
    { operation: 'createComment', method: 'POST', path: `/problems/${pid}/comments`, body: { message: 'hello', context: 'dt-remediator' }, status: 201 },
    { operation: 'updateComment', method: 'PUT', path: `/problems/${pid}/comments/${commentId}`, body: { message: 'edited' }, status: 204 },
    { operation: 'getEvents', path: `/events?eventSelector=eventType("CUSTOM_DEPLOYMENT")&entitySelector=entityId("${w.service.entityId}")&from=now-1h`, status: 200 },
    { operation: 'createEvent', method: 'POST', path: '/events/ingest', body: { eventType: 'CUSTOM_INFO', title: 'dt-remediator: kubernetes.rollback succeeded', entitySelector: `entityId("${w.workload.entityId}")`, properties: { run: 'r1' } }, status: 201 },
    { operation: 'getEntity', path: `/entities/${w.service.entityId}?fields=+properties,+tags,+fromRelationships,+toRelationships`, status: 200 },
    { operation: 'getEntity', path: `/entities/${w.workload.entityId}`, status: 200 },
    { operation: 'getEntity', path: `/entities/${w.workload.entityId}?fields=+properties.namespaceName,+toRelationships.isClusterOfCa&from=now-1h`, status: 200 },
    { operation: 'getEntities', path: '/entities?entitySelector=type("SERVICE")', status: 200 },
    { operation: 'getEntities', path: `/entities?entitySelector=${encodeURIComponent(`type(CLOUD_APPLICATION),toRelationships.isPgOfCa(type(PROCESS_GROUP),toRelationships.runsOn(type(SERVICE),entityId("${w.service.entityId}")))`)}&fields=+properties,+tags,+fromRelationships,+toRelationships,+managementZones`, status: 200 },
    { operation: 'getEntities', path: '/entities?entitySelector=type(PROCESS_GROUP_INSTANCE),tag("env:production")&pageSize=1&sort=-name&fields=+properties,+lastSeenTms', status: 200 },
    { operation: 'getSecurityProblems', path: `/securityProblems?securityProblemSelector=displayIds("${securityProblem.displayId}")&fields=+riskAssessment,+managementZones`, status: 200 },
    { operation: 'getSecurityProblems', path: '/securityProblems?securityProblemSelector=status("OPEN")&pageSize=500&fields=%2BriskAssessment,%2BmanagementZones', status: 200 },
    { operation: 'getSecurityProblem', path: `/securityProblems/${securityProblem.securityProblemId}?fields=+riskAssessment,+description,+affectedEntities,+exposedEntities,+reachableDataAssets,+managementZones`, status: 200 },
    { operation: 'deleteComment', method: 'DELETE', path: `/problems/${pid}/comments/${commentId}`, status: 204 },
    { operation: 'closeProblem', method: 'POST', path: `/problems/${pid}/close`, body: { message: 'closed by test' }, status: 200 },
    { operation: 'closeProblem', method: 'POST', path: `/problems/${pid}/close`, body: { message: 'again' }, status: 204 },
  ]

  for (const call of calls) {
    const res = await fetch(`${url}/api/v2${call.path}`, {
      method: call.method ?? 'GET',
      headers: { ...auth, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    })
    const text = await res.text()
    t.equal(res.status, call.status, `${call.operation} ${call.path} answers ${call.status}: ${text.slice(0, 200)}`)
    const schema = responseSchemaName(call.operation, call.status)
    if (schema === undefined) {
      t.equal(text, '', `${call.operation} ${call.status} has no body, as the spec says`)
    } else {
      t.match(res.headers.get('content-type') ?? '', /^application\/json/, `${call.operation} answers JSON`)
      t.same(schemaErrors(schema, JSON.parse(text)), [], `${call.operation} ${call.status} validates against ${schema}`)
    }
  }
})

t.test('errors use the ErrorEnvelope and the scopes of the spec', async (t) => {
  const { sim, url } = await startSimulator(t)
  sim.addToken('read-only', ['problems.read'])
  const cases: Array<{ what: string, path: string, headers: Record<string, string>, method?: string, body?: string, status: number, message?: RegExp }> = [
    { what: 'no token', path: '/problems/x', headers: {}, status: 401 },
    { what: 'unknown token', path: '/problems/x', headers: { authorization: 'Api-Token nope' }, status: 401 },
    { what: 'missing scope', path: '/entities/SERVICE-1', headers: { authorization: 'Api-Token read-only' }, status: 403, message: new RegExp(scopeOf('getEntity') ?? 'entities.read') },
    { what: 'missing write scope', method: 'POST', path: '/problems/x/comments', headers: { authorization: 'Api-Token read-only', 'content-type': 'application/json' }, body: '{"message":"m"}', status: 403, message: /problems\.write/ },
    { what: 'unknown problem', path: '/problems/nope', headers: auth, status: 404 },
    { what: 'unknown entity', path: '/entities/SERVICE-0000000000000000', headers: auth, status: 404 },
    { what: 'entities without a selector', path: '/entities', headers: auth, status: 400, message: /Constraints violated/ },
    { what: 'entities without type or entityId', path: '/entities?entitySelector=tag("x")', headers: auth, status: 400 },
    { what: 'an unsupported criterion', path: '/entities?entitySelector=type(HOST),healthState("HEALTHY")', headers: auth, status: 400 },
    { what: 'an unknown field', path: '/entities?entitySelector=type(HOST)&fields=+nope', headers: auth, status: 400 },
    { what: 'an unknown field on one entity', path: '/entities/SERVICE-0000000000000000?fields=+nope', headers: auth, status: 404 },
    { what: 'entities sorted by something else', path: '/entities?entitySelector=type(HOST)&sort=firstSeenTms', headers: auth, status: 400 },
    { what: 'page size over the limit', path: '/events?pageSize=1001', headers: auth, status: 400, message: /Constraints violated/ },
    { what: 'nextPageKey with other parameters', path: '/events?nextPageKey=abc&from=now-1h', headers: auth, status: 400 },
    { what: 'bad selector', path: '/events?eventSelector=eventType(', headers: auth, status: 400 },
    { what: 'bad JSON body', method: 'POST', path: '/events/ingest', headers: { ...auth, 'content-type': 'application/json' }, body: '{', status: 400 },
    { what: 'ingest without title', method: 'POST', path: '/events/ingest', headers: { ...auth, 'content-type': 'application/json' }, body: '{"eventType":"CUSTOM_INFO"}', status: 400 },
  ]
  for (const c of cases) {
    const res = await fetch(`${url}/api/v2${c.path}`, { method: c.method ?? 'GET', headers: c.headers, ...(c.body === undefined ? {} : { body: c.body }) })
    const body = await res.json() as { error?: { code?: number, message?: string } }
    t.equal(res.status, c.status, `${c.what} → ${c.status}`)
    t.same(schemaErrors('ErrorEnvelope', body), [], `${c.what}: ErrorEnvelope`)
    t.equal(body.error?.code, c.status, `${c.what}: code in the envelope`)
    if (c.message !== undefined) t.match(body.error?.message ?? '', c.message, `${c.what}: message`)
  }
})

t.test('the one patched defect of the document is still there', async (t) => {
  const entity = openApi.components.schemas.Entity as { example: { properties: Record<string, unknown> }, properties: { properties: { additionalProperties: unknown } } }
  t.same(entity.properties.properties.additionalProperties, { ...ENTITY_PROPERTIES_DEFECT.declared, description: 'A list of additional properties of the entity.' }, 'Entity.properties values are declared as objects')
  t.ok(Object.values(entity.example.properties).some((v) => typeof v !== 'object'), 'while the document\'s own example has scalar property values')
  t.same(schemaErrors('Entity', entity.example), [], 'the example validates against the patched schema')
})
