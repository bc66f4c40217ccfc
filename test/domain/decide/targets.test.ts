import t from 'tap'
import { resolveTarget, type ResolveInput } from '../../../src/domain/decide/targets.js'
import type { EntityDetails } from '../../../src/domain/enrichment.js'
import type { PlaceholderValues } from '../../../src/domain/rules/placeholders.js'
import { parseTag, tagValue } from '../../../src/domain/tags.js'
import { deploymentEvent, details, impacted, topology } from '../../helpers/enrichment.js'

const checkout = topology('checkout', 'shop', { cluster: 'prod-eu-1' })
const deployment = { kind: 'Deployment', namespace: 'shop', name: 'checkout' }

function values (e: EntityDetails | undefined, event: Record<string, string> = {}): PlaceholderValues {
  return {
    tag: (key) => tagValue(e?.tags ?? [], key),
    event: (key) => event[key],
    entity: { id: e?.entityId, name: e?.displayName },
    problem: { id: 'P1' },
  }
}

function input (entity: EntityDetails | string, overrides: Partial<ResolveInput> = {}): ResolveInput {
  const d = typeof entity === 'string' ? undefined : entity
  return {
    entity: impacted(entity),
    ruleTarget: undefined,
    values: values(d),
    lookup: (id) => checkout.related[id],
    deploymentEvent: undefined,
    lookbackMs: 7_200_000,
    eventsRead: true,
    clusterName: undefined,
    problemClusters: [],
    ...overrides,
  }
}

const withTags = (e: EntityDetails, tags: string[]): EntityDetails => ({ ...e, tags: tags.map(parseTag) })
const bare = (id: string): EntityDetails => details(id)

t.test('each source, in order, names the winner', async (t) => {
  const svc = checkout.service
  const cases: Array<[string, ResolveInput, { target: unknown, source: string, note: RegExp }]> = [
    ['the rule target, substituted', input(withTags(svc, ['k8s.namespace.name:shop']), { ruleTarget: { kind: 'StatefulSet', namespace: '${tag:k8s.namespace.name}', name: 'orders' } }), { target: { kind: 'StatefulSet', namespace: 'shop', name: 'orders' }, source: 'rule', note: /^rule target: StatefulSet \$\{tag:k8s\.namespace\.name\}\/orders$/ }],
    ['the entity\'s tags (any case, any context)', input(withTags(bare('SERVICE-0000000000000009'), ['[Kubernetes]K8S.Namespace.Name:shop', 'k8s.deployment.name:checkout'])), { target: deployment, source: 'tags', note: /^tags: k8s\.namespace\.name and k8s\.deployment\.name$/ }],
    ['a statefulset tag', input(withTags(bare('SERVICE-0000000000000009'), ['k8s.namespace.name:db', 'k8s.statefulset.name:pg'])), { target: { kind: 'StatefulSet', namespace: 'db', name: 'pg' }, source: 'tags', note: /k8s\.statefulset\.name/ }],
    ['SERVICE → process group → workload', input(svc), { target: deployment, source: 'workload', note: /^workload entity: CLOUD_APPLICATION-0000000000000D1 via SERVICE-00000000000000A1 runsOn PROCESS_GROUP-0000000000000B1, PROCESS_GROUP-0000000000000B1 isPgOfCa CLOUD_APPLICATION-0000000000000D1$/ }],
    ['PROCESS_GROUP_INSTANCE → process group → workload', input(checkout.instance), { target: deployment, source: 'workload', note: /isInstanceOf PROCESS_GROUP-0000000000000B1/ }],
    ['PROCESS_GROUP → workload (isPgOfCa walked from the other side)', input({ ...checkout.processGroup, fromRelationships: {}, toRelationships: { isPgOfCa: [{ id: checkout.workload.entityId, type: 'CLOUD_APPLICATION' }] } }), { target: deployment, source: 'workload', note: /isPgOfCa/ }],
    ['the CLOUD_APPLICATION itself', input(checkout.workload), { target: deployment, source: 'workload', note: /^workload entity: CLOUD_APPLICATION-0000000000000D1$/ }],
    ['a DaemonSet workload', input(topology('agent', 'ops', { kind: 'KUBERNETES_DAEMON_SET', suffix: '2' }).workload), { target: { kind: 'DaemonSet', namespace: 'ops', name: 'agent' }, source: 'workload', note: /workload entity/ }],
    ['the deployment event\'s properties', input(bare('HOST-0000000000000001'), { deploymentEvent: deploymentEvent('HOST-0000000000000001', 5, { 'k8s.namespace.name': 'shop', 'k8s.deployment.name': 'checkout' }) }), { target: deployment, source: 'event', note: /^deployment event: EV-HOST-0000000000000001-5 \(Deploy checkout 1\.4\.2\)$/ }],
  ]
  for (const [what, i, expected] of cases) {
    const r = resolveTarget(i)
    if (!r.ok) {
      t.fail(`${what}: ${r.reason}`)
      continue
    }
    t.same(r.target, expected.target, `${what}: target`)
    t.equal(r.source, expected.source, `${what}: source`)
    t.match(r.note, expected.note, `${what}: ${r.note}`)
  }
})

