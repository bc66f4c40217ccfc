/**
 * Authentication of Dynatrace's webhook calls (SPEC 4), composed with @fastify/auth: a request
 * passes with any one of `Authorization: Bearer <token>`, `Authorization: Basic
 * base64(user:<token>)`, or `<DTR_WEBHOOK_TOKEN_HEADER>: <token>`. Decorates `webhookAuth`, an
 * onRequest hook, so a wrong token is refused before the body is even read.
 *
 * Without DTR_WEBHOOK_TOKENS, a token is generated on first start and its digest kept in the
 * store — shared by every replica on one PostgreSQL, kept in the data directory with the
 * embedded store — and the token itself is printed once, with how to configure it in Dynatrace.
 *
 * `webhookTokens.replace(tokens)` swaps the accepted set at once (SIGHUP re-reads
 * DTR_WEBHOOK_TOKENS_FILE: rotation without a restart); requests already checked are unaffected.
 */
import fastifyAuth from '@fastify/auth'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { DtrError } from '../src/errors.js'
import {
  basicPassword, bearerToken, createSecretMatcher, createTokenMatcher, digestToken, generateToken,
} from '../src/domain/tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    webhookAuth: onRequestHookHandler
    webhookTokens: WebhookTokens
  }
}

export interface WebhookTokens {
  /** Accept exactly these tokens from now on. */
  replace(tokens: readonly string[]): void
}

export interface WebhookAuthOptions {
  readonly tokens: readonly string[] | undefined
  readonly header: string
}

const GENERATED_TOKEN_KEY = 'webhook-token.sha256'

const unauthorized = (why: string): DtrError => new DtrError('DTR_ERR_UNAUTHORIZED', why)

export default fp<WebhookAuthOptions>(async function webhookAuthPlugin (fastify, options) {
  // Configured tokens are compared as bytes; a generated one only as the digest the store keeps.
  let matches: (presented: string) => boolean
  if (options.tokens !== undefined) {
    matches = createSecretMatcher(options.tokens)
  } else {
    const candidate = generateToken()
    const stored = await fastify.store.settings.setOnce(GENERATED_TOKEN_KEY, digestToken(candidate).toString('hex'))
    matches = createTokenMatcher([Buffer.from(stored.value, 'hex')])
    if (stored.created) {
      fastify.log.warn({ event: 'webhook-token-generated' }, [
        `Generated a webhook token, shown only this once: ${candidate}`,
        'In Dynatrace (Settings > Integration > Problem notifications > Custom integration), add the header',
        `"Authorization: Bearer ${candidate}" (or "${options.header}: ${candidate}").`,
        'To choose or rotate tokens yourself, set DTR_WEBHOOK_TOKENS (comma-separated).',
      ].join(' '))
    }
  }
  const header = options.header
  fastify.decorate('webhookTokens', {
    replace (tokens: readonly string[]) {
      if (tokens.length === 0) throw new DtrError('DTR_ERR_CONFIG', 'DTR_WEBHOOK_TOKENS: lists no token')
      matches = createSecretMatcher(tokens)
    },
  } satisfies WebhookTokens)

  // One strategy for the three ways a token may come (Bearer and Basic are two schemes of the one
  // Authorization header, so at most one of them applies), tried in the order the README gives
  // them. It is a synchronous callback rather than an async function (no promise per request),
  // and the refusal is made once: a refused request pays neither an allocation nor a stack trace.
  const refusal = unauthorized('A valid webhook token is required (Authorization: Bearer, Basic, or the token header)')
  const viaAnyCredential = (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    const authorization = request.headers.authorization
    const fromAuthorization = authorization === undefined ? undefined : bearerToken(authorization) ?? basicPassword(authorization)
    if (fromAuthorization !== undefined && matches(fromAuthorization)) {
      done()
      return
    }
    const value = request.headers[header]
    const token = Array.isArray(value) ? value[0] : value
    done(token !== undefined && matches(token.trim()) ? undefined : refusal)
  }

  if (!fastify.hasDecorator('auth')) await fastify.register(fastifyAuth)
  fastify.decorate('webhookAuth', fastify.auth([viaAnyCredential]))
}, { name: 'webhook-auth', fastify: '5.x', dependencies: ['store'] })
