/**
 * Enrichment's entity and deployment-event reads, gathered across the notifications planned at
 * the same time (issue 23): in an outage a hundred problems a second each want their service,
 * process group, host and workload, and their deployment events — one request per entity type
 * and problem, a dozen calls per problem before anything is done. Here each read joins the
 * requests of its entity type (src/dynatrace/coalesce.ts): it leaves at once when Dynatrace keeps
 * up, and shares a request with the others of its type when Dynatrace is busy, every selector
 * within the API's 2,000 characters. One set of coalescers per client, like the shared problem
 * reads of ./kinds/problem.ts.
 *
 * Events are read for the union of the callers' windows and each caller keeps the events of its
 * own ids that overlap its own window, which is what its own query would have returned. A shared
 * read cut short by its limit answers nobody: each caller then reads on its own.
 */
import { Coalescer } from '../dynatrace/coalesce.js'
import type { Entity, Event } from '../dynatrace/schemas.js'
import { criterion, MAX_SELECTOR_LENGTH, quoteSelectorValue } from '../dynatrace/selectors.js'
import type { EnrichmentSource } from './kinds/index.js'

/** Requests of one entity type in flight at once, before its next reads wait to go together. */
const MAX_IN_FLIGHT_PER_TYPE = 2
/** The events one shared read may list: past it, the callers read on their own. */
const SHARED_EVENTS_LIMIT = 10_000

export interface Window {
  readonly from: number
  readonly to: number
}

export interface BatchedReads {
  /** Whether `id` fits a shared entity read (an id too long for any selector is read on its own). */
  fits(type: string, id: string): boolean
  /** The entity as GET /entities lists it, or undefined when Dynatrace did not list it. Throws when the read failed. */
  entity(type: string, id: string, signal?: AbortSignal): Promise<Entity | undefined>
  /**
   * The events matching `eventSelector` on `id` that overlap `window`, newest first; undefined
   * when the shared read was cut short (read on your own). Throws when the read failed.
   */
  events(eventSelector: string, type: string, id: string, window: Window, signal?: AbortSignal): Promise<Event[] | undefined>
}

const weight = (id: string): number => quoteSelectorValue(id).length + 1
const entityHead = (type: string): string => `${criterion('type', [type])},entityId(`
const EVENTS_HEAD = 'entityId('

function batchedReadsOf (dt: EnrichmentSource): BatchedReads {
  const entities = new Coalescer<undefined, Map<string, Entity>>({
    maxInFlight: MAX_IN_FLIGHT_PER_TYPE,
    weight,
    capacity: (type) => MAX_SELECTOR_LENGTH - entityHead(type).length - 1,
    async read (type, asks) {
      const list = await dt.getEntities(`${entityHead(type)}${[...asks.keys()].map(quoteSelectorValue).join(',')})`)
      return new Map(list.map((e) => [e.entityId, e]))
    },
  })
  // Grouped by event selector and entity type: Dynatrace refuses an entityId(…) of mixed types.
  const events = new Coalescer<Window, { events: Event[], complete: boolean }>({
    maxInFlight: MAX_IN_FLIGHT_PER_TYPE,
    weight,
    capacity: () => MAX_SELECTOR_LENGTH - EVENTS_HEAD.length - 1,
    async read (group, asks) {
      const windows = [...asks.values()].flat()
      const list = await dt.getEvents({
        eventSelector: group.slice(0, group.lastIndexOf('\n')),
        entitySelector: `${EVENTS_HEAD}${[...asks.keys()].map(quoteSelectorValue).join(',')})`,
        from: Math.min(...windows.map((w) => w.from)),
        to: Math.max(...windows.map((w) => w.to)),
        pageSize: 1000,
        limit: SHARED_EVENTS_LIMIT,
      })
      return { events: list, complete: list.length < SHARED_EVENTS_LIMIT }
    },
  })
  return {
    fits: (type, id) => weight(id) <= MAX_SELECTOR_LENGTH - entityHead(type).length - 1,
    async entity (type, id, signal) {
      return (await entities.get(type, id, undefined, signal)).get(id)
    },
    async events (eventSelector, type, id, window, signal) {
      const shared = await events.get(`${eventSelector}\n${type}`, id, window, signal)
      if (!shared.complete) return undefined
      // Dynatrace lists the events whose timeframe overlaps the query's; an open one has no end yet.
      return shared.events.filter((ev) => ev.entityId?.entityId.id === id && ev.startTime <= window.to && (ev.endTime ?? Number.POSITIVE_INFINITY) >= window.from)
    },
  }
}

const perClient = new WeakMap<EnrichmentSource, BatchedReads>()

/** The client's shared readers (made at its first use). */
export function batchedReads (dt: EnrichmentSource): BatchedReads {
  let reads = perClient.get(dt)
  if (reads === undefined) {
    reads = batchedReadsOf(dt)
    perClient.set(dt, reads)
  }
  return reads
}
