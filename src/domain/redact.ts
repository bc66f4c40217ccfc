/**
 * Keeping secrets out of outcomes, plans, comments and logs. A Slack webhook URL is itself the
 * secret; other URLs carry them in the user-info or the query; headers carry them in
 * Authorization and friends. Pure.
 */

const REDACTED = '[redacted]'

const SECRET_NAME = /auth|token|secret|password|passwd|pwd|key|signature|sig|cookie|session|credential/i

/** Pure: the URL with user-info, secret-looking query values and Slack's webhook path redacted. */
export function redactUrl (raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return REDACTED
  }
  if (url.username !== '' || url.password !== '') {
    url.username = REDACTED
    url.password = ''
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_NAME.test(key)) url.searchParams.set(key, REDACTED)
  }
  // hooks.slack.com/services/T…/B…/<secret>, and the workflow-trigger form: the path is the key.
  if (/(^|\.)slack\.com$/i.test(url.hostname) && /^\/(services|triggers|workflows)\//.test(url.pathname)) {
    url.pathname = `/${url.pathname.split('/')[1] ?? ''}/${REDACTED}`
  }
  return url.toString().replace(/%5Bredacted%5D/gi, REDACTED)
}

/** Pure: header values redacted when the header's name suggests a secret. */
export function redactHeaders (headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_NAME.test(k) ? REDACTED : v]))
}

/**
 * Pure: every occurrence of a secret value (e.g. what `${env:…}` gave) anywhere in a JSON-like
 * value replaced by its name, `${env:SLACK_WEBHOOK_URL}`. Values shorter than 4 characters are
 * left alone: replacing "1" everywhere would garble more than it hides.
 */
export function redactValues<T> (value: T, secrets: ReadonlyArray<readonly [name: string, secret: string]>): T {
  const usable = secrets.filter(([, s]) => s.length >= 4).sort((a, b) => b[1].length - a[1].length)
  if (usable.length === 0) return value
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return usable.reduce((s, [name, secret]) => s.split(secret).join(name), v)
    if (Array.isArray(v)) return v.map(walk)
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  return walk(value) as T
}
