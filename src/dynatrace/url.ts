/**
 * The environment URL as users paste it: SaaS `https://abc12345.live.dynatrace.com`, Managed
 * `https://host/e/ENV-ID`, either with a trailing slash or with the `/api/v2` they copied from the
 * API explorer. `http://` is allowed for simulators and proxies; to a host other than loopback it
 * is flagged, because the API token would travel unencrypted. The one check of a Dynatrace URL:
 * the configuration and the client both use it.
 */
import { isIP } from 'node:net'
import { ConfigError } from '../errors.js'

export interface EnvironmentUrl {
  /** scheme://host[:port], what the connection pool is keyed on. */
  readonly origin: string
  /** '' for SaaS, '/e/ENV-ID' for Managed; prefixed to every API path. */
  readonly basePath: string
  /** origin + basePath, for links and log lines. */
  readonly href: string
  /** Plain http:// to a host that is not loopback: worth a warning. */
  readonly plaintextRemote: boolean
}

function isLoopback (hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'))
}

/** Pure: parses an environment URL; an unusable one throws a ConfigError naming `variable`. */
export function parseEnvironmentUrl (raw: string, variable = 'DTR_DYNATRACE_URL'): EnvironmentUrl {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new ConfigError(variable, `is not a URL (got "${raw}"); expected e.g. https://abc12345.live.dynatrace.com or https://host/e/ENV-ID`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(variable, `must be an http:// or https:// URL (got "${raw}")`)
  }
  if (url.username !== '' || url.password !== '') throw new ConfigError(variable, 'must not contain credentials; the token goes in DTR_DYNATRACE_TOKEN')
  if (url.search !== '' || url.hash !== '') throw new ConfigError(variable, `must not have a query or fragment (got "${raw}")`)
  const basePath = url.pathname.replace(/\/+$/, '').replace(/\/api(\/v2)?$/, '')
  return { origin: url.origin, basePath, href: url.origin + basePath, plaintextRemote: url.protocol === 'http:' && !isLoopback(url.hostname) }
}
