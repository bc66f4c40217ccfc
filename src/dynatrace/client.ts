/**
 * The Dynatrace Environment API v2 client: every call the service makes to Dynatrace. Operations
 * are named after the OpenAPI operationIds (the metric label and the simulator's fault names use
 * the same words). Responses are parsed with the loose schemas of schemas.ts; resilience (timeout,
 * retry, concurrency) is the transport's business.
 */
import type { Logger } from 'pino'
import type { z } from 'zod'
import type { Metrics } from '../metrics.js'
import { DynatraceApiError, isDynatraceApiError } from './errors.js'
import { defaultRetryOptions, nextDelayMs } from './retry.js'
import type { RetryOptions } from './retry.js'
import {
  commentSchema, commentsListSchema, entityListSchema, entitySchema, eventIngestResultsSchema, eventListSchema, problemCloseResultSchema,
  problemListSchema, problemSchema, securityProblemDetailsSchema, securityProblemListSchema,
} from './schemas.js'
import type {
  Comment, CommentRequest, Entity, Event, EventIngest, EventIngestResults, Problem, ProblemCloseResult,
  SecurityProblem, SecurityProblemDetails,
} from './schemas.js'
import { criterion } from './selectors.js'
import { sleep as defaultSleep } from '../clock.js'
import { Transport } from './transport.js'
import type { ApiRequest } from './transport.js'
import { parseEnvironmentUrl } from './url.js'
import type { EnvironmentUrl } from './url.js'

export interface DynatraceClientOptions {
  /** DTR_DYNATRACE_URL: SaaS or Managed (`/e/ENV-ID`) environment URL. */
  readonly url: string
  /** DTR_DYNATRACE_TOKEN, sent as `Authorization: Api-Token …`. */
  readonly token: string
  readonly metrics: Pick<Metrics, 'dynatraceRequests'>
  readonly logger?: Logger
  /** Per attempt, from the moment a concurrency slot is held. Default 10 s. */
  readonly timeoutMs?: number
  /** Requests in flight to this environment at once. Default 8. */
  readonly maxConcurrency?: number
  readonly retry?: Partial<RetryOptions>
  /** Injected for tests: the clock, the sleep between retries, the jitter source. */
  readonly now?: () => number
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly random?: () => number
}

export interface EventQuery {
  readonly entitySelector?: string
  /** e.g. `eventType("CUSTOM_DEPLOYMENT")`; see eventTypeSelector(). */
  readonly eventSelector?: string
  /** ms epoch, ISO timestamp or relative (`now-2h`); Dynatrace defaults to now-2h. */
  readonly from?: string | number
  readonly to?: string | number
  readonly pageSize?: number
  /** Stop after this many events (guards against an unbounded query). Default 10 000. */
  readonly limit?: number
}

export interface ProblemListQuery {
  /** e.g. `status("open")`; see statusSelector(). */
  readonly problemSelector?: string
  readonly entitySelector?: string
  /** ms epoch, ISO timestamp or relative (`now-2h`); Dynatrace defaults to now-2h. */
  readonly from?: string | number
  readonly to?: string | number
  /** At most 500 (the API's limit); default 500, so that a listing costs as few calls as it can. */
  readonly pageSize?: number
  /** `evidenceDetails`, `impactAnalysis`, `recentComments`: sent on every page, as the API requires. */
  readonly fields?: string
  /** Stop after this many problems (guards against an unbounded listing). Default 10 000. */
  readonly limit?: number
}

export interface SecurityProblemListQuery {
  /** e.g. `status("OPEN")`. */
  readonly securityProblemSelector?: string
  /** Dynatrace defaults to now-30d. */
  readonly from?: string | number
  readonly to?: string | number
  /** At most 500; default 500. */
  readonly pageSize?: number
  /** e.g. `+riskAssessment,+managementZones`; the first page's, which the page key carries on. */
  readonly fields?: string
  /** Default 10 000. */
  readonly limit?: number
}

/** A listing and what it cost: the pages read (one call each, retries aside). */
export interface Listing<T> {
  readonly items: T[]
  readonly pages: number
  /** True when `limit` cut the listing short. */
  readonly truncated: boolean
}

export interface EntityQuery {
  /** Default: properties, tags, management zones and both relationship directions. */
  readonly fields?: string
  readonly from?: string | number
  readonly to?: string | number
}

export type CommentPostOutcome =
  | { readonly status: 'posted' }
  | { readonly status: 'already-present', readonly comment: Comment }

