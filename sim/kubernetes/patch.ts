/**
 * The three patch formats the API server accepts for built-in types, implemented for what
 * dt-remediator and kubectl send: RFC 6902 JSON patch (fast-json-patch), RFC 7386 merge patch,
 * and strategic merge patch with the merge keys of the pod template lists and the `$patch`
 * directives `replace` and `delete` (what ControllerRevision data and kubectl use). Anything we
 * do not implement is refused loudly (415 / 400) rather than silently applied wrong.
 */
import jsonpatch from 'fast-json-patch'

export type Obj = Record<string, unknown>

export const patchTypes = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
} as const

export type SimPatchType = (typeof patchTypes)[keyof typeof patchTypes]

export class PatchError extends Error {
  constructor (message: string, readonly statusCode: 400 | 422) {
    super(message)
    this.name = 'PatchError'
  }
}

function isObj (value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function applyPatch (type: SimPatchType, current: Obj, patch: unknown): Obj {
  if (type === 'json') {
    if (!Array.isArray(patch)) throw new PatchError('json patch must be an array of operations', 400)
    try {
      return jsonpatch.applyPatch(structuredClone(current), patch as jsonpatch.Operation[], true, false).newDocument
    } catch (err) {
      throw new PatchError(`the server rejected our request due to an error in our request: ${(err as Error).message.split('\n')[0] ?? ''}`, 422)
    }
  }
  if (!isObj(patch)) throw new PatchError(`${type} patch must be a JSON object`, 400)
  return (type === 'merge' ? mergePatch(current, patch) : strategicMerge(current, patch)) as Obj
}

/** RFC 7386: objects merge recursively, null deletes, everything else (arrays too) replaces. */
export function mergePatch (target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch)
  const result: Obj = isObj(target) ? structuredClone(target) : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = mergePatch(result[key], value)
  }
  return result
}

/** Merge keys of the lists inside pod templates (from the Kubernetes API's patchMergeKey tags). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
}

export function strategicMerge (target: unknown, patch: Obj): unknown {
  const directive = patch.$patch
  if (directive === 'replace') {
    const { $patch: _replace, ...rest } = patch
    return stripDirectives(rest)
  }
  if (directive === 'delete') return undefined
  if (directive !== undefined) throw new PatchError(`unsupported $patch directive ${JSON.stringify(directive)}`, 400)
  const result: Obj = isObj(target) ? structuredClone(target) : {}
  for (const [key, value] of Object.entries(patch)) {
    // kubectl sends ordering hints; order is not something the simulator models.
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys') continue
    if (key.startsWith('$')) throw new PatchError(`unsupported strategic merge directive ${key}`, 400)
    if (value === null) { delete result[key]; continue }
    const mergeKey = MERGE_KEYS[key]
    if (Array.isArray(value) && mergeKey !== undefined && Array.isArray(result[key])) {
      result[key] = mergeList(result[key] as unknown[], value, mergeKey)
    } else if (isObj(value)) {
      const merged = strategicMerge(result[key], value)
      if (merged === undefined) delete result[key]
      else result[key] = merged
    } else {
      result[key] = structuredClone(value)
    }
  }
  return result
}

function mergeList (current: unknown[], patch: unknown[], mergeKey: string): unknown[] {
  const result = structuredClone(current)
  for (const item of patch) {
    if (!isObj(item)) throw new PatchError(`list items must be objects with "${mergeKey}"`, 400)
    const index = result.findIndex((existing) => isObj(existing) && existing[mergeKey] === item[mergeKey])
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1)
    } else if (index >= 0) {
      result[index] = strategicMerge(result[index], item)
    } else {
      result.push(stripDirectives(item))
    }
  }
  return result
}

function stripDirectives (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives)
  if (!isObj(value)) return value
  const out: Obj = {}
  for (const [k, v] of Object.entries(value)) {
    if (!k.startsWith('$')) out[k] = stripDirectives(v)
  }
  return out
}
