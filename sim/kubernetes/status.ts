/** `Status` objects, the body the API server answers every error with. */
import type { ResourceType } from '../../src/kubernetes/resources.js'
import { qualified } from './catalog.js'

export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure'
  message: string
  reason: string
  details?: { name?: string, group?: string, kind?: string }
  code: number
}

export class SimHttpError extends Error {
  constructor (readonly code: number, readonly reason: string, message: string, readonly details?: StatusBody['details']) {
    super(message)
    this.name = 'SimHttpError'
  }

  toStatus (): StatusBody {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, ...(this.details === undefined ? {} : { details: this.details }), code: this.code }
  }
}

export const statusErrors = {
  notFound: (type: ResourceType, name: string) => new SimHttpError(404, 'NotFound', `${qualified(type)} "${name}" not found`, { name, group: type.group, kind: type.resource }),
  conflict: (type: ResourceType, name: string) => new SimHttpError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: type.group, kind: type.resource }),
  alreadyExists: (type: ResourceType, name: string) => new SimHttpError(409, 'AlreadyExists', `${qualified(type)} "${name}" already exists`, { name, group: type.group, kind: type.resource }),
  invalid: (type: ResourceType, name: string, field: string, detail: string) => new SimHttpError(422, 'Invalid', `${type.kind}${type.group === '' ? '' : `.${type.group}`} "${name}" is invalid: ${field}: ${detail}`, { name, group: type.group, kind: type.kind }),
  gone: (message: string) => new SimHttpError(410, 'Expired', message),
  notAcceptable: (message: string) => new SimHttpError(406, 'NotAcceptable', message),
  badRequest: (message: string) => new SimHttpError(400, 'BadRequest', message),
  unsupportedMediaType: (contentType: string) => new SimHttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format (${contentType === '' ? 'no content type' : contentType}) - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`),
  resourceNotFound: () => new SimHttpError(404, 'NotFound', 'the server could not find the requested resource'),
  methodNotAllowed: (method: string) => new SimHttpError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`),
}
