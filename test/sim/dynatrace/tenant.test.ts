/**
 * The tenant model target resolution stands on: a Kubernetes workload world related under
 * Dynatrace's names, each relationship shown consistently from both ends, refused when it is
 * reversed or unknown; problems that close and re-open; deployment events; the entity projection.
 * Pure: a Tenant (or the simulator object) and no server.
 */
import t from 'tap'
import { DynatraceSimulator } from '../../../sim/dynatrace/index.js'
import { addWorkload, DEFAULT_CLUSTER, entityProjection, renderEntity, renderProblem, REOPEN_WINDOW_MS, Tenant } from '../../../sim/dynatrace/tenant/index.js'
import { schemaErrors } from '../../helpers/dynatrace-openapi.js'

const refs = (tenant: Tenant, id: string, position: 'from' | 'to'): Record<string, string[]> =>
  Object.fromEntries(Object.entries(tenant.relationshipsOf(id, position)).map(([k, v]) => [k, v.map((r) => r.id)]))

t.test('a workload world: cluster, namespace, workload, process group, instances, host, service', async (t) => {
  const tenant = new Tenant(() => 1_000)
  const w = addWorkload(tenant, { namespace: 'shop', name: 'checkout', instances: 2, labels: { app: 'checkout', tier: 'web' } })
  t.equal(w.cluster.displayName, DEFAULT_CLUSTER)
  t.match(w.workload, { type: 'CLOUD_APPLICATION', displayName: 'checkout', properties: { namespaceName: 'shop', cloudApplicationDeploymentTypes: ['KUBERNETES_DEPLOYMENT'], kubernetesLabels: { app: 'checkout', tier: 'web' } } })
  t.same(w.service.tags, [], 'nothing is tagged unless asked')
  t.same(refs(tenant, w.service.entityId, 'from'), {
    runsOn: [w.processGroup.entityId],
    runsOnProcessGroupInstance: w.processGroupInstances.map((e) => e.entityId),
    runsOnHost: [w.host.entityId],
  })
  t.same(refs(tenant, w.service.entityId, 'to'), { isNamespaceOfService: [w.namespace.entityId] })
  t.same(refs(tenant, w.processGroup.entityId, 'from'), { isPgOfCa: [w.workload.entityId], runsOn: [w.host.entityId] })
  t.same(refs(tenant, w.processGroup.entityId, 'to'), { isNamespaceOfPg: [w.namespace.entityId], isInstanceOf: w.processGroupInstances.map((e) => e.entityId), runsOn: [w.service.entityId] })
  t.same(refs(tenant, w.workload.entityId, 'to'), { isClusterOfCa: [w.cluster.entityId], isNamespaceOfCa: [w.namespace.entityId], isPgOfCa: [w.processGroup.entityId] })
  t.same(refs(tenant, w.namespace.entityId, 'to'), { isClusterOfNamespace: [w.cluster.entityId] })
  for (const pgi of w.processGroupInstances) {
    t.same(refs(tenant, pgi.entityId, 'from'), { isInstanceOf: [w.processGroup.entityId], isProcessOf: [w.host.entityId] })
    t.match(pgi.properties.metadata, [{ key: 'KUBERNETES_NAMESPACE', value: 'shop' }, { key: 'KUBERNETES_FULL_POD_NAME', value: /^checkout-[a-z0-9]{9}-[a-z0-9]{5}$/ }, { key: 'KUBERNETES_BASE_POD_NAME', value: 'checkout' }, { key: 'KUBERNETES_CONTAINER_NAME', value: 'checkout' }])
  }
  t.not(w.processGroupInstances[0]?.entityId, w.processGroupInstances[1]?.entityId)

  const again = new Tenant(() => 1_000)
  t.same(addWorkload(again, { namespace: 'shop', name: 'checkout', instances: 2 }).service.entityId, w.service.entityId, 'ids are derived, not random')
})

t.test('namespaces, clusters and hosts are shared by name; each cluster has its own namespaces', async (t) => {
  const tenant = new Tenant(() => 1_000)
  const a = addWorkload(tenant, { namespace: 'shop', name: 'checkout' })
  const b = addWorkload(tenant, { namespace: 'shop', name: 'cart' })
  const c = addWorkload(tenant, { namespace: 'shop', name: 'checkout', cluster: 'eu-1' })
  t.equal(b.namespace.entityId, a.namespace.entityId)
  t.equal(b.cluster.entityId, a.cluster.entityId)
  t.equal(b.host.entityId, a.host.entityId)
  t.not(c.namespace.entityId, a.namespace.entityId)
  t.not(c.workload.entityId, a.workload.entityId, 'the same workload name in another cluster is another entity')
  t.not(c.service.entityId, a.service.entityId)
  t.same(tenant.related(a.namespace.entityId, 'from', 'isNamespaceOfCa'), [a.workload.entityId, b.workload.entityId])
})

