/**
 * The read-only Dynatrace port every action gets as `ctx.dynatrace`: typed problem and entity
 * reads, nothing that writes. The full client satisfies it; the test kit takes a fake.
 */
import type { DynatraceClient } from './client.js'
import type { Entity, Problem } from './schemas.js'

export interface DynatraceReader {
  /** GET /api/v2/problems/{id} with evidence and impact analysis. */
  getProblem(problemId: string, signal?: AbortSignal): Promise<Problem>
  /** GET /api/v2/entities/{id} with properties, tags, management zones and relationships. */
  getEntity(entityId: string, signal?: AbortSignal): Promise<Entity>
}

/** Pure: the read-only view of a client, so an action cannot reach its write operations. */
export function dynatraceReader (client: DynatraceClient): DynatraceReader {
  return {
    getProblem: async (problemId, signal) => client.getProblem(problemId, signal),
    getEntity: async (entityId, signal) => client.getEntity(entityId, signal),
  }
}
