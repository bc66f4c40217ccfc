/**
 * The entity selector as the simulator reads it: the grammar (nested relationship selectors,
 * quoting, not/caseSensitive), the criteria it matches, and the ones it refuses with a 400
 * instead of ignoring. Pure: a Tenant and no server.
 */
import t from 'tap'
import { SimBadRequest } from '../../../sim/dynatrace/query.js'
import { addWorkload, parseEntitySelector, Tenant } from '../../../sim/dynatrace/tenant/index.js'

const NOW = 1_750_000_000_000

function world (): { tenant: Tenant, shop: ReturnType<typeof addWorkload>, cart: ReturnType<typeof addWorkload>, billing: ReturnType<typeof addWorkload> } {
  let now = NOW - 3_600_000
  const tenant = new Tenant(() => now)
  const shop = addWorkload(tenant, { namespace: 'shop', name: 'checkout', tags: ['[Kubernetes]team:payments', 'env:prod'], managementZones: ['Shop'] })
  now = NOW
  const cart = addWorkload(tenant, { namespace: 'shop', name: 'cart', kind: 'StatefulSet', calls: [shop.service.entityId], instances: 2 })
  const billing = addWorkload(tenant, { namespace: 'billing', name: 'checkout', cluster: 'eu-1', tags: ['odd\\:key:v\\:1'] })
  return { tenant, shop, cart, billing }
}

const ids = (tenant: Tenant, selector: string): string[] => tenant.selectEntities(selector).map((e) => e.entityId)

t.test('parses nested relationship criteria, quotes and bare values', async (t) => {
  t.same(parseEntitySelector('entitySelector', 'type(SERVICE), fromRelationships.runsOn(type("PROCESS_GROUP"),entityName.equals("a,(b)~"c~~")) ,not(tag(x))'), [
    { kind: 'values', name: 'type', values: ['SERVICE'] },
    {
      kind: 'selector',
      name: 'fromRelationships.runsOn',
      selector: [
        { kind: 'values', name: 'type', values: ['PROCESS_GROUP'] },
        { kind: 'values', name: 'entityName.equals', values: ['a,(b)"c~'] },
      ],
    },
    { kind: 'selector', name: 'not', selector: [{ kind: 'values', name: 'tag', values: ['x'] }] },
  ])
  for (const bad of ['', 'type(SERVICE', 'type(SERVICE)x', 'type("SERVICE)', 'fromRelationships.runsOn(type(PG)', '(x)', 'type SERVICE']) {
    t.throws(() => parseEntitySelector('entitySelector', bad), SimBadRequest, `refuses ${JSON.stringify(bad)}`)
  }
})

t.test('type, entityId, names, tags, zones, properties and first-seen times', async (t) => {
  const { tenant, shop, cart, billing } = world()
  t.same(ids(tenant, 'type(cloud_application)'), [shop.workload.entityId, cart.workload.entityId, billing.workload.entityId], 'type is case-insensitive')
  t.same(ids(tenant, `entityId("${shop.service.entityId}","${cart.service.entityId}")`), [shop.service.entityId, cart.service.entityId])
  t.same(ids(tenant, 'type(SERVICE),entityName("ECK")'), [shop.service.entityId, billing.service.entityId], 'entityName contains, ignoring case')
  t.same(ids(tenant, 'type(SERVICE),entityName.equals("CART")'), [cart.service.entityId])
  t.same(ids(tenant, 'type(SERVICE),caseSensitive(entityName.equals("CART"))'), [], 'caseSensitive(…) respects case')
  t.same(ids(tenant, 'type(SERVICE),entityName.startsWith("ca")'), [cart.service.entityId])
  t.same(ids(tenant, 'type(SERVICE),entityName.in("cart","nope")'), [cart.service.entityId])
  t.same(ids(tenant, 'type(SERVICE),tag("env:prod")'), [shop.service.entityId])
  t.same(ids(tenant, 'type(SERVICE),tag("team")'), [shop.service.entityId], 'a key alone matches any value')
  t.same(ids(tenant, 'type(SERVICE),tag("[Kubernetes]team:payments")'), [shop.service.entityId])
  t.same(ids(tenant, 'type(SERVICE),tag("[AWS]team:payments")'), [], 'a context must match when given')
  t.same(ids(tenant, 'type(SERVICE),tag("env:dev","team:payments")'), [shop.service.entityId], 'several tags: any of them')
  t.same(ids(tenant, 'type(SERVICE),tag("odd\\:key:v\\:1")'), [billing.service.entityId], 'escaped colons belong to key and value')
  t.same(ids(tenant, 'type(SERVICE),mzName("Shop")'), [shop.service.entityId])
  t.same(ids(tenant, `type(SERVICE),mzId("${String(shop.service.managementZones[0]?.id)}")`), [shop.service.entityId])
  t.same(ids(tenant, 'type(SERVICE),not(mzName("Shop"))'), [cart.service.entityId, billing.service.entityId])
  t.same(ids(tenant, 'type(CLOUD_APPLICATION),namespaceName("billing")'), [billing.workload.entityId], 'a property as attribute')
  t.same(ids(tenant, 'type(CLOUD_APPLICATION),cloudApplicationDeploymentTypes("KUBERNETES_STATEFUL_SET")'), [cart.workload.entityId], 'a list property matches one of its items')
  t.same(ids(tenant, 'type(HOST),osType.exists()'), [shop.host.entityId, billing.host.entityId])
  t.same(ids(tenant, 'type(SERVICE),firstSeenTms.lt(now-30m)'), [shop.service.entityId])
  t.same(ids(tenant, `type(SERVICE),firstSeenTms.gte(${NOW})`), [cart.service.entityId, billing.service.entityId])
})

