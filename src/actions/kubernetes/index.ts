/**
 * The built-in Kubernetes actions. They need write access to the cluster, which `ctx` does not
 * offer (its helpers are read-only, for custom actions), so each is built by a factory around the
 * service's Kubernetes client.
 */
import type { AnyAction } from '../contract.js'
import type { KubernetesClient } from '../../kubernetes/client.js'
import { createRestartAction } from './restart/index.js'
import { createRollbackAction } from './rollback/index.js'
import { createScaleAction } from './scale/index.js'

export { createRestartAction, createRollbackAction, createScaleAction }

export function kubernetesActions (kube: KubernetesClient): AnyAction[] {
  return [createRollbackAction(kube), createRestartAction(kube), createScaleAction(kube)]
}
