/**
 * The non-resource endpoints of the simulated API server: `/version`, discovery, the OpenAPI
 * documents and the health checks. Pure given the request's path and Accept header: answers
 * what to send, or undefined when the path is a resource path (or unknown) for api.ts.
 */
import { aggregated, aggregatedVersion, legacy, SERVER_VERSION } from './discovery.js'
import { openApiV2Document, openApiV3Document, openApiV3Index } from './openapi.js'
import { statusErrors } from './status.js'

export interface NonResourceAnswer {
  readonly status: number
  readonly contentType: string
  readonly body: unknown
}

const json = (body: unknown, contentType = 'application/json'): NonResourceAnswer => ({ status: 200, contentType, body })

export function nonResource (pathname: string, accept: string | undefined, serverAddress: string): NonResourceAnswer | undefined {
  const path = pathname.replace(/\/+$/, '') || '/'
  if (path === '/version') return json(SERVER_VERSION)
  if (path === '/healthz' || path === '/livez' || path === '/readyz') return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' }
  if (path === '/api' || path === '/apis') {
    const version = aggregatedVersion(accept)
    if (version !== undefined) {
      const answer = aggregated(path === '/api', version)
      return json(answer.body, answer.contentType)
    }
  }
  // /api, /apis, /apis/{group}, /api/{version}, /apis/{group}/{version}: legacy discovery.
  if (/^\/(api|apis(\/[^/]+){0,2}|api\/[^/]+)$/.test(path)) {
    const answer = legacy(path, serverAddress)
    return answer === undefined
      ? { status: 404, contentType: 'application/json', body: statusErrors.resourceNotFound().toStatus() }
      : json(answer.body, answer.contentType)
  }
  if (path === '/openapi/v2') {
    // kubectl asks for protobuf only; the simulator speaks JSON.
    if (!/application\/json|\*\/\*/.test(accept ?? '*/*')) {
      return { status: 406, contentType: 'application/json', body: statusErrors.notAcceptable('only application/json is supported for /openapi/v2 by the simulator').toStatus() }
    }
    return json(openApiV2Document())
  }
  if (path === '/openapi/v3') return json(openApiV3Index())
  if (path.startsWith('/openapi/v3/')) {
    const doc = openApiV3Document(path.slice('/openapi/v3/'.length))
    return doc === undefined ? { status: 404, contentType: 'application/json', body: statusErrors.resourceNotFound().toStatus() } : json(doc)
  }
  return undefined
}
