/**
 * The notification reconciliation takes in (src/runner/reconcile/body.ts): the body the
 * recommended template would have sent, under our field names, deterministic, and accepted by
 * the intake's own schema, so that its keys are a webhook's.
 */
import t from 'tap'
import { parseProblemPayload } from '../../src/domain/payload.js'
import { problemSchema, securityProblemDetailsSchema } from '../../src/dynatrace/schemas.js'
import { occurrenceOf, problemBody, reconciledNotification, securityBody } from '../../src/runner/reconcile/index.js'

const problem = problemSchema.parse({
  problemId: '-6386032669938507213_1634684083930V2',
  displayId: 'P-211020',
  title: 'Failure rate increase',
  status: 'OPEN',
  severityLevel: 'ERROR',
  impactLevel: 'SERVICES',
  startTime: 1634684083930,
  endTime: -1,
  impactedEntities: [{ entityId: { id: 'SERVICE-1125C375A187D27A', type: 'SERVICE' }, name: 'checkout-service' }],
  affectedEntities: [{ entityId: { id: 'SERVICE-1125C375A187D27A', type: 'SERVICE' }, name: 'checkout-service' }],
  entityTags: [{ context: 'CONTEXTLESS', key: 'env', value: 'production', stringRepresentation: 'env:production' }, { context: 'KUBERNETES', key: 'team', value: 'checkout' }],
})
const HREF = 'https://abc12345.live.dynatrace.com'

t.test('a problem: the fields of the recommended template', async (t) => {
  const body = problemBody(problem, 'OPEN', 1, HREF)
  t.match(body, {
    PID: problem.problemId,
    ProblemID: 'P-211020',
    State: 'OPEN',
    ProblemTitle: 'Failure rate increase',
    ProblemImpact: 'SERVICE',
    ProblemSeverity: 'ERROR',
    ProblemURL: `${HREF}/#problems/problemdetails;pid=${problem.problemId}`,
    Tags: 'env:production, [KUBERNETES]team:checkout',
    ImpactedEntity: 'checkout-service',
    ImpactedEntities: [{ type: 'SERVICE', name: 'checkout-service', entity: 'SERVICE-1125C375A187D27A' }],
    ProblemDetailsJSONv2: { problemId: problem.problemId, startTime: 1634684083930 },
    'dt-remediator.occurrence': 1,
  })
  const parsed = parseProblemPayload(body)
  t.ok(parsed.ok, 'passes the intake schema')
  t.equal(occurrenceOf(body), 1)
  t.equal(occurrenceOf({ PID: 'x' }), undefined, 'a webhook\'s body says nothing of it')
})

t.test('deterministic: the same problem twice is one notification; a re-open or a close is another', async (t) => {
  const a = reconciledNotification('problem', problemBody(problem, 'OPEN', 1, HREF), 1000)
  const b = reconciledNotification('problem', problemBody(structuredClone(problem), 'OPEN', 1, HREF), 2000)
  t.not(a.id, b.id)
  t.equal(a.dedupeKey, b.dedupeKey, 'same dedupe key: the second is a duplicate')
  t.match(a, { source: 'reconcile', kind: 'problem', problemId: problem.problemId, displayId: 'P-211020', state: 'OPEN' })
  t.not(reconciledNotification('problem', problemBody(problem, 'OPEN', 2, HREF), 3000).dedupeKey, a.dedupeKey, 'the next occurrence')
  const closed = reconciledNotification('problem', problemBody({ ...problem, status: 'CLOSED', endTime: 1634684999999 }, 'RESOLVED', 1, HREF), 4000)
  t.match(closed, { state: 'RESOLVED' })
  t.not(closed.dedupeKey, a.dedupeKey)
})

t.test('a security problem: the fields of the recommended security template, keyed by its display id', async (t) => {
  const details = securityProblemDetailsSchema.parse({
    securityProblemId: '12544152654387159360',
    displayId: 'S-1234',
    status: 'OPEN',
    title: 'Improper Input Validation in log4j-core',
    description: 'JNDI features do not protect against attacker controlled LDAP endpoints.',
    riskAssessment: { riskLevel: 'CRITICAL', riskScore: 10, exposure: 'PUBLIC_NETWORK', dataAssets: 'NOT_DETECTED', publicExploit: 'AVAILABLE' },
    managementZones: [{ id: '1', name: 'Shop' }, { id: '2', name: 'Production' }],
    affectedEntities: ['PROCESS_GROUP-3B63D8D4A5A5D7C1'],
  })
  const body = securityBody(details, details, 1, HREF)
  t.match(body, {
    SecurityProblemId: 'S-1234',
    Title: 'Improper Input Validation in log4j-core',
    Severity: 'Critical',
    DavisSecurityScore: '10.0',
    SecurityProblemUrl: `${HREF}/ui/security/vulnerabilities/12544152654387159360`,
    ExploitAvailable: 'true',
    Exposed: 'true',
    DataAssetsReachable: 'false',
    ManagementZones: 'Shop, Production',
    AffectedEntities: ['PROCESS_GROUP-3B63D8D4A5A5D7C1'],
  })
  const open = reconciledNotification('security', body, 1000)
  t.match(open, { kind: 'security', problemId: 'S-1234', displayId: 'S-1234', state: undefined, source: 'reconcile' })
  const resolved = reconciledNotification('security', securityBody({ ...details, status: 'RESOLVED' }, details, 1, HREF), 2000, true)
  t.match(resolved, { state: 'RESOLVED' })
  t.not(resolved.dedupeKey, open.dedupeKey)
  t.equal(securityBody({ securityProblemId: '1', managementZones: [] }, undefined, 1, HREF).Exposed, '', 'unknown risk: "", as Dynatrace fills unset values')
})
