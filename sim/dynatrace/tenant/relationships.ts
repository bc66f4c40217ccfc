/**
 * The relationships the simulator knows, under Dynatrace's names and in Dynatrace's direction:
 * the entity type in the FROM position and the one in the TO position. The direction of each is
 * the one Dynatrace's Grail documentation gives when it maps these names onto DQL fields ("Query
 * monitored entities in Grail", relationship mapping table: `isPgOfCa` From > To `belongs_to`, so
 * the process group is FROM; `isClusterOfCa` From > To `cluster_of`, so the cluster is FROM), and
 * the one entity-selector examples use (`type(PROCESS_GROUP),fromRelationships.isPgOfCa(…)`,
 * `type(CLOUD_APPLICATION),toRelationships.isClusterOfCa(…)`). The `X is…Of Y` names all read
 * FROM is-of TO.
 *
 * A relationship outside this table, or between other types, is refused when seeding: a world
 * built with a reversed or misspelt relationship would teach target resolution something no
 * tenant does.
 */

/** The FROM type and the TO type of one form of a relationship. */
export type Ends = readonly [from: string, to: string]

const CLUSTER = 'KUBERNETES_CLUSTER'
const NAMESPACE = 'CLOUD_APPLICATION_NAMESPACE'
const WORKLOAD = 'CLOUD_APPLICATION'
const POD = 'CLOUD_APPLICATION_INSTANCE'
const CONTAINER = 'CONTAINER_GROUP_INSTANCE'
const NODE = 'KUBERNETES_NODE'
const PG = 'PROCESS_GROUP'
const PGI = 'PROCESS_GROUP_INSTANCE'

export const RELATIONSHIPS: Readonly<Record<string, readonly Ends[]>> = {
  // Services and processes
  runsOn: [['SERVICE', PG], [PG, 'HOST'], [POD, NODE]],
  runsOnProcessGroupInstance: [['SERVICE', PGI]],
  runsOnHost: [['SERVICE', 'HOST']],
  calls: [['SERVICE', 'SERVICE']],
  isInstanceOf: [[PGI, PG]],
  isProcessOf: [[PGI, 'HOST']],
  isPgiOfCgi: [[PGI, CONTAINER]],
  isPgOfCa: [[PG, WORKLOAD]],
  isPgOfCai: [[PG, POD]],
  // Containers
  isCgiOfCa: [[CONTAINER, WORKLOAD]],
  isCgiOfCai: [[CONTAINER, POD]],
  isCgiOfHost: [[CONTAINER, 'HOST']],
  isCgiOfNamespace: [[CONTAINER, NAMESPACE]],
  isCgiOfCluster: [[CONTAINER, CLUSTER]],
  // Kubernetes
  isClusterOfNamespace: [[CLUSTER, NAMESPACE]],
  isClusterOfCa: [[CLUSTER, WORKLOAD]],
  isClusterOfCai: [[CLUSTER, POD]],
  isClusterOfNode: [[CLUSTER, NODE]],
  isClusterOfHost: [[CLUSTER, 'HOST']],
  isNamespaceOfCa: [[NAMESPACE, WORKLOAD]],
  isNamespaceOfCai: [[NAMESPACE, POD]],
  isNamespaceOfPg: [[NAMESPACE, PG]],
  isNamespaceOfService: [[NAMESPACE, 'SERVICE']],
  isNodeOfHost: [[NODE, 'HOST']],
}

/** Pure: why `from --relation--> to` cannot be seeded, or undefined when it can. */
export function relationshipProblem (fromType: string, relation: string, toType: string): string | undefined {
  const forms = RELATIONSHIPS[relation]
  if (forms === undefined) return `Unknown relationship "${relation}" (the simulator knows ${Object.keys(RELATIONSHIPS).join(', ')})`
  if (forms.some(([f, t]) => f === fromType && t === toType)) return undefined
  const reversed = forms.some(([f, t]) => f === toType && t === fromType)
  const allowed = forms.map(([f, t]) => `${f} → ${t}`).join(', ')
  return `${relation} relates ${allowed}, not ${fromType} → ${toType}${reversed ? ' (the direction is reversed)' : ''}`
}
