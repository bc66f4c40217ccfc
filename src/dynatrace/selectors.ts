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