t.test('with none, the reason lists every source tried and why it gave nothing', async (t) => {
  const cases: Array<[string, ResolveInput, string]> = [
    ['a service on no workload', input(bare('SERVICE-0000000000000009')),
      'rule target: none given; tags: no k8s.namespace.name; workload entity: SERVICE-0000000000000009 runs on no process group of a Kubernetes workload; deployment event: none within 2h'],
    ['a host', input(bare('HOST-0000000000000001'), { eventsRead: false }),
      'rule target: none given; tags: no k8s.namespace.name; workload entity: HOST-0000000000000001 is a HOST, which Dynatrace does not link to a Kubernetes workload (SERVICE, PROCESS_GROUP, PROCESS_GROUP_INSTANCE, CLOUD_APPLICATION are); deployment event: deployment events were not read'],
    ['an entity that could not be read', input('SERVICE-0000000000000009'),
      'rule target: none given; tags: SERVICE-0000000000000009 was not read (not read in this test); workload entity: SERVICE-0000000000000009 was not read (not read in this test); deployment event: none within 2h'],
    ['a rule target whose placeholder has no value', input(bare('SERVICE-0000000000000009'), { ruleTarget: { kind: 'Deployment', namespace: '${tag:k8s.namespace.name}', name: '${event:dt.event.deployment.name}' } }),
      'rule target: ${tag:k8s.namespace.name}, ${event:dt.event.deployment.name} have no value; tags: no k8s.namespace.name; workload entity: SERVICE-0000000000000009 runs on no process group of a Kubernetes workload; deployment event: none within 2h'],
    ['a rule target that is no Kubernetes name', input(withTags(bare('SERVICE-0000000000000009'), ['ns:Not_A_Namespace']), { ruleTarget: { kind: 'Deployment', namespace: '${tag:ns}', name: 'x' } }),
      'rule target: namespace "Not_A_Namespace" is not a Kubernetes namespace name; tags: no k8s.namespace.name; workload entity: SERVICE-0000000000000009 runs on no process group of a Kubernetes workload; deployment event: none within 2h'],
    ['a namespace tag without a workload tag', input(withTags(bare('SERVICE-0000000000000009'), ['k8s.namespace.name:shop'])),
      'rule target: none given; tags: k8s.namespace.name shop but no k8s.deployment.name, k8s.statefulset.name, k8s.daemonset.name; workload entity: SERVICE-0000000000000009 runs on no process group of a Kubernetes workload; deployment event: none within 2h'],
    ['a workload of an unsupported kind', input(topology('cron', 'ops', { kind: 'KUBERNETES_CRON_JOB', suffix: '3' }).workload),
      'rule target: none given; tags: no k8s.namespace.name; workload entity: CLOUD_APPLICATION-0000000000000D3 is a KUBERNETES_CRON_JOB, not a Deployment, StatefulSet or DaemonSet; deployment event: none within 2h'],
    ['a process group not read', input(checkout.service, { lookup: () => undefined }),
      'rule target: none given; tags: no k8s.namespace.name; workload entity: PROCESS_GROUP-0000000000000B1 on the way could not be read; deployment event: none within 2h'],
    ['an event without the keys', input(bare('HOST-0000000000000001'), { deploymentEvent: deploymentEvent('HOST-0000000000000001', 5) }),
      'rule target: none given; tags: no k8s.namespace.name; workload entity: HOST-0000000000000001 is a HOST, which Dynatrace does not link to a Kubernetes workload (SERVICE, PROCESS_GROUP, PROCESS_GROUP_INSTANCE, CLOUD_APPLICATION are); deployment event: no k8s.namespace.name in event EV-HOST-0000000000000001-5'],
  ]
  for (const [what, i, reason] of cases) {
    const r = resolveTarget(i)
    t.same(r.ok ? r.target : r.reason, reason, what)
    t.equal(r.tried.length, 4, `${what}: four sources tried`)
  }
})

