/**
 * The built-in actions, one folder each, named as in the rules file. The Kubernetes ones need
 * write access to the cluster, which `ctx` does not offer (its helpers are read-only, for custom
 * actions), so each is built by a factory around the service's Kubernetes client. Only the
 * composition root and the CLI import this folder.
 */
import type { KubernetesClient } from '../src/kubernetes/client.js'
import type { AnyAction } from '../src/sdk/index.js'
import { createRestartAction } from './kubernetes.restart/index.js'
import { createRollbackAction } from './kubernetes.rollback/index.js'
import { createScaleAction } from './kubernetes.scale/index.js'

export { createRestartAction, createRollbackAction, createScaleAction }

export interface BuiltinActionDeps {
  readonly kubernetes: KubernetesClient
}

export function builtinActions (deps: BuiltinActionDeps): AnyAction[] {
  return [createRollbackAction(deps.kubernetes), createRestartAction(deps.kubernetes), createScaleAction(deps.kubernetes)]
}
