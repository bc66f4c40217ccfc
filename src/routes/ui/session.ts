/**
 * The console's session (SPEC 11): a cookie naming the admin token that signed in and when the
 * session ends, signed with a key derived from that token (HMAC-SHA256 of the token over a fixed
 * label). So the key comes from DTR_ADMIN_TOKENS alone: it survives restarts and works across
 * replicas without shared state, and a session ends when its token is removed or rotated (its
 * key is gone). The token itself is never in the cookie, only its name.
 *
 * Pure: given the tokens and a time, signs and checks; @fastify/cookie calls sign/unsign.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { AdminToken } from '../../config.js'

export const SESSION_COOKIE = 'dtr_session'
const SESSION_LABEL = 'dt-remediator console session v1'
/** How long a sign-in lasts: a working day. */
export const SESSION_TTL_MS = 12 * 3600_000

export interface Session {
  /** The admin token's name: who acts. */
  readonly name: string
  /** ms epoch. */
  readonly expiresAt: number
}

/** The cookie's value before signing: `<name in base64url>.<expiry ms>`. */
export const encodeSession = (s: Session): string => `${Buffer.from(s.name, 'utf8').toString('base64url')}.${s.expiresAt}`

export function decodeSession (value: string): Session | undefined {
  const m = /^([A-Za-z0-9_-]{1,200})\.(\d{1,15})$/.exec(value)
  if (m === null) return undefined
  return { name: Buffer.from(m[1] as string, 'base64url').toString('utf8'), expiresAt: Number(m[2]) }
}

type UnsignResult = { valid: true, renew: boolean, value: string } | { valid: false, renew: false, value: null }

/** The signer @fastify/cookie uses for signed cookies: the key is the named token's. */
export function sessionSigner (tokens: readonly AdminToken[]): { sign(value: string): string, unsign(input: string): UnsignResult } {
  const keys = new Map(tokens.map((t) => [t.name, createHmac('sha256', t.token).update(SESSION_LABEL).digest()]))
  const mac = (key: Buffer, value: string): string => createHmac('sha256', key).update(value).digest('base64url')
  return {
    sign (value) {
      const session = decodeSession(value)
      const key = session === undefined ? undefined : keys.get(session.name)
      if (key === undefined) throw new Error('no admin token of that name signs sessions')
      return `${value}.${mac(key, value)}`
    },
    unsign (input) {
      const cut = input.lastIndexOf('.')
      const value = input.slice(0, cut)
      const session = cut < 0 ? undefined : decodeSession(value)
      const key = session === undefined ? undefined : keys.get(session.name)
      if (key === undefined) return { valid: false, renew: false, value: null }
      const given = Buffer.from(input.slice(cut + 1))
      const expected = Buffer.from(mac(key, value))
      const valid = given.length === expected.length && timingSafeEqual(given, expected)
      return valid ? { valid: true, renew: false, value } : { valid: false, renew: false, value: null }
    },
  }
}

/**
 * Where sign-in returns: a path of this console only (`/ui…`), never another origin
 * (`//evil.example`, `/\evil`, `https://…`), else the overview.
 */
export function safeNext (next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return '/ui/'
  if (!next.startsWith('/ui') || next.startsWith('//') || next.includes('\\')) return '/ui/'
  try {
    const url = new URL(next, 'http://console.invalid')
    if (url.origin !== 'http://console.invalid' || !(url.pathname === '/ui' || url.pathname.startsWith('/ui/'))) return '/ui/'
    return `${url.pathname}${url.search}`
  } catch {
    return '/ui/'
  }
}
