/** What both kinds' API reads merge into the body's facts the same way. Pure. */
import type { ProblemFacts } from '../../domain/enrichment.js'

interface ApiBasics {
  readonly status?: string | undefined
  readonly title?: string | undefined
  readonly managementZones: ReadonlyArray<{ readonly name?: string | undefined }>
}

/**
 * The API's status; the body's title, else the API's (a user's template wins); the body's
 * management zones and the API's, once each.
 */
export function mergedBasics (base: ProblemFacts, api: ApiBasics): Pick<ProblemFacts, 'status' | 'title' | 'managementZones'> {
  return {
    status: api.status,
    title: base.title ?? api.title,
    managementZones: [...new Set([...base.managementZones, ...api.managementZones.map((z) => z.name).filter((n): n is string => n !== undefined)])],
  }
}
