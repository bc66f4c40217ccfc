/**
 * How the Kubernetes client's requests travel (./client.ts builds them): the shape both transports
 * share, and the direct one. The other, through @kubernetes/client-node, is ./library.ts.
 */
import { readFile } from 'node:fs/promises'
import { Agent, request } from 'undici'
import type { DirectConnection } from './kubeconfig.js'

/** One request to the API server, as a transport sends it. */
export interface KubernetesRequest {
  readonly method: 'GET' | 'PATCH'
  /** The full URL: the server, the resource path and the query. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
  readonly signal?: AbortSignal | undefined
}

/** Sends a request with the configuration's credentials; answers with the status and the text. */
export interface KubernetesTransport {
  readonly server: string
  send(request: KubernetesRequest): Promise<{ status: number, text: string }>
}

/**
 * The direct transport: undici with the connection's CA, client certificate and server name on
 * every TLS connection, and its bearer token (the token file read again for each request, so a
 * rotated service-account token is used as soon as the kubelet writes it). A token file that
 * cannot be read, or is empty, fails the request: it is never sent without the credentials it
 * was given.
 */
export function directTransport (connection: DirectConnection): KubernetesTransport {
  const { ca, cert, key, rejectUnauthorized, servername } = connection.tls
  const dispatcher = new Agent({
    connect: {
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
      ...(servername === undefined ? {} : { servername }),
    },
  })
  const bearer = async (): Promise<string | undefined> => {
    if (connection.token !== undefined) return connection.token
    if (connection.tokenFile === undefined) return undefined
    const token = (await readFile(connection.tokenFile, 'utf8')).trim()
    if (token === '') throw new Error(`The token file ${connection.tokenFile} is empty: the request is not sent without its credentials`)
    return token
  }
  return {
    server: connection.server,
    async send (req) {
      const token = await bearer()
      // Never empty here: the kubeconfig reader drops an empty `token`, and an empty file throws above.
      const headers = token === undefined ? req.headers : { ...req.headers, Authorization: `Bearer ${token}` }
      const response = await request(req.url, {
        method: req.method,
        headers,
        ...(req.body === undefined ? {} : { body: req.body }),
        ...(req.signal === undefined ? {} : { signal: req.signal }),
        dispatcher,
      })
      return { status: response.statusCode, text: await response.body.text() }
    },
  }
}
