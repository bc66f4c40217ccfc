/**
 * A Kubernetes workload as Dynatrace shows it, seeded in one call: the cluster, the namespace,
 * the workload (CLOUD_APPLICATION), its process group and process group instances on a host,
 * and the service on top, related under Dynatrace's names:
 *
 *   KUBERNETES_CLUSTER ─isClusterOfNamespace→ CLOUD_APPLICATION_NAMESPACE
 *   KUBERNETES_CLUSTER ─isClusterOfCa→ CLOUD_APPLICATION ←isNamespaceOfCa─ namespace
 *   PROCESS_GROUP ─isPgOfCa→ CLOUD_APPLICATION;  namespace ─isNamespaceOfPg→ PROCESS_GROUP
 *   PROCESS_GROUP ─runsOn→ HOST
 *   PROCESS_GROUP_INSTANCE ─isInstanceOf→ PROCESS_GROUP;  PROCESS_GROUP_INSTANCE ─isProcessOf→ HOST
 *   SERVICE ─runsOn→ PROCESS_GROUP, ─runsOnProcessGroupInstance→ each PGI, ─runsOnHost→ HOST
 *   namespace ─isNamespaceOfService→ SERVICE;  SERVICE ─calls→ the services given in `calls`
 *
 * Clusters, namespaces and hosts are shared by name, so two workloads of one namespace hang off
 * the same namespace entity. Nothing is tagged unless `tags` says so: Dynatrace adds no
 * `k8s.*` tags by itself, so a world without them makes target resolution walk the relationships.
 */
import { entityIdFor } from './model.js'
import type { EntityInput, SimEntity } from './model.js'
import type { Tenant } from './tenant.js'

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet'

/** The cluster a workload lands in when the input names none: the Kubernetes simulator's. */
export const DEFAULT_CLUSTER = 'dt-remediator-sim'

export interface WorkloadInput {
  readonly namespace: string
  /** The workload's name (the CLOUD_APPLICATION's displayName). */
  readonly name: string
  readonly kind?: WorkloadKind | undefined
  /** Name of the SERVICE entity on top; default: the workload name. */
  readonly service?: string | undefined
  /** Default DEFAULT_CLUSTER. */
  readonly cluster?: string | undefined
  /** The node the pods run on (a HOST); default `<cluster>-node-1`. */
  readonly host?: string | undefined
  /** How many process group instances (one per pod); default 1. */
  readonly instances?: number | undefined
  /** Kubernetes labels of the workload; default `{app: <name>}`. */
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** Entity ids of services this service calls. */
  readonly calls?: readonly string[] | undefined
  /** Tags put on the workload, the process group, its instances and the service. */
  readonly tags?: EntityInput['tags']
  /** Management zones of the same entities. */
  readonly managementZones?: EntityInput['managementZones']
}

export interface Workload {
  readonly cluster: SimEntity
  readonly namespace: SimEntity
  readonly workload: SimEntity
  readonly processGroup: SimEntity
  readonly processGroupInstances: readonly SimEntity[]
  readonly host: SimEntity
  readonly service: SimEntity
}

export const DEPLOYMENT_TYPES: Readonly<Record<WorkloadKind, string>> = {
  Deployment: 'KUBERNETES_DEPLOYMENT',
  StatefulSet: 'KUBERNETES_STATEFUL_SET',
  DaemonSet: 'KUBERNETES_DAEMON_SET',
}