export interface DynatraceClient {
  readonly environment: EnvironmentUrl
  /** GET /problems/{id} with evidenceDetails and impactAnalysis. */
  getProblem(problemId: string, signal?: AbortSignal): Promise<Problem>
  /** GET /problems following nextPageKey (sent alone, with only `fields` beside it) up to `limit`. */
  listProblems(query: ProblemListQuery, signal?: AbortSignal): Promise<Listing<Problem>>
  /** GET /securityProblems following nextPageKey (sent alone) up to `limit`. */
  listSecurityProblems(query: SecurityProblemListQuery, signal?: AbortSignal): Promise<Listing<SecurityProblem>>
  /** Every comment of a problem, following nextPageKey. */
  getComments(problemId: string, options?: { pageSize?: number, signal?: AbortSignal }): Promise<Comment[]>
  /** The first comment (newest first, as Dynatrace lists them) satisfying `predicate`, reading only as many pages as needed. */
  findComment(problemId: string, predicate: (comment: Comment) => boolean, signal?: AbortSignal): Promise<Comment | undefined>
  /** POST a comment (201). Not retried once sent: on `outcomeUnknown`, use findComment or postCommentOnce. */
  createComment(problemId: string, comment: CommentRequest, signal?: AbortSignal): Promise<void>
  /**
   * Posts a comment unless one containing `marker` (e.g. the run id) is already there, and
   * resolves an unknown outcome by reading the comments before posting again. `neverPosted`: the
   * caller knows no earlier attempt can have posted it (its first try, as its store records it),
   * so the read before the first post is skipped; an unknown outcome is still read before posting
   * again.
   */
  postCommentOnce(problemId: string, comment: CommentRequest, marker: string, signal?: AbortSignal, options?: { readonly neverPosted?: boolean }): Promise<CommentPostOutcome>
  getComment(problemId: string, commentId: string, signal?: AbortSignal): Promise<Comment>
  updateComment(problemId: string, commentId: string, comment: CommentRequest, signal?: AbortSignal): Promise<void>
  deleteComment(problemId: string, commentId: string, signal?: AbortSignal): Promise<void>
  /** POST /problems/{id}/close; undefined when the problem was already closed (204). */
  closeProblem(problemId: string, message: string, signal?: AbortSignal): Promise<ProblemCloseResult | undefined>
  /** GET /events following nextPageKey up to `limit`. */
  getEvents(query: EventQuery, signal?: AbortSignal): Promise<Event[]>
  getEntity(entityId: string, signal?: AbortSignal, query?: EntityQuery): Promise<Entity>
  /** GET /entities for one entitySelector (at most 2,000 characters), following nextPageKey. */
  getEntities(entitySelector: string, signal?: AbortSignal, query?: EntityQuery): Promise<Entity[]>
  /** POST /events/ingest (201). Not retried once sent. */
  ingestEvent(event: EventIngest, signal?: AbortSignal): Promise<EventIngestResults>
  getSecurityProblem(securityProblemId: string, signal?: AbortSignal): Promise<SecurityProblemDetails>
  /** Maps a display id (S-1234) to the security problem, or undefined when none matches. */
  findSecurityProblemByDisplayId(displayId: string, signal?: AbortSignal): Promise<SecurityProblem | undefined>
  /** Requests currently holding a concurrency slot. */
  readonly inFlight: number
  close(): Promise<void>
}

const DEFAULT_ENTITY_FIELDS = '+properties,+tags,+managementZones,+fromRelationships,+toRelationships,+firstSeenTms,+lastSeenTms'
const SECURITY_FIELDS = '+riskAssessment,+managementZones,+description,+affectedEntities,+exposedEntities,+reachableDataAssets'

/** Pure: the eventSelector for one event type. */
export const eventTypeSelector = (eventType: string): string => criterion('eventType', [eventType])
/** Pure: an entitySelector for entity ids. */
export const entityIdSelector = (ids: readonly string[]): string => criterion('entityId', ids)

const seg = encodeURIComponent

