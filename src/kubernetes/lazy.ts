/**
 * A Kubernetes client built on first use. The built-in actions are constructed at start-up, when
 * the rules file is checked, but a service that never runs a Kubernetes action (or `check-config`
 * on a laptop without a kubeconfig) must not fail for want of a cluster; the first call does, with
 * the loader's own error.
 */
import type { KubernetesClient } from './client.js'

export function lazyKubernetesClient (load: () => KubernetesClient): KubernetesClient {
  let client: KubernetesClient | undefined
  const get = (): KubernetesClient => (client ??= load())
  return {
    get server () { return client?.server ?? '(not connected yet)' },
    get: async (type, namespace, name, options) => get().get(type, namespace, name, options),
    list: async (type, namespace, options) => get().list(type, namespace, options),
    patch: async (type, namespace, name, patch, options) => get().patch(type, namespace, name, patch, options),
  }
}
