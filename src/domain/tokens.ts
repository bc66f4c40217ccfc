/**
 * Webhook and admin tokens. Tokens are compared as SHA-256 digests with timingSafeEqual against
 * every accepted token, so neither the content nor the length of a wrong guess, nor which of
 * several rotated tokens matched, shows in the response time. Pure.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export type TokenDigest = Buffer

export const digestToken = (token: string): TokenDigest => createHash('sha256').update(token, 'utf8').digest()

export function createTokenMatcher (digests: readonly TokenDigest[]): (presented: string) => boolean {
  return (presented) => {
    const candidate = digestToken(presented)
    let match = false
    for (const digest of digests) match = timingSafeEqual(candidate, digest) || match
    return match
  }
}

/** A new random webhook token (192 bits, URL-safe, fits any header). */
export const generateToken = (): string => randomBytes(24).toString('base64url')

/** Pure: the token of `Authorization: Bearer <token>`, if that is the scheme used. */
export function bearerToken (authorization: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '')
  return match?.[1]
}

/** Pure: the password of `Authorization: Basic base64(user:password)`; the user is ignored. */
export function basicPassword (authorization: string | undefined): string | undefined {
  const match = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '')
  if (match?.[1] === undefined) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}
