/**
 * Server-side apply (`PATCH` with `application/apply-patch+yaml`, what `kubectl apply
 * --server-side` sends), kept to what kubectl needs for it to succeed: an apply creates the object
 * when it does not exist, and otherwise merges the applied configuration into the live object
 * (maps recursively, the pod template's lists by their keys, other lists replaced), and records
 * the field manager's `Apply` entry in `metadata.managedFields` with the fields it applied.
 *
 * Left out (docs/kubernetes.md says so too): field ownership between managers and the 409
 * conflicts it raises (`--force-conflicts` is accepted and changes nothing); removing fields a
 * manager applied before and no longer applies; `Update` entries in managedFields for other
 * writes; list types other than the pod template's merge keys; apply to the scale subresource.
 */
import { parse as parseYaml } from 'yaml'
import type { Obj } from './patch.js'
import { strategicMerge } from './patch.js'
import { statusErrors } from './status.js'

/** Pure: the applied configuration from the request body (YAML, which JSON is a subset of). */
export function parseApplied (body: string): Obj {
  let value: unknown
  try {
    value = parseYaml(body)
  } catch (err) {
    throw statusErrors.badRequest(`error decoding YAML: ${(err as Error).message.split('\n')[0] ?? ''}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw statusErrors.badRequest('the apply configuration must be an object')
  return value as Obj
}

const MERGE_KEYS: Record<string, string> = { containers: 'name', initContainers: 'name', ephemeralContainers: 'name', volumes: 'name', env: 'name', volumeMounts: 'mountPath', ports: 'containerPort', imagePullSecrets: 'name' }

/** Pure: the FieldsV1 set of an applied configuration (`f:` for fields, `k:` for keyed list items). */
export function fieldsV1 (value: unknown, key?: string): Obj {
  if (Array.isArray(value)) {
    const mergeKey = key === undefined ? undefined : MERGE_KEYS[key]
    if (mergeKey === undefined) return {}
    return Object.fromEntries(value.filter((item): item is Obj => typeof item === 'object' && item !== null).map((item) => [`k:${JSON.stringify({ [mergeKey]: item[mergeKey] })}`, { '.': {}, ...fieldsV1(item) }]))
  }
  if (typeof value !== 'object' || value === null) return {}
  return Object.fromEntries(Object.entries(value as Obj).map(([k, v]) => [`f:${k}`, fieldsV1(v, k)]))
}

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: Obj
}

/** Pure: the object after `manager` applies `applied` to `live` (undefined: it does not exist yet). */
export function serverSideApply (live: Obj | undefined, applied: Obj, manager: string, at: string): Obj {
  const { apiVersion, kind: _kind, status: _status, ...config } = applied
  const { name: _name, namespace: _namespace, ...appliedMeta } = (config.metadata ?? {}) as Obj
  const entry: ManagedFieldsEntry = { manager, operation: 'Apply', apiVersion: String(apiVersion), time: at, fieldsType: 'FieldsV1', fieldsV1: fieldsV1({ ...config, metadata: appliedMeta }) }
  const base: Obj = live === undefined ? {} : structuredClone(live)
  const merged = strategicMerge(base, config) as Obj
  const metadata = (merged.metadata ?? {}) as Obj
  const others = ((metadata.managedFields ?? []) as ManagedFieldsEntry[]).filter((m) => !(m.manager === manager && m.operation === 'Apply'))
  return { ...merged, metadata: { ...metadata, managedFields: [...others, entry] }, ...(live === undefined ? {} : { status: live.status }) }
}
