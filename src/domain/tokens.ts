/**
 * Webhook and admin tokens. Tokens are compared with timingSafeEqual against every accepted
 * token, so neither the content nor the length of a wrong guess, nor which of several rotated
 * tokens matched, shows in the response time: as SHA-256 digests where only the digest is kept
 * (a generated webhook token, the admin tokens), as bytes where the tokens themselves are
 * configured (the webhook's hot path: a digest per request was ~6 µs of a test notification's
 * ~70 under load, the byte compare well under 1 µs). Pure.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto'

export type TokenDigest = Buffer

// One-shot hash: about half the cost of createHash().update().digest() per call.
export const digestToken = (token: string): TokenDigest => hash('sha256', token, 'buffer')

/**
 * Matches a presented token against configured ones without hashing, as strings (equal strings
 * are equal UTF-8 bytes), with no allocation: the webhook's hot path. Every token is compared,
 * whichever matches, each over its whole length with no early exit (the differences are OR-ed
 * together). A candidate of another length than a token is compared as that token against
 * itself, the same work as a same-length compare, so the time says nothing about the tokens'
 * contents or lengths (only about the candidate's own length, which its sender knows).
 */
export function createSecretMatcher (tokens: readonly string[]): (presented: string) => boolean {
  const secrets = [...tokens]
  return (presented) => {
    let match = false
    for (const secret of secrets) {
      const sameLength = presented.length === secret.length
      const candidate = sameLength ? presented : secret
      let diff = sameLength ? 0 : 1
      for (let i = 0; i < secret.length; i++) diff |= candidate.charCodeAt(i) ^ secret.charCodeAt(i)
      match = diff === 0 || match
    }
    return match
  }
}

export function createTokenMatcher (digests: readonly TokenDigest[]): (presented: string) => boolean {
  return (presented) => {
    const candidate = digestToken(presented)
    let match = false
    for (const digest of digests) match = timingSafeEqual(candidate, digest) || match
    return match
  }
}

/**
 * The admin tokens' matcher: the name of the token presented, or undefined. Every digest is
 * compared, whichever matches (the admin API's bearer check and the console's sign-in).
 */
export function createTokenNamer (tokens: ReadonlyArray<{ readonly name: string, readonly token: string }>): (presented: string) => string | undefined {
  const digests = tokens.map((t) => ({ name: t.name, digest: digestToken(t.token) }))
  return (presented) => {
    const candidate = digestToken(presented)
    let name: string | undefined
    for (const d of digests) if (timingSafeEqual(candidate, d.digest) && name === undefined) name = d.name
    return name
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
