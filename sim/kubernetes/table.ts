/**
 * Server-side printing: the `meta.k8s.io/v1` Table a GET or LIST answers when the Accept header
 * asks for `as=Table` (what `kubectl get` sends), with the columns the API server prints for each
 * kind (`-o wide` shows the priority-1 ones), ages computed from the simulator's clock the way
 * `duration.HumanDuration` writes them, and each row's object as PartialObjectMetadata (the
 * default `includeObject=Metadata`), which kubectl reads the namespace of for `-A`.
 */
import { served, type ServedResource } from './catalog.js'
import type { StoredObject } from './store.js'

interface Column { readonly name: string, readonly type: string, readonly format?: string, readonly priority?: number, readonly description: string, readonly cell: (o: StoredObject, now: number) => unknown }

/** Pure: whether the Accept header asks for a Table. */
export function wantsTable (accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => /;\s*as=Table/.test(part) && /;\s*g=meta\.k8s\.io/.test(part))
}

/** Pure: kubectl's (and the API server's) duration.HumanDuration. */
export function humanDuration (ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`
  if (minutes < 180) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`
  const days = Math.floor(hours / 24)
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${days / 365}y` : `${Math.floor(days / 365)}y${days % 365}d`
  return `${Math.floor(days / 365)}y`
}

/** The fields the printers read; everything else passes by. */
interface PrintedSpec {
  replicas?: number
  selector?: { matchLabels?: Record<string, string> }
  template?: { spec?: { containers?: Array<{ name?: string, image?: string }>, nodeSelector?: Record<string, string> } }
  scaleTargetRef?: { kind?: string, name?: string }
  minReplicas?: number
  maxReplicas?: number
}
type PrintedStatus = Partial<Record<'readyReplicas' | 'updatedReplicas' | 'availableReplicas' | 'replicas' | 'desiredNumberScheduled' | 'currentNumberScheduled' | 'numberReady' | 'updatedNumberScheduled' | 'numberAvailable' | 'currentReplicas', number>> & { phase?: string }

const spec = (o: StoredObject): PrintedSpec => (o.spec ?? {}) as PrintedSpec
const status = (o: StoredObject): PrintedStatus => (o.status ?? {}) as PrintedStatus
const containers = (o: StoredObject): Array<{ name?: string, image?: string }> => spec(o).template?.spec?.containers ?? []
const labels = (map: Record<string, string> | undefined): string => Object.entries(map ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'
const selector = (o: StoredObject): string => labels(spec(o).selector?.matchLabels)

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name }
const AGE: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', cell: (o, now) => humanDuration(now - Date.parse(o.metadata.creationTimestamp)) }
const CONTAINERS: Column = { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (o) => containers(o).map((c) => c.name).join(',') }
const IMAGES: Column = { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (o) => containers(o).map((c) => c.image).join(',') }
const SELECTOR: Column = { name: 'Selector', type: 'string', priority: 1, description: 'Label selector for pods.', cell: selector }
const int = (name: string, description: string, read: (o: StoredObject) => number | undefined): Column => ({ name, type: 'integer', description, cell: (o) => Number(read(o) ?? 0) })

const COLUMNS = new Map<ServedResource, Column[]>([
  [served.Deployment, [NAME, { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', cell: (o) => `${status(o).readyReplicas ?? 0}/${spec(o).replicas ?? 1}` }, int('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', (o) => status(o).updatedReplicas), int('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', (o) => status(o).availableReplicas), AGE, CONTAINERS, IMAGES, SELECTOR]],
  [served.ReplicaSet, [NAME, int('Desired', 'Replicas is the number of desired replicas.', (o) => spec(o).replicas ?? 1), int('Current', 'Replicas is the most recently observed number of replicas.', (o) => status(o).replicas), int('Ready', 'The number of ready replicas for this replica set.', (o) => status(o).readyReplicas), AGE, CONTAINERS, IMAGES, SELECTOR]],
  [served.StatefulSet, [NAME, { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', cell: (o) => `${status(o).readyReplicas ?? 0}/${spec(o).replicas ?? 1}` }, AGE, CONTAINERS, IMAGES]],
  [served.DaemonSet, [NAME, int('Desired', 'The total number of nodes that should be running the daemon pod.', (o) => status(o).desiredNumberScheduled), int('Current', 'The number of nodes that are running at least 1 daemon pod.', (o) => status(o).currentNumberScheduled), int('Ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', (o) => status(o).numberReady), int('Up-to-date', 'The total number of nodes that are running updated daemon pod', (o) => status(o).updatedNumberScheduled), int('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.', (o) => status(o).numberAvailable), { name: 'Node Selector', type: 'string', description: 'NodeSelector is a selector which must be true for the pod to fit on a node.', cell: (o) => labels(spec(o).template?.spec?.nodeSelector) }, AGE, CONTAINERS, IMAGES, SELECTOR]],
  [served.ControllerRevision, [NAME, { name: 'Controller', type: 'string', description: 'Controller of the object', cell: (o) => { const ref = o.metadata.ownerReferences?.find((r) => r.controller === true); return ref === undefined ? '<none>' : `${ref.kind.toLowerCase()}.${ref.apiVersion.split('/')[0] ?? ''}/${ref.name}` } }, int('Revision', 'Revision indicates the revision of the state represented by Data.', (o) => Number(o.revision ?? 0)), AGE]],
  [served.HorizontalPodAutoscaler, [NAME, { name: 'Reference', type: 'string', description: 'Reference to the object the autoscaler scales', cell: (o) => `${spec(o).scaleTargetRef?.kind ?? ''}/${spec(o).scaleTargetRef?.name ?? ''}` }, { name: 'Targets', type: 'string', description: 'Current and target metrics', cell: () => '<unknown>' }, { name: 'MinPods', type: 'string', description: 'Minimum replicas', cell: (o) => String(spec(o).minReplicas ?? 1) }, int('MaxPods', 'Maximum replicas', (o) => spec(o).maxReplicas), int('Replicas', 'Current replicas', (o) => status(o).currentReplicas), AGE]],
  [served.Namespace, [NAME, { name: 'Status', type: 'string', description: 'The status of the namespace', cell: (o) => status(o).phase ?? 'Active' }, AGE]],
])

function rowObject (o: StoredObject, include: string): unknown {
  if (include === 'None') return undefined
  if (include === 'Object') return o
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }
}

/** The Table of `objects` (one object for a GET). */
export function toTable (type: ServedResource, objects: readonly StoredObject[], options: { now: number, resourceVersion: string | undefined, includeObject: string | undefined, columns?: boolean }): Record<string, unknown> {
  const columns = COLUMNS.get(type) ?? [NAME, AGE]
  const include = options.includeObject ?? 'Metadata'
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: options.resourceVersion === undefined ? {} : { resourceVersion: options.resourceVersion },
    ...(options.columns === false ? {} : { columnDefinitions: columns.map(({ cell: _cell, ...c }) => ({ format: '', priority: 0, ...c })) }),
    rows: objects.map((o) => {
      const object = rowObject(o, include)
      return { cells: columns.map((c) => c.cell(o, options.now)), ...(object === undefined ? {} : { object }) }
    }),
  }
}
