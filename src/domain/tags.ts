/**
 * Dynatrace tags as rules and resolution read them (SPEC 5, 6): `key`, `key:value` and
 * `[context]key:value`, on the problem (the notification's `Tags`, the v2 problem's entityTags) or
 * on an entity (Entities API v2). Pure.
 */

export interface Tag {
  /** CONTEXTLESS, ENVIRONMENT, KUBERNETES, AWS…; undefined when not known (the notification's Tags string). */
  readonly context?: string | undefined
  readonly key: string
  readonly value?: string | undefined
}

/** Pure: parses `[context]key:value` (the value may itself hold colons). */
export function parseTag (text: string): Tag {
  const trimmed = text.trim()
  const m = /^(?:\[([^\]]*)\])?\s*([^:]*)(?::(.*))?$/s.exec(trimmed)
  if (m === null) return { key: trimmed }
  return { ...(m[1] === undefined ? {} : { context: m[1] }), key: (m[2] ?? '').trim(), ...(m[3] === undefined ? {} : { value: m[3].trim() }) }
}

/** Pure: the tags of the notification's comma-separated `Tags` placeholder. */
export function parseTagList (text: string | undefined): Tag[] {
  if (text === undefined) return []
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(parseTag)
}

/** Pure: Dynatrace's string form. */
export function formatTag (tag: Tag): string {
  const context = tag.context === undefined || tag.context.toUpperCase() === 'CONTEXTLESS' ? '' : `[${tag.context}]`
  return `${context}${tag.key}${tag.value === undefined ? '' : `:${tag.value}`}`
}

/**
 * Pure: whether `have` satisfies the rule's `want`. The key (case-sensitive, as Dynatrace's are)
 * must be equal; a value in `want` must be equal; a context in `want` must be equal
 * (case-insensitively: the API writes KUBERNETES, the UI Kubernetes). A tag of unknown context
 * (from the notification's Tags string) satisfies a contextless want only.
 */
export function tagMatches (want: Tag, have: Tag): boolean {
  if (want.key !== have.key) return false
  if (want.value !== undefined && want.value !== have.value) return false
  if (want.context !== undefined) {
    const w = want.context.toUpperCase()
    const h = (have.context ?? 'CONTEXTLESS').toUpperCase()
    if (w !== h) return false
  }
  return true
}

/** Pure: the value of the first tag whose key equals `key` case-insensitively, in any context. */
export function tagValue (tags: readonly Tag[], key: string): string | undefined {
  const k = key.toLowerCase()
  return tags.find((t) => t.key.toLowerCase() === k && t.value !== undefined && t.value !== '')?.value
}
