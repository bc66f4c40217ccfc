/**
 * The environment URL as users paste it: SaaS `https://abc12345.live.dynatrace.com`, Managed
 * `https://host/e/ENV-ID`, either with a trailing slash or with the `/api/v2` they copied from the
 * API explorer. `http://` is allowed for simulators and proxies.
 */
import { DtrError } from '../errors.js'

export interface EnvironmentUrl {
  /** scheme://host[:port], what the connection pool is keyed on. */
  readonly origin: string
  /** '' for SaaS, '/e/ENV-ID' for Managed; prefixed to every API path. */
  readonly basePath: string
  /** origin + basePath, for links and log lines. */
  readonly href: string
}

/** Pure: parses an environment URL, throwing DTR_ERR_CONFIG with the reason when it is unusable. */
export function parseEnvironmentUrl (raw: string): EnvironmentUrl {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new DtrError('DTR_ERR_CONFIG', `Dynatrace URL "${raw}" is not a URL; expected e.g. https://abc12345.live.dynatrace.com or https://host/e/ENV-ID`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DtrError('DTR_ERR_CONFIG', `Dynatrace URL "${raw}" must use https:// (or http:// for a simulator or proxy)`)
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new DtrError('DTR_ERR_CONFIG', `Dynatrace URL "${raw}" must not carry credentials, a query or a fragment; the token goes in DTR_DYNATRACE_TOKEN`)
  }
  const basePath = url.pathname.replace(/\/+$/, '').replace(/\/api(\/v2)?$/, '')
  return { origin: url.origin, basePath, href: url.origin + basePath }
}
