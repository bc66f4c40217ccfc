/**
 * How Dynatrace links an impacted entity to its Kubernetes workload (SPEC 6), with the
 * relationship names of ../shared/research/dynatrace-api-facts.md §5: SERVICE `runsOn`
 * PROCESS_GROUP (and `runsOnProcessGroupInstance`), PROCESS_GROUP_INSTANCE `isInstanceOf`
 * PROCESS_GROUP, PROCESS_GROUP `isPgOfCa` CLOUD_APPLICATION (the workload), and the workload's
 * cluster through `isClusterOfCa`. The research marks the direction of the `is…Of…` names
 * unconfirmed, so those are walked both ways (fromRelationships and toRelationships), keeping only
 * entities of the expected type. Pure: enrichment uses `nextReads` to know what to fetch,
 * resolution uses the walks over what was fetched.
 */
import type { EntityDetails, RelatedRef } from './enrichment.js'
import { typeOfId } from './enrichment.js'

export const RELATIONS = {
  runsOn: 'runsOn',
  runsOnProcessGroupInstance: 'runsOnProcessGroupInstance',
  isInstanceOf: 'isInstanceOf',
  isPgOfCa: 'isPgOfCa',
  isClusterOfCa: 'isClusterOfCa',
} as const

type Direction = 'from' | 'to' | 'both'

interface Hop {
  readonly relation: string
  readonly direction: Direction
  readonly type: string
}

/** Where each type leads on the way to a workload. */
const HOPS: Readonly<Record<string, readonly Hop[]>> = {
  SERVICE: [{ relation: RELATIONS.runsOn, direction: 'from', type: 'PROCESS_GROUP' }],
  PROCESS_GROUP_INSTANCE: [{ relation: RELATIONS.isInstanceOf, direction: 'from', type: 'PROCESS_GROUP' }],
  PROCESS_GROUP: [{ relation: RELATIONS.isPgOfCa, direction: 'both', type: 'CLOUD_APPLICATION' }],
  CLOUD_APPLICATION: [{ relation: RELATIONS.isClusterOfCa, direction: 'both', type: 'KUBERNETES_CLUSTER' }],
}

const refType = (r: RelatedRef): string | undefined => r.type ?? typeOfId(r.id)
export const entityType = (e: EntityDetails): string | undefined => e.type ?? typeOfId(e.entityId)

function follow (e: EntityDetails, hop: Hop): string[] {
  const refs = [
    ...(hop.direction === 'to' ? [] : e.fromRelationships[hop.relation] ?? []),
    ...(hop.direction === 'from' ? [] : e.toRelationships[hop.relation] ?? []),
  ]
  return [...new Set(refs.filter((r) => refType(r) === hop.type).map((r) => r.id))]
}

/** Pure: the entities to read next to continue the walk from `e` (the caller skips those it has). */
export function nextReads (e: EntityDetails): string[] {
  return (HOPS[entityType(e) ?? ''] ?? []).flatMap((hop) => follow(e, hop))
}

export type Lookup = (id: string) => EntityDetails | undefined

export interface WorkloadWalk {
  /** Distinct workloads reached, in the order found. */
  readonly workloads: readonly EntityDetails[]
  /** What the walk passed through, for the reason when it finds none: "runs on PROCESS_GROUP-…". */
  readonly path: readonly string[]
  /** Ids the walk needed but were not read. */
  readonly unread: readonly string[]
  /** Every entity read on the way (process groups, instances), not counting `e` and the workloads. */
  readonly visited: readonly EntityDetails[]
}

/** Pure: the CLOUD_APPLICATION entities `e` leads to (itself when it is one). */
export function workloadsOf (e: EntityDetails, lookup: Lookup): WorkloadWalk {
  const workloads = new Map<string, EntityDetails>()
  const path: string[] = []
  const unread: string[] = []
  const visited: EntityDetails[] = []
  const visit = (x: EntityDetails, depth: number): void => {
    const type = entityType(x)
    if (type === 'CLOUD_APPLICATION') {
      workloads.set(x.entityId, x)
      return
    }
    if (depth > 3) return
    for (const hop of HOPS[type ?? ''] ?? []) {
      const ids = follow(x, hop)
      if (ids.length > 0) path.push(`${x.entityId} ${hop.relation} ${ids.join(', ')}`)
      for (const id of ids) {
        const next = lookup(id)
        if (next === undefined) unread.push(id)
        else {
          if (entityType(next) !== 'CLOUD_APPLICATION' && !visited.includes(next)) visited.push(next)
          visit(next, depth + 1)
        }
      }
    }
  }
  visit(e, 0)
  return { workloads: [...workloads.values()], path, unread, visited }
}

/** Pure: the cluster entities a workload belongs to. */
export function clustersOf (workload: EntityDetails, lookup: Lookup): Array<{ id: string, name: string | undefined }> {
  return follow(workload, HOPS.CLOUD_APPLICATION?.[0] as Hop).map((id) => ({ id, name: lookup(id)?.displayName }))
}

/**
 * Pure: the ids whose CUSTOM_DEPLOYMENT events count for `e` (SPEC 5, 6: the entity and its
 * process group instances): the entity, the instances it runs on, the instances of its process
 * groups, and — since pipelines post deployment events on whichever they know — the process
 * groups and the workload on the way.
 */
export function eventScope (e: EntityDetails | undefined, id: string, lookup: Lookup): string[] {
  const ids = new Set<string>([id])
  if (e === undefined) return [...ids]
  const pgis = (x: EntityDetails): string[] => [
    ...follow(x, { relation: RELATIONS.runsOnProcessGroupInstance, direction: 'from', type: 'PROCESS_GROUP_INSTANCE' }),
    ...follow(x, { relation: RELATIONS.isInstanceOf, direction: 'to', type: 'PROCESS_GROUP_INSTANCE' }),
  ]
  for (const x of pgis(e)) ids.add(x)
  const walk = workloadsOf(e, lookup)
  for (const x of walk.visited) {
    ids.add(x.entityId)
    for (const y of pgis(x)) ids.add(y)
  }
  for (const w of walk.workloads) ids.add(w.entityId)
  return [...ids]
}
