/**
 * Building Dynatrace selector strings (entitySelector, eventSelector, problemSelector,
 * securityProblemSelector). Values are quoted, and the two characters Dynatrace reserves inside
 * quotes — tilde and double quote — are escaped with a tilde, so an entity name with a quote in
 * it cannot change the meaning of the query.
 */

/** Pure: quotes one selector value. */
export function quoteSelectorValue (value: string): string {
  return `"${value.replace(/~/g, '~~').replace(/"/g, '~"')}"`
}

/** Pure: `name("v1","v2")`. */
export function criterion (name: string, values: readonly string[]): string {
  return `${name}(${values.map(quoteSelectorValue).join(',')})`
}

/** The Environment API's longest selector (OpenAPI: "The maximum string length is 2,000 characters"). */
export const MAX_SELECTOR_LENGTH = 2000

/**
 * Pure: `type("T"),entityId(…)` selectors covering every id, each within maxLength characters, so
 * that thousands of entities are read in tens of requests, not one each. The API wants the ids of
 * one selector to be of one type: the caller groups by type. An id too long to fit alone is left
 * out of the selectors and returned in `unfit` (the caller reads it on its own). `members[i]` are
 * the ids of `selectors[i]`.
 */
export function entityIdSelectorChunks (type: string | undefined, ids: readonly string[], maxLength = MAX_SELECTOR_LENGTH): { selectors: string[], members: string[][], unfit: string[] } {
  const head = type === undefined ? 'entityId(' : `${criterion('type', [type])},entityId(`
  const selectors: string[] = []
  const members: string[][] = []
  const unfit: string[] = []
  let current: string[] = []
  let currentIds: string[] = []
  let length = head.length + 1
  for (const id of ids) {
    const quoted = quoteSelectorValue(id)
    const extra = quoted.length + (current.length > 0 ? 1 : 0)
    if (head.length + 1 + quoted.length > maxLength) {
      unfit.push(id)
      continue
    }
    if (length + extra > maxLength) {
      selectors.push(`${head}${current.join(',')})`)
      members.push(currentIds)
      current = []
      currentIds = []
      length = head.length + 1
    }
    length += quoted.length + (current.length > 0 ? 1 : 0)
    current.push(quoted)
    currentIds.push(id)
  }
  if (current.length > 0) {
    selectors.push(`${head}${current.join(',')})`)
    members.push(currentIds)
  }
  return { selectors, members, unfit }
}
