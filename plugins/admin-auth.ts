/**
 * Authentication of the admin API (SPEC 3 and 11): `Authorization: Bearer <token>` with one of
 * DTR_ADMIN_TOKENS, compared as SHA-256 digests in constant time against every token (so neither
 * a guess's length nor which of several rotated tokens matched shows in the timing). The token's
 * name is who approves, rejects or pauses: it is set on `request.admin` for the routes, the runs
 * and the log. Without DTR_ADMIN_TOKENS the admin routes are not registered at all.
 */
import fastifyAuth from '@fastify/auth'
import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { AdminToken } from '../src/config.js'
import { bearerToken, createTokenNamer } from '../src/domain/tokens.js'
import { DtrError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    adminAuth: onRequestHookHandler
  }
  interface FastifyRequest {
    /** The admin token's name, once adminAuth passed. */
    admin: { readonly name: string } | undefined
  }
}

export interface AdminAuthOptions {
  readonly tokens: readonly AdminToken[]
}

export default fp<AdminAuthOptions>(async function adminAuthPlugin (fastify, options) {
  const nameOf = createTokenNamer(options.tokens)
  fastify.decorateRequest('admin', undefined)
  const viaBearer = async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request.headers.authorization)
    const name = token === undefined ? undefined : nameOf(token)
    if (name === undefined) throw new DtrError('DTR_ERR_UNAUTHORIZED', 'A valid admin token is required (Authorization: Bearer <one of DTR_ADMIN_TOKENS>)')
    request.admin = { name }
  }
  if (!fastify.hasDecorator('auth')) await fastify.register(fastifyAuth)
  fastify.decorate('adminAuth', fastify.auth([viaBearer]))
}, { name: 'admin-auth', fastify: '5.x' })
