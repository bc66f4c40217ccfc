/**
 * The Kubernetes simulator's handle and options: what tests, the demo and `dt-remediator/sim`
 * program against (app.ts builds it).
 */
import type { FastifyInstance } from 'fastify'
import type { SimVerb } from './api.js'
import type { RolloutMode } from './controllers/index.js'
import type { Obj } from './patch.js'
import type { PolicyRule } from './rbac.js'
import type { StoredObject } from './store.js'

export interface KubernetesSimulatorOptions {
  /** Manifests applied in order at start (a Deployment listed twice gets two revisions). */
  objects?: readonly Obj[]
  /** RBAC rules of the served user; undefined allows everything. */
  rules?: readonly PolicyRule[]
  /** The user named in 403 messages. */
  user?: string
  /** The clock for timestamps, ages and progress deadlines (ms epoch); tests pass a controllable one. */
  now?: () => number
  /** `instant` (default): rollouts settle after every write. `stepped`: they move on step(). */
  rollouts?: RolloutMode
  /** How many changes a watch can resume across (the API server's watch cache); default 5000. */
  watchCacheSize?: number
  /** Images whose pods never become ready (a release that crash-loops): its rollout stalls. */
  brokenImages?: readonly string[]
  logger?: boolean
}

export interface RequestLogEntry {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  /** RBAC verb: get, list, watch, create, update, patch, delete; undefined for discovery and unknown paths. */
  readonly verb: SimVerb | undefined
  readonly group: string | undefined
  readonly resource: string | undefined
  readonly subresource: string | undefined
  readonly namespace: string | undefined
  readonly name: string | undefined
  readonly contentType: string | undefined
  /** The request body, parsed when it is JSON. */
  readonly body: unknown
  readonly statusCode: number
  readonly dryRun: boolean
}

export interface Fault {
  /** Exact path (no query), e.g. `/apis/apps/v1/namespaces/shop/deployments/checkout`. */
  path: string
  method?: string
  /** Default 409 Conflict. */
  status?: number
  /** How many matching requests fail; default 1. */
  count?: number
  message?: string
}

export interface WatchFilter {
  readonly resource?: string
  readonly namespace?: string
}

export interface KubernetesSimulator {
  readonly app: FastifyInstance
  /** The request log, oldest first. */
  readonly requests: readonly RequestLogEntry[]
  clearRequests(): void
  /** Creates or updates an object as `kubectl apply` would (spec, labels, annotations), then runs the controllers. */
  apply(manifest: Obj): StoredObject
  get(kind: string, namespace: string, name: string): StoredObject | undefined
  list(kind: string, namespace?: string): StoredObject[]
  /** Every stored object (deep copies), for before/after comparisons. */
  snapshot(): StoredObject[]
  /** The next `count` requests matching answer with `status` instead of being served. */
  injectFault(fault: Fault): void
  /** Replaces the RBAC rules; undefined allows everything. */
  setRules(rules: readonly PolicyRule[] | undefined): void
  /** Images whose pods never become ready from now on (replaces the list; runs the controllers). */
  setBrokenImages(images: readonly string[]): void
  /** With `rollouts: 'stepped'`: one sync of every controller; true when something changed. */
  step(): boolean
  /** Steps until nothing changes; the number of steps that changed something. */
  settle(): number
  /** Resolves once a watch matching `filter` is open (at once when one is). */
  untilWatched(filter?: WatchFilter): Promise<void>
  /** Listens (port 0 and 127.0.0.1 by default) and returns the base URL. */
  listen(options?: { port?: number, host?: string }): Promise<string>
  /** A kubeconfig (YAML) pointing at the listening simulator. */
  kubeconfig(): string
  close(): Promise<void>
}
