/**
 * The Environment API v2 as the simulator serves it: the operations the client uses plus problem
 * close, single-comment get/put/delete, list endpoints with paging, Api-Token authentication with
 * scopes, and injected faults. Each route declares its operationId (the name faults and the
 * request log use) and the token scope it needs, as the OpenAPI document's x-token-scopes does.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SimBadRequest, parseSelector, parseTime, readPage, slicePage } from '../query.js'
import { entityProjection, fieldSet, renderComment, renderEntity, renderEvent, renderProblem, renderSecurityProblem } from '../tenant/index.js'
import type { SimEvent, SimProblem } from '../tenant/index.js'
import type { DynatraceSimulator } from '../simulator.js'
import type { Fault, LoggedRequest } from '../traffic.js'
import { sendError } from './envelope.js'

type Query = Record<string, string | undefined>
type Params = Record<string, string>
type Handler = (req: FastifyRequest<{ Querystring: Query, Params: Params }>, reply: FastifyReply) => Promise<unknown>

interface Operation { readonly operationId: string, readonly scope: string }

const EVENT_TYPES = new Set(['AVAILABILITY_EVENT', 'CUSTOM_ALERT', 'CUSTOM_ANNOTATION', 'CUSTOM_CONFIGURATION', 'CUSTOM_DEPLOYMENT', 'CUSTOM_INFO', 'ERROR_EVENT', 'MARKED_FOR_TERMINATION', 'PERFORMANCE_EVENT', 'RESOURCE_CONTENTION_EVENT'])

export interface ApiRoutesOptions {
  readonly sim: DynatraceSimulator
  /** Aborted when the app closes, so injected latency never holds up shutdown. */
  readonly closing: AbortSignal
}

