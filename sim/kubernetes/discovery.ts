/**
 * Discovery, as kubectl 1.32 reads it: `/version` (a real v1.32 version, which the
 * /usr/bin/kubectl dispatcher picks its binary by), the aggregated form of `/api` and `/apis`
 * (`apidiscovery.k8s.io/v2`, or `v2beta1`, when the Accept header asks for it, as client-go does)
 * and the legacy documents (`APIVersions`, `APIGroupList`, `APIGroup`, `APIResourceList`) for
 * clients that do not. Everything comes from catalog.ts.
 */
import { groupVersions, type ServedResource } from './catalog.js'

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  // Not a real build: the simulator claims the API of v1.32, not its binary.
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:01:30Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const

export interface DiscoveryAnswer {
  readonly contentType: string
  readonly body: unknown
}

const JSON_TYPE = 'application/json'

/** Pure: the aggregated discovery version the Accept header asks for, if any. */
export function aggregatedVersion (accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = Object.fromEntries(part.split(';').slice(1).map((p) => p.trim().split('=') as [string, string]))
    if (params.g === 'apidiscovery.k8s.io' && params.as === 'APIGroupDiscoveryList' && (params.v === 'v2' || params.v === 'v2beta1')) return params.v
  }
  return undefined
}

function verbsOf (r: ServedResource): string[] {
  return [...r.verbs].sort()
}

function resourceDiscovery (r: ServedResource): Record<string, unknown> {
  return {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: verbsOf(r),
    ...(r.shortNames.length === 0 ? {} : { shortNames: r.shortNames }),
    ...(r.categories.length === 0 ? {} : { categories: r.categories }),
    ...(r.subresources.length === 0
      ? {}
      : { subresources: r.subresources.map((s) => ({ subresource: s.name, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: [...s.verbs] })) }),
  }
}

/** The APIGroupDiscoveryList of the core group (`/api`) or of the named groups (`/apis`). */
export function aggregated (core: boolean, version: 'v2' | 'v2beta1'): DiscoveryAnswer {
  const groups = new Map<string, Array<{ version: string, resources: ServedResource[] }>>()
  for (const gv of groupVersions()) {
    if ((gv.group === '') !== core) continue
    groups.set(gv.group, [...(groups.get(gv.group) ?? []), { version: gv.version, resources: gv.resources }])
  }
  return {
    contentType: `${JSON_TYPE};g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`,
    body: {
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${version}`,
      metadata: {},
      items: [...groups.entries()].map(([name, versions]) => ({
        metadata: { name, creationTimestamp: null },
        versions: versions.map((v) => ({ version: v.version, resources: v.resources.map(resourceDiscovery), freshness: 'Current' })),
      })),
    },
  }
}

function apiGroup (name: string): Record<string, unknown> | undefined {
  const versions = groupVersions().filter((gv) => gv.group === name && name !== '')
  const first = versions[0]
  if (first === undefined) return undefined
  const gv = (v: string): Record<string, string> => ({ groupVersion: `${name}/${v}`, version: v })
  return { name, versions: versions.map((v) => gv(v.version)), preferredVersion: gv(first.version) }
}

/** Legacy discovery: `/api`, `/apis`, `/apis/{group}`, `/api/v1`, `/apis/{group}/{version}`; undefined when not served. */
export function legacy (path: string, serverAddress: string): DiscoveryAnswer | undefined {
  const parts = path.split('/').filter((p) => p !== '')
  const answer = (body: unknown): DiscoveryAnswer => ({ contentType: JSON_TYPE, body })
  if (parts.length === 1 && parts[0] === 'api') {
    return answer({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] })
  }
  if (parts.length === 1 && parts[0] === 'apis') {
    const names = [...new Set(groupVersions().map((gv) => gv.group).filter((g) => g !== ''))]
    return answer({ kind: 'APIGroupList', apiVersion: 'v1', groups: names.map(apiGroup) })
  }
  if (parts.length === 2 && parts[0] === 'apis') {
    const group = apiGroup(parts[1] ?? '')
    return group === undefined ? undefined : answer({ kind: 'APIGroup', apiVersion: 'v1', ...group })
  }
  const [group, version] = parts[0] === 'api' && parts.length === 2 ? ['', parts[1]] : parts[0] === 'apis' && parts.length === 3 ? [parts[1], parts[2]] : [undefined, undefined]
  const gv = groupVersions().find((g) => g.group === group && g.version === version)
  if (gv === undefined) return undefined
  const resources = gv.resources.flatMap((r) => [
    { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: verbsOf(r), ...(r.shortNames.length === 0 ? {} : { shortNames: r.shortNames }), ...(r.categories.length === 0 ? {} : { categories: r.categories }) },
    ...r.subresources.map((s) => ({ name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced, group: s.group, version: s.version, kind: s.kind, verbs: [...s.verbs] })),
  ])
  return answer({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv.group === '' ? gv.version : `${gv.group}/${gv.version}`, resources })
}