t.test('every relationship appears once on each side, under the same name', async (t) => {
  const tenant = new Tenant(() => 1_000)
  const shop = addWorkload(tenant, { namespace: 'shop', name: 'checkout', instances: 3 })
  addWorkload(tenant, { namespace: 'shop', name: 'cart', calls: [shop.service.entityId] })
  tenant.relate(shop.service.entityId, 'runsOn', shop.processGroup.entityId)
  let checked = 0
  for (const e of tenant.entities.values()) {
    const json = renderEntity(tenant, e) as { fromRelationships: Record<string, Array<{ id: string, type: string }>>, toRelationships: Record<string, Array<{ id: string, type: string }>> }
    for (const [name, list] of Object.entries(json.fromRelationships)) {
      t.equal(new Set(list.map((r) => r.id)).size, list.length, `${e.displayName} ${name}: no duplicates`)
      for (const r of list) {
        const other = renderEntity(tenant, tenant.entities.get(r.id) ?? e) as typeof json
        t.equal(r.type, tenant.entities.get(r.id)?.type)
        t.ok(other.toRelationships[name]?.some((x) => x.id === e.entityId && x.type === e.type), `${e.type} ${name} ${r.type}: mirrored`)
        checked++
      }
    }
    t.same(schemaErrors('Entity', json), [], `${e.type} validates against Entity`)
  }
  t.equal(checked, tenant.relationships.length, 'the FROM sides list every relationship once')
})

t.test('seeding refuses reversed, unknown and dangling relationships, and leaves nothing behind', async (t) => {
  const tenant = new Tenant(() => 1_000)
  const w = addWorkload(tenant, { namespace: 'shop', name: 'checkout' })
  const before = tenant.entities.size
  t.throws(() => tenant.addEntity({ type: 'PROCESS_GROUP', displayName: 'pg', toRelationships: { isPgOfCa: [w.workload.entityId] } }), { message: /isPgOfCa relates PROCESS_GROUP → CLOUD_APPLICATION, not CLOUD_APPLICATION → PROCESS_GROUP \(the direction is reversed\)/ })
  t.throws(() => tenant.relate(w.processGroup.entityId, 'runsOn', w.service.entityId), { message: /direction is reversed/ })
  t.throws(() => tenant.relate(w.service.entityId, 'runsOn', w.host.entityId), { message: /runsOn relates SERVICE → PROCESS_GROUP, PROCESS_GROUP → HOST/ }, 'a service runs on a host through runsOnHost')
  t.throws(() => tenant.relate(w.service.entityId, 'runOn', w.processGroup.entityId), { message: /Unknown relationship "runOn"/ })
  t.throws(() => tenant.addEntity({ type: 'SERVICE', displayName: 's', fromRelationships: { calls: ['SERVICE-0000000000000000'] } }), { message: /Unknown entity SERVICE-0000000000000000/ })
  t.throws(() => tenant.addEntity({ entityId: w.service.entityId, type: 'SERVICE', displayName: 'dup' }), { message: /exists already/ })
  t.equal(tenant.entities.size, before, 'no half-seeded entity')
})

