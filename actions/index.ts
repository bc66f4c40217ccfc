/**
 * The built-in actions, one folder each, named as in the rules file. The Kubernetes ones need
 * write access to the cluster, which `ctx` does not offer (its helpers are read-only, for custom
 * actions), so each is built by a factory around the service's Kubernetes client; the HTTP ones
 * get the allowed hosts (DTR_HTTP_ALLOWED_HOSTS), an undici dispatcher (tests pass their own) and
 * a clock for Slack's Retry-After. Only the composition root and the CLI import this folder.
 */
import { systemClock, type Clock } from '../src/clock.js'
import type { AllowedHost } from '../src/domain/hosts.js'
import type { KubernetesClient } from '../src/kubernetes/client.js'
import type { AnyAction } from '../src/sdk/index.js'
import type { Dispatcher } from 'undici'
import { createHttpRequestAction } from './http.request/index.js'
import { createRestartAction } from './kubernetes.restart/index.js'
import { createRollbackAction } from './kubernetes.rollback/index.js'
import { createScaleAction } from './kubernetes.scale/index.js'
import { createSlackAction } from './notify.slack/index.js'

export { createHttpRequestAction, createRestartAction, createRollbackAction, createScaleAction, createSlackAction }

export interface BuiltinActionDeps {
  readonly kubernetes: KubernetesClient
  /** DTR_HTTP_ALLOWED_HOSTS. Default: none (http.request and notify.slack refuse every host). */
  readonly allowedHosts?: readonly AllowedHost[]
  readonly dispatcher?: Dispatcher
  readonly clock?: Clock
}

export function builtinActions (deps: BuiltinActionDeps): AnyAction[] {
  const http = { allowedHosts: deps.allowedHosts ?? [], dispatcher: deps.dispatcher }
  return [
    createRollbackAction(deps.kubernetes),
    createRestartAction(deps.kubernetes),
    createScaleAction(deps.kubernetes),
    createHttpRequestAction(http),
    createSlackAction({ ...http, clock: deps.clock ?? systemClock }),
  ] as AnyAction[]
}