export async function apiRoutes (app: FastifyInstance, { sim, closing }: ApiRoutesOptions): Promise<void> {
  const inFlight = new WeakMap<FastifyRequest, { entry: LoggedRequest, fault: Fault | undefined }>()

  const wait = async (ms: number): Promise<void> => {
    try { await sleep(ms, undefined, { signal: closing }) } catch { /* closing: answer at once */ }
  }

  function route (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, op: Operation, handler: Handler): void {
    app.route<{ Querystring: Query, Params: Params }>({
      method,
      url,
      onRequest: async (request, reply) => {
        const entry = sim.traffic.begin({ at: sim.now(), method: request.method, url: request.url, operation: op.operationId, headers: { ...request.headers }, body: undefined })
        inFlight.set(request, { entry, fault: undefined })
        // 'close' fires whether the answer finished or the client went away (a timeout).
        reply.raw.once('close', () => sim.traffic.end(entry, reply.raw.writableFinished ? reply.statusCode : undefined, sim.now()))
      },
      preHandler: async (request, reply) => {
        const state = inFlight.get(request)
        if (state !== undefined) state.entry.body = request.body
        const auth = /^Api-Token\s+(\S+)$/i.exec(request.headers.authorization ?? '')
        const scopes = auth?.[1] === undefined ? undefined : sim.tokens.get(auth[1])
        if (request.headers.authorization === undefined) return sendError(reply, 401, 'Missing authorization parameter.')
        if (scopes === undefined) return sendError(reply, 401, 'Token Authentication failed')
        if (!scopes.has(op.scope)) return sendError(reply, 403, `Token is missing required scope. Use one of: ${op.scope}`)
        const fault = sim.traffic.takeFault(op.operationId)
        if (fault === undefined || state === undefined) return
        state.fault = fault
        state.entry.fault = fault.id
        if (fault.latencyMs !== undefined && fault.latencyPhase !== 'after') await wait(fault.latencyMs)
        if (fault.hold !== undefined && fault.latencyPhase !== 'after') await fault.hold.catch(() => {})
        if (fault.status === undefined) return
        if (fault.retryAfter !== undefined) reply.header('retry-after', String(fault.retryAfter))
        if (fault.rateLimitResetMs !== undefined) reply.header('x-ratelimit-reset', String((sim.now() + fault.rateLimitResetMs) * 1000))
        const message = fault.message ?? (fault.status === 429 ? 'Too Many Requests' : `Injected fault ${fault.id}`)
        return sendError(reply, fault.status, message)
      },
      onSend: async (request, _reply, payload) => {
        const fault = inFlight.get(request)?.fault
        if (fault?.latencyMs !== undefined && fault.latencyPhase === 'after') await wait(fault.latencyMs)
        if (fault?.hold !== undefined && fault.latencyPhase === 'after') await fault.hold.catch(() => {})
        return payload
      },
      handler,
    })
  }

  const problemOr404 = (id: string | undefined, reply: FastifyReply): SimProblem | undefined => {
    const p = id === undefined ? undefined : sim.tenant.problem(id)
    if (p === undefined) sendError(reply, 404, `The requested problem ID '${id ?? ''}' does not exist.`)
    return p
  }

  const messageOf = (body: unknown): { message: string, context: string | undefined } => {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    if (typeof b.message !== 'string' || b.message === '') throw new SimBadRequest('message', 'message must not be empty', 'PAYLOAD_BODY')
    if (b.context !== undefined && typeof b.context !== 'string') throw new SimBadRequest('context', 'context must be a string', 'PAYLOAD_BODY')
    return { message: b.message, context: b.context }
  }

  route('GET', '/api/v2/problems', { operationId: 'getProblems', scope: 'problems.read' }, async (req) => {
    const page = readPage(req.query, { default: 50, max: 500 })
    const q = page.query
    const now = sim.now()
    const from = parseTime('from', q.from ?? 'now-2h', now)
    const to = parseTime('to', q.to ?? 'now', now)
    let problems = [...sim.tenant.problems.values()].filter((p) => p.startTime <= to && (p.endTime === -1 || p.endTime >= from))
    for (const c of q.problemSelector === undefined ? [] : parseSelector('problemSelector', q.problemSelector)) {
      const vals = c.values.map((v) => v.toLowerCase())
      if (c.name === 'status') problems = problems.filter((p) => vals.includes(p.status.toLowerCase()))
      else if (c.name === 'displayId') problems = problems.filter((p) => vals.includes(p.displayId.toLowerCase()))
      else if (c.name === 'problemId') problems = problems.filter((p) => vals.includes(p.problemId.toLowerCase()))
      else if (c.name === 'severityLevel') problems = problems.filter((p) => vals.includes(p.severityLevel.toLowerCase()))
      else if (c.name === 'managementZones') problems = problems.filter((p) => p.managementZones.some((z) => vals.includes(z.name.toLowerCase())))
      else if (c.name === 'managementZoneIds') problems = problems.filter((p) => p.managementZones.some((z) => vals.includes(z.id.toLowerCase())))
      else throw new SimBadRequest('problemSelector', `The simulator does not support the problemSelector criterion "${c.name}" (supported: status, displayId, problemId, severityLevel, managementZones, managementZoneIds)`)
    }
    problems.sort((a, b) => b.startTime - a.startTime)
    const fields = fieldSet(q.fields)
    const { items, nextPageKey } = slicePage(problems, page)
    return { totalCount: problems.length, pageSize: page.pageSize, ...(nextPageKey === undefined ? {} : { nextPageKey }), problems: items.map((p) => renderProblem(sim.tenant, p, fields)), warnings: [] }
  })

  route('GET', '/api/v2/problems/:problemId', { operationId: 'getProblem', scope: 'problems.read' }, async (req, reply) => {
    const p = problemOr404(req.params.problemId, reply)
    return p === undefined ? reply : renderProblem(sim.tenant, p, fieldSet(req.query.fields))
  })

  route('POST', '/api/v2/problems/:problemId/close', { operationId: 'closeProblem', scope: 'problems.write' }, async (req, reply) => {
    const p = problemOr404(req.params.problemId, reply)
    if (p === undefined) return reply
    const { message } = messageOf(req.body)
    if (p.status === 'CLOSED') return reply.code(204).send()
    const comment = sim.tenant.addComment(p, message, '')
    sim.tenant.closeProblem(p.problemId)
    sim.notifyInBackground(p)
    return { problemId: p.problemId, closing: true, closeTimestamp: p.endTime, comment: renderComment(comment) }
  })

  route('GET', '/api/v2/problems/:problemId/comments', { operationId: 'getComments', scope: 'problems.read' }, async (req, reply) => {
    const p = problemOr404(req.params.problemId, reply)
    if (p === undefined) return reply
    const page = readPage(req.query, { default: 10, max: 500 })
    const { items, nextPageKey } = slicePage(p.comments, page)
    return { comments: items.map(renderComment), totalCount: p.comments.length, pageSize: page.pageSize, ...(nextPageKey === undefined ? {} : { nextPageKey }) }
  })

  route('POST', '/api/v2/problems/:problemId/comments', { operationId: 'createComment', scope: 'problems.write' }, async (req, reply) => {
    const p = problemOr404(req.params.problemId, reply)
    if (p === undefined) return reply
    const { message, context } = messageOf(req.body)
    sim.tenant.addComment(p, message, context ?? '')
    return reply.code(201).send()
  })

  const commentOr404 = (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply): { problem: SimProblem, index: number } | undefined => {
    const problem = problemOr404(req.params.problemId, reply)
    if (problem === undefined) return undefined
    const index = problem.comments.findIndex((c) => c.id === req.params.commentId)
    if (index < 0) {
      sendError(reply, 404, `The requested comment ID '${req.params.commentId ?? ''}' does not exist.`)
      return undefined
    }
    return { problem, index }
  }

  route('GET', '/api/v2/problems/:problemId/comments/:commentId', { operationId: 'getComment', scope: 'problems.read' }, async (req, reply) => {
    const found = commentOr404(req, reply)
    const comment = found?.problem.comments[found.index]
    return comment === undefined ? reply : renderComment(comment)
  })

  route('PUT', '/api/v2/problems/:problemId/comments/:commentId', { operationId: 'updateComment', scope: 'problems.write' }, async (req, reply) => {
    const found = commentOr404(req, reply)
    const comment = found?.problem.comments[found.index]
    if (comment === undefined) return reply
    const { message, context } = messageOf(req.body)
    comment.content = message
    if (context !== undefined) comment.context = context
    return reply.code(204).send()
  })

  route('DELETE', '/api/v2/problems/:problemId/comments/:commentId', { operationId: 'deleteComment', scope: 'problems.write' }, async (req, reply) => {
    const found = commentOr404(req, reply)
    if (found === undefined) return reply
    found.problem.comments.splice(found.index, 1)
    return reply.code(204).send()
  })

  route('GET', '/api/v2/events', { operationId: 'getEvents', scope: 'events.read' }, async (req) => {
    const page = readPage(req.query, { default: 100, max: 1000 })
    const q = page.query
    const now = sim.now()
    const from = parseTime('from', q.from ?? 'now-2h', now)
    const to = parseTime('to', q.to ?? 'now', now)
    let events = sim.tenant.events.filter((e) => e.startTime <= to && e.endTime >= from)
    if (q.entitySelector !== undefined) {
      const ids = new Set(sim.tenant.selectEntities(q.entitySelector).map((e) => e.entityId))
      events = events.filter((e) => e.entityId !== undefined && ids.has(e.entityId))
    }
    for (const c of q.eventSelector === undefined ? [] : parseSelector('eventSelector', q.eventSelector)) events = events.filter(eventFilter(c.name, c.values, now))
    events = [...events].sort((a, b) => b.startTime - a.startTime)
    const { items, nextPageKey } = slicePage(events, page)
    return { totalCount: events.length, pageSize: page.pageSize, ...(nextPageKey === undefined ? {} : { nextPageKey }), events: items.map((e) => renderEvent(sim.tenant, e)), warnings: [] }
  })

  route('GET', '/api/v2/events/:eventId', { operationId: 'getEvent', scope: 'events.read' }, async (req, reply) => {
    const e = sim.tenant.events.find((x) => x.eventId === req.params.eventId)
    return e === undefined ? sendError(reply, 404, `The requested event ID '${req.params.eventId ?? ''}' does not exist.`) : renderEvent(sim.tenant, e)
  })

  route('POST', '/api/v2/events/ingest', { operationId: 'createEvent', scope: 'events.ingest' }, async (req, reply) => {
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>
    if (typeof b.eventType !== 'string' || !EVENT_TYPES.has(b.eventType)) throw new SimBadRequest('eventType', `eventType must be one of ${[...EVENT_TYPES].join(', ')}`, 'PAYLOAD_BODY')
    if (typeof b.title !== 'string' || b.title === '') throw new SimBadRequest('title', 'title must not be empty', 'PAYLOAD_BODY')
    const props = b.properties ?? {}
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new SimBadRequest('properties', 'properties must be a map of strings', 'PAYLOAD_BODY')
    const entries = Object.entries(props)
    if (entries.length > 100) throw new SimBadRequest('properties', 'at most 100 properties are allowed', 'PAYLOAD_BODY')
    for (const [k, v] of entries) {
      if (k.length > 100) throw new SimBadRequest(`properties.${k}`, 'property keys are limited to 100 characters', 'PAYLOAD_BODY')
      if (typeof v !== 'string' || v.length > 4096) throw new SimBadRequest(`properties.${k}`, 'property values must be strings of at most 4096 characters', 'PAYLOAD_BODY')
    }
    const num = (name: string): number | undefined => {
      const v = b[name]
      if (v === undefined) return undefined
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new SimBadRequest(name, `${name} must be an integer`, 'PAYLOAD_BODY')
      return v
    }
    if (b.entitySelector !== undefined && typeof b.entitySelector !== 'string') throw new SimBadRequest('entitySelector', 'entitySelector must be a string', 'PAYLOAD_BODY')
    const results = sim.tenant.ingestEvent({
      eventType: b.eventType,
      title: b.title,
      entitySelector: b.entitySelector,
      startTime: num('startTime'),
      endTime: num('endTime'),
      timeout: num('timeout'),
      properties: props as Record<string, string>,
    })
    return reply.code(201).send({ reportCount: results.length, eventIngestResults: results })
  })

  route('GET', '/api/v2/entities', { operationId: 'getEntities', scope: 'entities.read' }, async (req) => {
    const page = readPage(req.query, { default: 50, max: 500 })
    const q = page.query
    if (q.entitySelector === undefined) throw new SimBadRequest('entitySelector', 'entitySelector is required for the first page')
    const projection = entityProjection(q.fields ?? '')
    const to = parseTime('to', q.to ?? 'now', sim.now())
    parseTime('from', q.from ?? 'now-3d', sim.now())
    let entities = sim.tenant.selectEntities(q.entitySelector).filter((e) => e.firstSeenTms <= to)
    if (q.sort !== undefined) {
      const m = /^([+-]?)name$/.exec(q.sort.trim())
      if (m === null) throw new SimBadRequest('sort', 'sort supports only name, +name and -name')
      const sign = m[1] === '-' ? -1 : 1
      entities = [...entities].sort((a, b) => sign * a.displayName.localeCompare(b.displayName))
    }
    const { items, nextPageKey } = slicePage(entities, page)
    return { totalCount: entities.length, pageSize: page.pageSize, ...(nextPageKey === undefined ? {} : { nextPageKey }), entities: items.map((e) => renderEntity(sim.tenant, e, projection)) }
  })

  route('GET', '/api/v2/entities/:entityId', { operationId: 'getEntity', scope: 'entities.read' }, async (req, reply) => {
    const e = sim.tenant.entities.get(req.params.entityId ?? '')
    if (e === undefined) return sendError(reply, 404, `The requested entity ID '${req.params.entityId ?? ''}' does not exist.`)
    parseTime('from', req.query.from ?? 'now-3d', sim.now())
    parseTime('to', req.query.to ?? 'now', sim.now())
    return renderEntity(sim.tenant, e, entityProjection(req.query.fields))
  })

  route('GET', '/api/v2/securityProblems', { operationId: 'getSecurityProblems', scope: 'securityProblems.read' }, async (req) => {
    const page = readPage(req.query, { default: 100, max: 500 })
    const q = page.query
    let list = [...sim.tenant.securityProblems.values()]
    for (const c of q.securityProblemSelector === undefined ? [] : parseSelector('securityProblemSelector', q.securityProblemSelector)) {
      const vals = c.values.map((v) => v.toLowerCase())
      if (c.name === 'displayIds') list = list.filter((s) => vals.includes(s.displayId.toLowerCase()))
      else if (c.name === 'securityProblemIds') list = list.filter((s) => vals.includes(s.securityProblemId.toLowerCase()))
      else if (c.name === 'status') list = list.filter((s) => vals.includes(s.status.toLowerCase()))
      else if (c.name === 'riskLevel') list = list.filter((s) => vals.includes(s.riskLevel.toLowerCase()))
      else throw new SimBadRequest('securityProblemSelector', `The simulator does not support the securityProblemSelector criterion "${c.name}" (supported: displayIds, securityProblemIds, status, riskLevel)`)
    }
    const fields = fieldSet(q.fields)
    const { items, nextPageKey } = slicePage(list, page)
    return { totalCount: list.length, pageSize: page.pageSize, ...(nextPageKey === undefined ? {} : { nextPageKey }), securityProblems: items.map((s) => renderSecurityProblem(s, fields, false)) }
  })

  route('GET', '/api/v2/securityProblems/:id', { operationId: 'getSecurityProblem', scope: 'securityProblems.read' }, async (req, reply) => {
    const s = sim.tenant.securityProblems.get(req.params.id ?? '')
    return s === undefined ? sendError(reply, 404, `The requested security problem ID '${req.params.id ?? ''}' does not exist.`) : renderSecurityProblem(s, fieldSet(req.query.fields), true)
  })
}

function eventFilter (name: string, values: readonly string[], now: number): (e: SimEvent) => boolean {
  switch (name) {
    case 'eventType':
      if (values.length !== 1) throw new SimBadRequest('eventSelector', 'eventType accepts exactly one value')
      return (e) => e.eventType === values[0]
    case 'eventId': return (e) => values.includes(e.eventId)
    case 'entityId': return (e) => e.entityId !== undefined && values.includes(e.entityId)
    case 'correlationId': return (e) => values.includes(e.correlationId)
    case 'status': return (e) => values.some((v) => v.toUpperCase() === (e.endTime > now ? 'OPEN' : 'CLOSED'))
    default:
      if (name.startsWith('property.')) {
        const key = name.slice('property.'.length)
        return (e) => e.properties[key] !== undefined && values.includes(e.properties[key] ?? '')
      }
      throw new SimBadRequest('eventSelector', `The simulator does not support the eventSelector criterion "${name}" (supported: eventType, eventId, entityId, correlationId, status, property.<key>)`)
  }
}
