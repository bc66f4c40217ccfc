/** Small readers of a validated payload's values, shared by the kinds. Pure. */
import { typeOfId, type ImpactedEntity } from '../enrichment.js'

/** A string field as a fact: blank (a placeholder Dynatrace filled with nothing) is absent. */
export const nonBlank = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v)

export const firstDefined = <T>(...values: Array<T | undefined>): T | undefined => values.find((v) => v !== undefined)

type EntityItem = string | { readonly entity?: string, readonly id?: string, readonly type?: string | undefined, readonly name?: string | undefined }

/** The impacted (or affected) entities, once each, with the type and name the body gives, else the id's. */
export function impactedEntities (list: readonly EntityItem[]): ImpactedEntity[] {
  const seen = new Set<string>()
  const out: ImpactedEntity[] = []
  for (const item of list) {
    const o = typeof item === 'string' ? undefined : item
    const id = typeof item === 'string' ? item : nonBlank(item.entity) ?? nonBlank(item.id)
    if (id === undefined || seen.has(id)) continue
    seen.add(id)
    out.push({ id, type: nonBlank(o?.type) ?? typeOfId(id) ?? 'UNKNOWN', name: nonBlank(o?.name) ?? id, details: undefined, missing: undefined })
  }
  return out
}