export function createDynatraceClient (options: DynatraceClientOptions): DynatraceClient {
  const environment = parseEnvironmentUrl(options.url)
  if (options.token.trim() === '') throw new DynatraceApiError('Dynatrace token is empty', { operation: 'config', retryable: false, attempts: 0 })
  const retry: RetryOptions = { ...defaultRetryOptions, ...options.retry }
  const random = options.random ?? Math.random
  const sleep = options.sleep ?? defaultSleep
  const transport = new Transport({
    environment,
    token: options.token.trim(),
    requests: options.metrics.dynatraceRequests,
    logger: options.logger,
    timeoutMs: options.timeoutMs ?? 10_000,
    maxConcurrency: options.maxConcurrency ?? 8,
    retry,
    now: options.now ?? Date.now,
    sleep,
    random,
    userAgent: 'dt-remediator',
  })

  async function call<S extends z.ZodType> (req: ApiRequest, schema: S): Promise<z.output<S>> {
    const res = await transport.request(req)
    const parsed = schema.safeParse(res.body)
    if (!parsed.success) {
      throw new DynatraceApiError(`Dynatrace ${req.operation} answered ${res.status} with an unexpected body: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        { operation: req.operation, responseStatus: res.status, retryable: false, attempts: 1 })
    }
    return parsed.data
  }

  /** Follows nextPageKey. Dynatrace wants the key sent alone (only `fields` may accompany it). */
  async function * pages<S extends z.ZodType<{ nextPageKey?: string | undefined }>> (req: ApiRequest, schema: S, keep: Record<string, string | undefined> = {}): AsyncGenerator<z.output<S>> {
    let page = await call(req, schema)
    yield page
    while (page.nextPageKey !== undefined && page.nextPageKey !== '') {
      page = await call({ ...req, query: { ...keep, nextPageKey: page.nextPageKey } }, schema)
      yield page
    }
  }

  const client: DynatraceClient = {
    environment,
    get inFlight () { return transport.inFlight },

    async getProblem (problemId, signal) {
      return call({ operation: 'getProblem', method: 'GET', path: `/problems/${seg(problemId)}`, query: { fields: 'evidenceDetails,impactAnalysis' }, expect: [200], signal }, problemSchema)
    },

    async listProblems (query, signal) {
      const limit = query.limit ?? 10_000
      const items: Problem[] = []
      let read = 0
      const req: ApiRequest = {
        operation: 'getProblems',
        method: 'GET',
        path: '/problems',
        query: { problemSelector: query.problemSelector, entitySelector: query.entitySelector, from: query.from, to: query.to, pageSize: query.pageSize ?? 500, fields: query.fields },
        expect: [200],
        signal,
      }
      // `fields` is valid for one page only: the API wants it on each, beside the page key.
      for await (const page of pages(req, problemListSchema, { fields: query.fields })) {
        read++
        items.push(...page.problems)
        if (items.length >= limit) return { items: items.slice(0, limit), pages: read, truncated: items.length > limit || (page.nextPageKey ?? '') !== '' }
      }
      return { items, pages: read, truncated: false }
    },

    async listSecurityProblems (query, signal) {
      const limit = query.limit ?? 10_000
      const items: SecurityProblem[] = []
      let read = 0
      const req: ApiRequest = {
        operation: 'getSecurityProblems',
        method: 'GET',
        path: '/securityProblems',
        query: { securityProblemSelector: query.securityProblemSelector, from: query.from, to: query.to, pageSize: query.pageSize ?? 500, fields: query.fields },
        expect: [200],
        signal,
      }
      // Unlike /problems, this API wants the page key with no other parameter at all.
      for await (const page of pages(req, securityProblemListSchema)) {
        read++
        items.push(...page.securityProblems)
        if (items.length >= limit) return { items: items.slice(0, limit), pages: read, truncated: items.length > limit || (page.nextPageKey ?? '') !== '' }
      }
      return { items, pages: read, truncated: false }
    },

    async getComments (problemId, opts = {}) {
      const all: Comment[] = []
      for await (const page of pages({ operation: 'getComments', method: 'GET', path: `/problems/${seg(problemId)}/comments`, query: { pageSize: opts.pageSize }, expect: [200], signal: opts.signal }, commentsListSchema)) {
        all.push(...page.comments)
      }
      return all
    },

    async findComment (problemId, predicate, signal) {
      for await (const page of pages({ operation: 'getComments', method: 'GET', path: `/problems/${seg(problemId)}/comments`, query: { pageSize: 500 }, expect: [200], signal }, commentsListSchema)) {
        const hit = page.comments.find(predicate)
        if (hit !== undefined) return hit
      }
      return undefined
    },

    async createComment (problemId, comment, signal) {
      await transport.request({ operation: 'createComment', method: 'POST', path: `/problems/${seg(problemId)}/comments`, body: comment, expect: [201], signal })
    },

    async postCommentOnce (problemId, comment, marker, signal, options = {}) {
      const landed = (c: Comment): boolean => c.content?.includes(marker) === true
      const existing = options.neverPosted === true ? undefined : await client.findComment(problemId, landed, signal)
      if (existing !== undefined) return { status: 'already-present', comment: existing }
      for (let attempt = 1; ; attempt++) {
        try {
          await client.createComment(problemId, comment, signal)
          return { status: 'posted' }
        } catch (err) {
          if (!isDynatraceApiError(err) || !err.outcomeUnknown || attempt >= retry.maxAttempts) throw err
          // Give a slow write time to become visible before deciding it did not land.
          await sleep(nextDelayMs(attempt, undefined, retry, random), signal)
          const found = await client.findComment(problemId, landed, signal)
          if (found !== undefined) return { status: 'already-present', comment: found }
        }
      }
    },

    async getComment (problemId, commentId, signal) {
      return call({ operation: 'getComment', method: 'GET', path: `/problems/${seg(problemId)}/comments/${seg(commentId)}`, expect: [200], signal }, commentSchema)
    },

    async updateComment (problemId, commentId, comment, signal) {
      await transport.request({ operation: 'updateComment', method: 'PUT', path: `/problems/${seg(problemId)}/comments/${seg(commentId)}`, body: comment, expect: [204], signal })
    },

    async deleteComment (problemId, commentId, signal) {
      await transport.request({ operation: 'deleteComment', method: 'DELETE', path: `/problems/${seg(problemId)}/comments/${seg(commentId)}`, expect: [204], signal })
    },

    async closeProblem (problemId, message, signal) {
      // Closing twice is harmless (Dynatrace answers 204 the second time), so unlike other POSTs
      // this one may be retried after an unknown outcome.
      const res = await transport.request({ operation: 'closeProblem', method: 'POST', path: `/problems/${seg(problemId)}/close`, body: { message }, expect: [200, 204], idempotent: true, signal })
      if (res.status === 204) return undefined
      const parsed = problemCloseResultSchema.safeParse(res.body)
      if (!parsed.success) throw new DynatraceApiError('Dynatrace closeProblem answered with an unexpected body', { operation: 'closeProblem', responseStatus: res.status, retryable: false, attempts: 1 })
      return parsed.data
    },

    async getEvents (query, signal) {
      const limit = query.limit ?? 10_000
      const all: Event[] = []
      const req: ApiRequest = {
        operation: 'getEvents',
        method: 'GET',
        path: '/events',
        query: { entitySelector: query.entitySelector, eventSelector: query.eventSelector, from: query.from, to: query.to, pageSize: query.pageSize },
        expect: [200],
        signal,
      }
      for await (const page of pages(req, eventListSchema)) {
        all.push(...page.events)
        if (all.length >= limit) return all.slice(0, limit)
      }
      return all
    },

    async getEntity (entityId, signal, query = {}) {
      return call({ operation: 'getEntity', method: 'GET', path: `/entities/${seg(entityId)}`, query: { fields: query.fields ?? DEFAULT_ENTITY_FIELDS, from: query.from, to: query.to }, expect: [200], signal }, entitySchema)
    },

    async getEntities (entitySelector, signal, query = {}) {
      const fields = query.fields ?? DEFAULT_ENTITY_FIELDS
      const req: ApiRequest = { operation: 'getEntities', method: 'GET', path: '/entities', query: { entitySelector, fields, from: query.from, to: query.to, pageSize: 500 }, expect: [200], signal }
      const all: Entity[] = []
      // `fields` is valid for one page only: the API wants it on each, beside the page key.
      for await (const page of pages(req, entityListSchema, { fields })) all.push(...page.entities)
      return all
    },

    async ingestEvent (event, signal) {
      return call({ operation: 'createEvent', method: 'POST', path: '/events/ingest', body: event, expect: [201], signal }, eventIngestResultsSchema)
    },

    async getSecurityProblem (securityProblemId, signal) {
      return call({ operation: 'getSecurityProblem', method: 'GET', path: `/securityProblems/${seg(securityProblemId)}`, query: { fields: SECURITY_FIELDS }, expect: [200], signal }, securityProblemDetailsSchema)
    },

    async findSecurityProblemByDisplayId (displayId, signal) {
      const list = await call({ operation: 'getSecurityProblems', method: 'GET', path: '/securityProblems', query: { securityProblemSelector: criterion('displayIds', [displayId]), fields: '+riskAssessment,+managementZones' }, expect: [200], signal }, securityProblemListSchema)
      // Only an exact display-id match: falling back to the first result would attach our
      // write-back to an unrelated security problem if the selector were ever ignored.
      return list.securityProblems.find((p) => p.displayId?.toUpperCase() === displayId.toUpperCase())
    },

    async close () {
      await transport.close()
    },
  }
  return client
}