/** Seeds the chain above into `tenant` and returns its entities. */
export function addWorkload (tenant: Tenant, input: WorkloadInput): Workload {
  const kind = input.kind ?? 'Deployment'
  const clusterName = input.cluster ?? DEFAULT_CLUSTER
  const { namespace: ns, name } = input
  const shared = { tags: input.tags, managementZones: input.managementZones }

  const cluster = tenant.findEntity('KUBERNETES_CLUSTER', clusterName) ??
    tenant.addEntity({ type: 'KUBERNETES_CLUSTER', displayName: clusterName })
  const inCluster = (e: SimEntity): boolean => tenant.related(e.entityId, 'to', 'isClusterOfNamespace').includes(cluster.entityId)
  const namespace = tenant.findEntity('CLOUD_APPLICATION_NAMESPACE', ns, inCluster) ??
    tenant.addEntity({ entityId: unusedId(tenant, 'CLOUD_APPLICATION_NAMESPACE', `${clusterName}/${ns}`), type: 'CLOUD_APPLICATION_NAMESPACE', displayName: ns, toRelationships: { isClusterOfNamespace: [cluster.entityId] } })
  const hostName = input.host ?? `${clusterName}-node-1`
  const host = tenant.findEntity('HOST', hostName) ?? tenant.addEntity({ type: 'HOST', displayName: hostName, properties: { osType: 'LINUX' } })

  const workload = tenant.addEntity({
    entityId: unusedId(tenant, 'CLOUD_APPLICATION', `${clusterName}/${ns}/${name}`),
    type: 'CLOUD_APPLICATION',
    displayName: name,
    properties: {
      namespaceName: ns,
      cloudApplicationDeploymentTypes: [DEPLOYMENT_TYPES[kind]],
      kubernetesLabels: { ...(input.labels ?? { app: name }) },
    },
    ...shared,
    toRelationships: { isClusterOfCa: [cluster.entityId], isNamespaceOfCa: [namespace.entityId] },
  })
  const processGroup = tenant.addEntity({
    entityId: unusedId(tenant, 'PROCESS_GROUP', `${clusterName}/${ns}/${name}`),
    type: 'PROCESS_GROUP',
    displayName: `${ns}.${name}`,
    properties: { metadata: [{ key: 'KUBERNETES_NAMESPACE', value: ns }] },
    ...shared,
    fromRelationships: { isPgOfCa: [workload.entityId], runsOn: [host.entityId] },
    toRelationships: { isNamespaceOfPg: [namespace.entityId] },
  })
  const processGroupInstances = Array.from({ length: input.instances ?? 1 }, (_, i) => {
    const pod = `${name}-${podSuffix(`${clusterName}/${ns}/${name}`, i)}`
    return tenant.addEntity({
      entityId: unusedId(tenant, 'PROCESS_GROUP_INSTANCE', `${clusterName}/${ns}/${pod}`),
      type: 'PROCESS_GROUP_INSTANCE',
      displayName: `${ns}.${name} (${pod})`,
      properties: {
        metadata: [
          { key: 'KUBERNETES_NAMESPACE', value: ns },
          { key: 'KUBERNETES_FULL_POD_NAME', value: pod },
          { key: 'KUBERNETES_BASE_POD_NAME', value: name },
          { key: 'KUBERNETES_CONTAINER_NAME', value: name },
        ],
      },
      ...shared,
      fromRelationships: { isInstanceOf: [processGroup.entityId], isProcessOf: [host.entityId] },
    })
  })
  const service = tenant.addEntity({
    entityId: unusedId(tenant, 'SERVICE', `${clusterName}/${ns}/${input.service ?? name}`),
    type: 'SERVICE',
    displayName: input.service ?? name,
    properties: { serviceType: 'WEB_REQUEST_SERVICE' },
    ...shared,
    fromRelationships: {
      runsOn: [processGroup.entityId],
      runsOnProcessGroupInstance: processGroupInstances.map((e) => e.entityId),
      runsOnHost: [host.entityId],
      calls: [...(input.calls ?? [])],
    },
    toRelationships: { isNamespaceOfService: [namespace.entityId] },
  })
  return { cluster, namespace, workload, processGroup, processGroupInstances, host, service }
}

/** A deterministic id for `seed`, or a numbered variant when the tenant has it already. */
function unusedId (tenant: Tenant, type: string, seed: string): string {
  let id = entityIdFor(type, seed)
  for (let n = 2; tenant.entities.has(id); n++) id = entityIdFor(type, `${seed}#${n}`)
  return id
}

/** Pure: a pod-name suffix in the shape of a Deployment's, `5d8f7c9b6-x2k4q`. */
function podSuffix (seed: string, index: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789'
  const digest = entityIdFor('POD', `${seed}:${index}`).slice(-16)
  const pick = (from: number, n: number): string => Array.from({ length: n }, (_, k) => alphabet[parseInt(digest[from + k] ?? '0', 16) % alphabet.length]).join('')
  return `${pick(0, 9)}-${pick(9, 5)}`
}
