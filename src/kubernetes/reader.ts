/**
 * The read-only Kubernetes port every action gets as `ctx.kubernetes`: GET by apiVersion and kind,
 * undefined for 404. Custom actions read the cluster through it; only the built-in actions, built
 * around the full client, write.
 */
import type { KubernetesClient } from './client.js'
import { isKubernetesApiError } from './errors.js'
import { apiVersionOf, resources, type ResourceType } from './resources.js'

export interface ObjectRef {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace: string
  readonly name: string
}

/** Read-only Kubernetes helpers offered to every action. */
export interface KubernetesReader {
  /** GET an object by apiVersion/kind/namespace/name; undefined when it does not exist. */
  get(ref: ObjectRef, signal?: AbortSignal): Promise<Record<string, unknown> | undefined>
}

/** Kinds the read-only helper offered to every action (ctx.kubernetes) can fetch. */
const readableKinds: ReadonlyMap<string, ResourceType> = new Map(Object.values(resources).map((r: ResourceType) => [`${apiVersionOf(r)}/${r.kind}`, r]))

/**
 * The `KubernetesReader` given to every action as `ctx.kubernetes`: GET only, undefined for 404.
 * Kinds beyond the ones listed in resources.ts are refused rather than guessed (plural names are
 * not derivable from kinds in general).
 */
export function kubernetesReader (client: KubernetesClient): KubernetesReader {
  return {
    async get (ref, signal) {
      const type = readableKinds.get(`${ref.apiVersion}/${ref.kind}`)
      if (type === undefined) throw new Error(`kubernetes.get: ${ref.apiVersion} ${ref.kind} is not readable (known: ${[...readableKinds.keys()].join(', ')})`)
      try {
        return await client.get<Record<string, unknown>>(type, ref.namespace, ref.name, signal === undefined ? {} : { signal })
      } catch (err) {
        if (isKubernetesApiError(err, 404)) return undefined
        throw err
      }
    },
  }
}