t.test('a service on two workloads is ambiguous, and says which', async (t) => {
  const canary = topology('checkout-canary', 'shop', { suffix: '4' })
  const svc: EntityDetails = { ...checkout.service, fromRelationships: { runsOn: [{ id: checkout.processGroup.entityId, type: 'PROCESS_GROUP' }, { id: canary.processGroup.entityId, type: 'PROCESS_GROUP' }] } }
  const r = resolveTarget(input(svc, { lookup: (id) => checkout.related[id] ?? canary.related[id] }))
  t.notOk(r.ok)
  t.match(!r.ok && r.reason, /workload entity: SERVICE-00000000000000A1 runs on 2 Kubernetes workloads \(Deployment shop\/checkout, Deployment shop\/checkout-canary\): name one in the rule's target/)
})

t.test('with DTR_CLUSTER_NAME, a workload of another cluster is no target', async (t) => {
  const other = resolveTarget(input(checkout.service, { clusterName: 'prod-us-1' }))
  t.same(other.ok ? other.target : other.reason, 'other cluster: SERVICE-00000000000000A1 is in "prod-eu-1" (CLOUD_APPLICATION-0000000000000D1\'s cluster KUBERNETES_CLUSTER-00000000000E1); this service acts on "prod-us-1" (DTR_CLUSTER_NAME)')
  const same = resolveTarget(input(checkout.service, { clusterName: 'prod-eu-1' }))
  t.ok(same.ok, 'the same cluster resolves')
  const byTag = resolveTarget(input(withTags(bare('SERVICE-0000000000000009'), ['k8s.cluster.name:dev', 'k8s.namespace.name:shop', 'k8s.deployment.name:checkout']), { clusterName: 'prod-eu-1' }))
  t.match(!byTag.ok && byTag.reason, /^other cluster: SERVICE-0000000000000009 is in "dev" \(its k8s\.cluster\.name tag\)/)
  const rule = resolveTarget(input(checkout.service, { clusterName: 'prod-us-1', ruleTarget: deployment }))
  t.match(!rule.ok && rule.reason, /^other cluster/, 'an explicit rule target of an entity in another cluster is refused too')
  const unknown = resolveTarget(input(topology('x', 'shop', { suffix: '5' }).service, { clusterName: 'prod-us-1', lookup: (id) => topology('x', 'shop', { suffix: '5' }).related[id] }))
  t.match(!unknown.ok && unknown.reason, /^unknown cluster: nothing says which cluster SERVICE-\S+ is in \(no k8s\.cluster\.name tag on it or its workload, no cluster relationship\), and DTR_CLUSTER_NAME is set \("prod-us-1"\); add the tag k8s\.cluster\.name to the entity/, 'an unknown cluster fails closed, saying how to tell it')
})

t.test('with DTR_CLUSTER_NAME, a problem spanning several clusters gives an entity of unknown cluster no target', async (t) => {
  const entity = withTags(bare('SERVICE-0000000000000009'), ['k8s.namespace.name:shop', 'k8s.deployment.name:checkout'])
  const several = resolveTarget(input(entity, { clusterName: 'prod-eu-1', problemClusters: ['prod-eu-1', 'prod-us-1'] }))
  t.match(!several.ok && several.reason, /^unknown cluster: .*; the problem spans several clusters \("prod-eu-1", "prod-us-1"\), and DTR_CLUSTER_NAME is set/)
  const one = resolveTarget(input(entity, { clusterName: 'prod-eu-1', problemClusters: ['prod-eu-1'] }))
  t.ok(one.ok, 'a problem of this one cluster tells the cluster')
  const without = resolveTarget(input(entity, { clusterName: undefined, problemClusters: ['prod-eu-1', 'prod-us-1'] }))
  t.ok(without.ok, 'without DTR_CLUSTER_NAME the cluster is not asked')
})
