/**
 * The transport through @kubernetes/client-node, for the configurations the direct one does not
 * read (./kubeconfig.ts): exec plugins, auth providers (OIDC, Azure, GCP), basic auth,
 * impersonation, proxies, several merged KUBECONFIG files. Only ever imported dynamically: the
 * library weighs ~73 MB of RSS once loaded.
 */
import type * as KubernetesLibrary from '@kubernetes/client-node'
import { importKubernetesLibrary } from '../imports.js'
import type { KubernetesTransport } from './transport.js'

/** Sends each request with the KubeConfig's authentication, applied per request so that rotated tokens and exec credentials are picked up. */
function libraryTransport ({ HttpMethod, IsomorphicFetchHttpLibrary, RequestContext }: typeof KubernetesLibrary, kubeConfig: KubernetesLibrary.KubeConfig): KubernetesTransport {
  const cluster = kubeConfig.getCurrentCluster()
  if (cluster === null) throw new Error('The kubeconfig has no current cluster')
  const http = new IsomorphicFetchHttpLibrary()
  return {
    server: cluster.server.replace(/\/+$/, ''),
    async send (req) {
      const context = new RequestContext(req.url, req.method === 'GET' ? HttpMethod.GET : HttpMethod.PATCH)
      for (const [name, value] of Object.entries(req.headers)) context.setHeaderParam(name, value)
      if (req.body !== undefined) context.setBody(req.body)
      if (req.signal !== undefined) context.setSignal(req.signal)
      // Sets the bearer token / client certificate / CA and the agent.
      await kubeConfig.applySecurityAuthentication(context)
      const response = await http.send(context).toPromise()
      return { status: response.httpStatusCode, text: await response.body.text() }
    },
  }
}

/** The library's reading of a kubeconfig file, or of its own default order when no path is given. */
export async function loadLibraryTransport (kubeconfigPath: string | undefined): Promise<KubernetesTransport> {
  const library = await importKubernetesLibrary()
  const kubeConfig = new library.KubeConfig()
  if (kubeconfigPath === undefined) kubeConfig.loadFromDefault()
  else kubeConfig.loadFromFile(kubeconfigPath)
  return libraryTransport(library, kubeConfig)
}