t.test('problems: derived and given tags and zones, Kubernetes scope, close and re-open', async (t) => {
  let now = 10_000_000
  const tenant = new Tenant(() => now)
  const w = addWorkload(tenant, { namespace: 'shop', name: 'checkout', cluster: 'eu-1', tags: ['env:prod'], managementZones: ['Shop'] })
  const p = tenant.openProblem({ title: 'Failure rate increase', impactedEntities: [w.processGroupInstances[0]?.entityId ?? ''], affectedEntities: [w.service.entityId], entityTags: ['[Environment]owner:team-a', 'env:prod'], managementZones: ['Payments'] })
  const json = renderProblem(tenant, p, new Set())
  t.same(schemaErrors('Problem', json), [])
  t.match(json, {
    status: 'OPEN',
    endTime: -1,
    'k8s.namespace.name': ['shop'],
    'k8s.cluster.name': ['eu-1'],
    entityTags: [{ key: 'env', value: 'prod', stringRepresentation: 'env:prod' }, { context: 'Environment', key: 'owner', stringRepresentation: '[Environment]owner:team-a' }],
    managementZones: [{ name: 'Shop' }, { name: 'Payments' }],
    impactedEntities: [{ entityId: { type: 'PROCESS_GROUP_INSTANCE' } }],
    affectedEntities: [{ entityId: { id: w.service.entityId, type: 'SERVICE' }, name: 'checkout' }],
  })
  t.equal((json.entityTags as unknown[]).length, 2, 'tags deduplicated')

  now += 60_000
  t.equal(tenant.closeProblem(p.problemId), true)
  t.equal(tenant.closeProblem(p.problemId), false, 'closing twice changes nothing')
  t.match(p, { status: 'CLOSED', endTime: now, occurrence: 1 })
  now += REOPEN_WINDOW_MS
  t.equal(tenant.reopenProblem(p.problemId), 'reopened', 'within 30 minutes of the close')
  t.match(p, { status: 'OPEN', endTime: -1, occurrence: 2 })
  t.equal(tenant.reopenProblem(p.problemId), 'open')
  tenant.closeProblem(p.problemId)
  now += REOPEN_WINDOW_MS + 1
  t.equal(tenant.reopenProblem(p.problemId), 'too-late', 'later, Dynatrace opens a new problem instead')
  t.equal(p.status, 'CLOSED')
  t.equal(tenant.reopenProblem('nope'), undefined)
})

t.test('deployment events carry dt.event.deployment.* and land on the selected entities', async (t) => {
  const sim = new DynatraceSimulator({ now: () => 5_000_000 })
  t.teardown(() => sim.close())
  const w = sim.addWorkload({ namespace: 'shop', name: 'checkout', instances: 2 })
  const results = sim.addDeployment({ entitySelector: `type(PROCESS_GROUP_INSTANCE),fromRelationships.isInstanceOf(type(PROCESS_GROUP),entityId("${w.processGroup.entityId}"))`, name: 'checkout', version: '1.4.2', project: 'shop', remediationActionLink: 'https://ci/rollback', properties: { 'k8s.deployment.name': 'checkout' } })
  t.equal(results.length, 2, 'one event per process group instance')
  t.same(sim.tenant.events.map((e) => e.entityId), w.processGroupInstances.map((e) => e.entityId))
  t.match(sim.tenant.events[0], {
    eventType: 'CUSTOM_DEPLOYMENT',
    title: 'Deploy checkout 1.4.2',
    startTime: 5_000_000,
    properties: { 'dt.event.deployment.name': 'checkout', 'dt.event.deployment.version': '1.4.2', 'dt.event.deployment.project': 'shop', 'dt.event.deployment.remediation_action_link': 'https://ci/rollback', 'k8s.deployment.name': 'checkout' },
  })
  t.throws(() => sim.addDeployment({ name: 'x', version: '1' }), { message: /entityId or entitySelector/ })
})

t.test('the entity projection: base fields always, the rest as asked', async (t) => {
  const tenant = new Tenant(() => 2_000)
  const w = addWorkload(tenant, { namespace: 'shop', name: 'checkout', tags: ['env:prod'] })
  const view = (fields: string | undefined): Record<string, unknown> => renderEntity(tenant, w.workload, entityProjection(fields))
  t.same(Object.keys(view('')), ['entityId', 'type', 'displayName'])
  t.same(view('+properties.NAMESPACENAME,+toRelationships.isPgOfCa'), {
    entityId: w.workload.entityId,
    type: 'CLOUD_APPLICATION',
    displayName: 'checkout',
    properties: { namespaceName: 'shop' },
    toRelationships: { isPgOfCa: [{ id: w.processGroup.entityId, type: 'PROCESS_GROUP' }] },
  })
  t.same(Object.keys(view('+tags,+managementZones,+fromRelationships,+firstSeenTms,+lastSeenTms,+icon')), ['entityId', 'type', 'displayName', 'firstSeenTms', 'lastSeenTms', 'tags', 'managementZones', 'icon', 'fromRelationships'])
  t.same(Object.keys(view(undefined)), ['entityId', 'type', 'displayName', 'firstSeenTms', 'lastSeenTms', 'properties', 'tags', 'managementZones', 'icon', 'fromRelationships', 'toRelationships'], 'no fields: the whole entity')
  t.throws(() => entityProjection('+healthState'), { message: /Unknown field "healthstate"/ })
  t.throws(() => entityProjection('+tags.key'), { message: /Unknown field/ })
})
