/**
 * A Kubernetes client built on first use. The built-in actions are constructed at start-up, when
 * the rules file is checked, but a service that never runs a Kubernetes action (or `check-config`
 * on a laptop without a kubeconfig) must not fail for want of a cluster, nor pay at start-up for
 * reading a kubeconfig (nor, where the configuration needs it, loading @kubernetes/client-node, a
 * large package): the first call loads and builds the client, and fails with the loader's own
 * error when there is none.
 */
import type { KubernetesClient } from './client.js'

export function lazyKubernetesClient (load: () => Promise<KubernetesClient> | KubernetesClient): KubernetesClient {
  let client: Promise<KubernetesClient> | undefined
  let server: string | undefined
  const get = async (): Promise<KubernetesClient> => {
    client ??= Promise.resolve().then(load).then((c) => { server = c.server; return c }, (err: unknown) => { client = undefined; throw err })
    return client
  }
  return {
    get server () { return server ?? '(not connected yet)' },
    get: async (type, namespace, name, options) => (await get()).get(type, namespace, name, options),
    list: async (type, namespace, options) => (await get()).list(type, namespace, options),
    patch: async (type, namespace, name, patch, options) => (await get()).patch(type, namespace, name, patch, options),
  }
}

/** The service's client, on first use: DTR_KUBECONFIG, else in-cluster, else ~/.kube/config. */
export function lazyServiceKubernetesClient (kubeconfigPath: string | undefined, env: Readonly<Record<string, string | undefined>>): KubernetesClient {
  return lazyKubernetesClient(async () => (await import('./client.js')).loadKubernetesClient({ kubeconfigPath, env }))
}
