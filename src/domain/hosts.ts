/**
 * The hosts `http.request` and `notify.slack` may call (DTR_HTTP_ALLOWED_HOSTS, SPEC 3): `host`
 * (any port), `host:port`, `*.example.com`. Pure, so the rules parser can check a literal URL at
 * load and the actions can check a substituted one at plan time with the same function.
 */

export interface AllowedHost {
  /** Lower-case host, or a `*.suffix` wildcard. */
  readonly host: string
  /** undefined = any port. */
  readonly port: number | undefined
}

/** Pure: `hooks.slack.com, *.example.com, ci.local:8443`, for messages. */
export function describeAllowedHosts (hosts: readonly AllowedHost[]): string {
  return hosts.length === 0 ? '(none)' : hosts.map((h) => (h.port === undefined ? h.host : `${h.host}:${h.port}`)).join(', ')
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 }

/**
 * Pure: whether `url` may be called. Only http: and https: URLs qualify. A wildcard `*.example.com`
 * matches sub-domains, not example.com itself (list both when both are meant).
 */
function isHostAllowed (url: URL, hosts: readonly AllowedHost[]): boolean {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
  const host = url.hostname.toLowerCase()
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port)
  return hosts.some((allowed) => {
    if (allowed.port !== undefined && allowed.port !== port) return false
    if (allowed.host.startsWith('*.')) return host.endsWith(allowed.host.slice(1)) && host.length > allowed.host.length - 1
    return allowed.host === host
  })
}

/** Pure: why a URL may not be called, or undefined when it may. */
export function hostRefusal (raw: string, hosts: readonly AllowedHost[]): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `uses ${url.protocol.replace(/:$/, '')}: only http and https are called`
  if (!isHostAllowed(url, hosts)) return `host not allowed: ${url.host} is not in DTR_HTTP_ALLOWED_HOSTS (${describeAllowedHosts(hosts)})`
  return undefined
}