t.test('relationship criteria walk the graph in either direction', async (t) => {
  const { tenant, shop, cart, billing } = world()
  // From a service to its workload: the query target resolution makes.
  t.same(ids(tenant, `type(CLOUD_APPLICATION),toRelationships.isPgOfCa(type(PROCESS_GROUP),toRelationships.runsOn(type(SERVICE),entityId("${shop.service.entityId}")))`), [shop.workload.entityId])
  // From a process group instance to its workload.
  t.same(ids(tenant, `type(CLOUD_APPLICATION),toRelationships.isPgOfCa(type(PROCESS_GROUP),toRelationships.isInstanceOf(type(PROCESS_GROUP_INSTANCE),entityId("${cart.processGroupInstances[1]?.entityId ?? ''}")))`), [cart.workload.entityId])
  // And down again: the services whose workload is named checkout in cluster eu-1.
  t.same(ids(tenant, 'type(SERVICE),fromRelationships.runsOn(type(PROCESS_GROUP),fromRelationships.isPgOfCa(type(CLOUD_APPLICATION),entityName.equals("checkout"),toRelationships.isClusterOfCa(type(KUBERNETES_CLUSTER),entityName.equals("eu-1"))))'), [billing.service.entityId])
  t.same(ids(tenant, `type(SERVICE),toRelationships.calls(type(SERVICE),entityId("${cart.service.entityId}"))`), [shop.service.entityId], 'the called service is in the TO position of calls')
  t.same(ids(tenant, 'type(KUBERNETES_CLUSTER),fromRelationship.isClusterOfCa(type(CLOUD_APPLICATION),namespaceName("shop"))').length, 1, 'the singular fromRelationship (classicEntitySelector) works too')
  t.same(ids(tenant, 'type(CLOUD_APPLICATION_NAMESPACE),fromRelationships.isNamespaceOfCa(type(CLOUD_APPLICATION),entityName.equals("cart"))'), [cart.namespace.entityId])
  t.same(ids(tenant, 'type(SERVICE),fromRelationships.isPgOfCa(type(CLOUD_APPLICATION))'), [], 'a relationship the type does not have selects nothing')
})

t.test('refuses what the simulator does not implement, naming what it does', async (t) => {
  const { tenant } = world()
  const cases: Array<[string, RegExp]> = [
    ['entityName("x")', /must contain type\(…\) or entityId\(…\)/],
    ['type(SERVICE),fromRelationships.runsOn(entityName("x"))', /must contain type/],
    ['type(SERVICE),healthState("HEALTHY")', /does not support the entitySelector criterion "healthState".*supported: type, entityId/],
    ['type(SERVICE),not(type(HOST))', /cannot invert type/],
    ['type(SERVICE),caseSensitive(tag("x"))', /entityName/],
    ['entityId("SERVICE-1","HOST-1")', /same type/],
    ['type(SERVICE,HOST)', /exactly one value/],
    [`type(SERVICE),tag(${'x'.repeat(2000)})`, /2000 characters/],
  ]
  for (const [selector, message] of cases) {
    t.throws(() => tenant.selectEntities(selector), { name: 'SimBadRequest', parameter: 'entitySelector', message }, selector.slice(0, 80))
  }
})
