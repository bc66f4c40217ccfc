/**
 * Every secret the service holds (issue 18): DTR_WEBHOOK_TOKENS, DTR_ADMIN_TOKENS,
 * DTR_DYNATRACE_TOKEN, DTR_DATABASE_URL's password, and the value of every `${env:…}` a rule
 * uses. Whatever the service stores, answers, comments or logs passes redactSecrets: a value that
 * found its way into an error message, an echoed response or an outcome's details is replaced by
 * the name of the secret. (The one start-up line that prints a generated webhook token is the one
 * exception, SPEC 3: that token is not in the configuration, so it is not listed here.) Pure.
 */
/** A secret: what it is called where it shows, and its value. */
export type Secret = readonly [name: string, value: string]

interface SecretConfig {
  readonly webhookTokens: readonly string[] | undefined
  readonly adminTokens: ReadonlyArray<{ readonly name: string, readonly token: string }> | undefined
  readonly dynatrace: { readonly token: string | undefined } | undefined
  readonly databaseUrl: string | undefined
}

/** Pure: the configuration's secrets, named by their variable. */
export function configSecrets (config: SecretConfig): Secret[] {
  const out: Secret[] = []
  for (const token of config.webhookTokens ?? []) out.push(['[redacted: DTR_WEBHOOK_TOKENS]', token])
  for (const admin of config.adminTokens ?? []) out.push(['[redacted: DTR_ADMIN_TOKENS]', admin.token])
  if (config.dynatrace?.token !== undefined) out.push(['[redacted: DTR_DYNATRACE_TOKEN]', config.dynatrace.token])
  if (config.databaseUrl !== undefined) {
    try {
      const password = decodeURIComponent(new URL(config.databaseUrl).password)
      if (password !== '') out.push(['[redacted: DTR_DATABASE_URL]', password])
    } catch {
      // An unparsable URL stops start-up elsewhere; nothing to list.
    }
  }
  return out
}

/** Pure: the values of the `${env:…}` the rules use. */
export function ruleEnvSecrets (rules: ReadonlyArray<{ readonly env: readonly string[] }>, env: Readonly<Record<string, string | undefined>>): Secret[] {
  const names = new Set(rules.flatMap((r) => r.env))
  return [...names].flatMap((name) => {
    const value = env[name]
    return value === undefined || value === '' ? [] : [[`\${env:${name}}`, value] as const]
  })
}

/** Values shorter than this are not looked for: replacing "1" everywhere would garble more than it hides. */
const MIN_LENGTH = 4

/** Pure: every secret value in `text` (as is, and as it reads inside a JSON string) replaced by its name. */
export function redactSecretText (text: string, secrets: readonly Secret[]): string {
  let out = text
  for (const [name, value] of [...secrets].sort((a, b) => b[1].length - a[1].length)) {
    if (value.length < MIN_LENGTH) continue
    const escaped = JSON.stringify(value).slice(1, -1)
    if (out.includes(value)) out = out.split(value).join(name)
    if (escaped !== value && out.includes(escaped)) out = out.split(escaped).join(name)
  }
  return out
}

/**
 * A redactor for text that every answer and every log line pass through: the list is prepared
 * (longest first, too-short values dropped, the JSON-escaped forms computed) once per `version`
 * — the rules in force, whose `${env:…}` it includes — not once per line.
 */
export function secretRedactor (version: () => unknown, secrets: () => readonly Secret[]): (text: string) => string {
  let prepared: { version: unknown, list: ReadonlyArray<readonly [name: string, value: string, escaped: string]> } | undefined
  return (text) => {
    const v = version()
    if (prepared === undefined || prepared.version !== v) {
      const list = [...secrets()].filter(([, value]) => value.length >= MIN_LENGTH).sort((a, b) => b[1].length - a[1].length)
      prepared = { version: v, list: list.map(([name, value]) => [name, value, JSON.stringify(value).slice(1, -1)] as const) }
    }
    let out = text
    for (const [name, value, escaped] of prepared.list) {
      if (out.includes(value)) out = out.split(value).join(name)
      if (escaped !== value && out.includes(escaped)) out = out.split(escaped).join(name)
    }
    return out
  }
}

/** Pure: redactSecretText over every string (and key) of a JSON-like value. */
export function redactSecrets<T> (value: T, secrets: readonly Secret[]): T {
  if (secrets.length === 0) return value
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactSecretText(v, secrets)
    if (Array.isArray(v)) return v.map(walk)
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [redactSecretText(k, secrets), walk(x)]))
    return v
  }
  return walk(value) as T
}
