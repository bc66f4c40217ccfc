/**
 * Dynatrace's error envelope, `{"error":{"code","message","constraintViolations"}}`, the one
 * shape every simulator error takes (API and control routes alike).
 */
import type { FastifyReply } from 'fastify'
import { SimBadRequest } from '../query.js'

export interface Violation { readonly path: string, readonly message: string, readonly parameterLocation: 'HEADER' | 'PATH' | 'PAYLOAD_BODY' | 'QUERY' }

export function errorBody (code: number, message: string, violations?: readonly Violation[]): { error: Record<string, unknown> } {
  return { error: { code, message, ...(violations === undefined ? {} : { constraintViolations: violations }) } }
}

export function sendError (reply: FastifyReply, code: number, message: string, violations?: readonly Violation[]): FastifyReply {
  return reply.code(code).send(errorBody(code, message, violations))
}

/** Maps any thrown error to the envelope: SimBadRequest → 400 with a violation, Fastify's own 4xx kept. */
export function envelopeFor (err: unknown): { status: number, body: { error: Record<string, unknown> } } {
  if (err instanceof SimBadRequest) {
    return { status: 400, body: errorBody(400, 'Constraints violated.', [{ path: err.parameter, message: err.message, parameterLocation: err.location }]) }
  }
  const status = (err as { statusCode?: unknown }).statusCode
  const message = err instanceof Error ? err.message : String(err)
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, body: errorBody(status, message) }
  return { status: 500, body: errorBody(500, 'Internal simulator error') }
}
