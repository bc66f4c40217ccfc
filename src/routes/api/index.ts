/**
 * The admin API (SPEC 11), registered only when DTR_ADMIN_TOKENS is set, every route behind the
 * admin token (plugins/admin-auth.ts): runs and problems to read, approvals, and the kill switch.
 * Unknown ids answer 404 and decisions a run's state does not allow 409, through
 * @fastify/sensible's httpErrors, in the one error shape `{"code":"DTR_ERR_…","message"}`.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { readPause, writePause } from '../../runner/index.js'
import { NOTIFICATION_QUEUE } from '../../store/notifications.js'
import { lookUpProblem } from '../problem.js'
import { runSchema } from '../../domain/runs.js'
import { explanationViews, registerReportRoutes } from './report.js'
import { conflictSchema, decisionBody, errorSchema, pauseBody, pauseState, problemParams, problemView, runList, runListQuery, runParams } from './schemas.js'

const iso = (ms: number): string => new Date(ms).toISOString()
const who = (request: FastifyRequest, body: { by?: string | undefined, reason?: string | undefined }) => ({ tokenName: request.admin?.name ?? 'admin', by: body.by, reason: body.reason, from: request.ip })
const errors = { 401: errorSchema, 404: errorSchema }

const apiRoutes: FastifyPluginAsync = async (fastify) => {
  fastify.addHook('onRequest', fastify.adminAuth)
  const api = fastify.withTypeProvider<ZodTypeProvider>()

  api.get('/api/runs', { schema: { tags: ['admin'], summary: 'Runs, newest first', querystring: runListQuery, response: { 200: runList, 400: errorSchema, 401: errorSchema } } }, async (request) => {
    return fastify.store.runs.list(request.query)
  })

  api.get('/api/runs/:id', { schema: { tags: ['admin'], summary: 'One run, with its timeline, outcome and verification', params: runParams, response: { 200: runSchema, ...errors } } }, async (request) => {
    const run = await fastify.store.runs.view(request.params.id)
    if (run === undefined) throw fastify.httpErrors.notFound(`No run ${request.params.id}`)
    return run
  })

  api.get('/api/problems/:pid', { schema: { tags: ['admin'], summary: 'A problem: its notifications and runs (by PID, display id or security problem id)', params: problemParams, response: { 200: problemView, ...errors } } }, async (request) => {
    const { pid } = request.params
    const found = await lookUpProblem(fastify.store, pid)
    if (found === undefined) throw fastify.httpErrors.notFound(`No problem ${pid} has reached dt-remediator`)
    const { runs, problemId, notifications, tracked } = found
    const failures = await fastify.store.jobs.failures(NOTIFICATION_QUEUE, notifications.map((n) => n.id))
    return {
      problemId,
      occurrence: tracked?.occurrence ?? null,
      status: tracked?.status ?? null,
      notifications: notifications.map((n) => {
        const failure = failures.get(n.id)
        return { id: n.id, kind: n.kind, displayId: n.displayId, state: n.state, receivedAt: iso(n.receivedAt), source: n.source, ...(failure === undefined ? {} : { failed: { reason: failure.error, at: iso(failure.at) } }) }
      }),
      runs,
      explanations: explanationViews(await fastify.store.evidence.explanations(problemId)),
    }
  })

  registerReportRoutes(fastify)

  for (const decision of ['approve', 'reject'] as const) {
    api.post(`/api/runs/:id/${decision}`, {
      schema: { tags: ['admin'], summary: decision === 'approve' ? 'Approve a run awaiting approval' : 'Reject a run awaiting approval (it is cancelled)', params: runParams, body: decisionBody, response: { 200: runSchema, ...errors, 409: conflictSchema } },
    }, async (request, reply) => {
      const body = request.body ?? {}
      const result = await fastify.runner[decision](request.params.id, who(request, body))
      if (result.ok) {
        request.log.info({ runId: request.params.id, by: request.admin?.name, bodyBy: body.by, from: request.ip }, `run ${decision === 'approve' ? 'approved' : 'rejected'}`)
        return result.run
      }
      if (result.status === 404) throw fastify.httpErrors.notFound(`No run ${request.params.id}`)
      const message = `Run ${request.params.id} is ${result.state ?? 'not awaiting approval'}, not awaiting_approval: only a run awaiting approval can be ${decision === 'approve' ? 'approved' : 'rejected'}`
      // The state as a field too, so a script need not read it out of the message.
      request.logFields = { ...request.logFields, code: 'DTR_ERR_CONFLICT', reason: message }
      return reply.code(409).send({ code: 'DTR_ERR_CONFLICT', message, ...(result.state === undefined ? {} : { state: result.state }) })
    })
  }

  const pauseView = (p: Awaited<ReturnType<typeof readPause>>) => ({
    paused: p.paused,
    ...(p.reason === undefined ? {} : { reason: p.reason }),
    ...(p.since === undefined ? {} : { since: iso(p.since) }),
    ...(p.by === undefined ? {} : { by: p.by }),
  })

  api.get('/api/pause', { schema: { tags: ['admin'], summary: 'The kill switch', response: { 200: pauseState, 401: errorSchema } } }, async () => pauseView(await readPause(fastify.store)))

  api.put('/api/pause', { schema: { tags: ['admin'], summary: 'Turn the kill switch on or off: once paused, no new execution starts on any replica', body: pauseBody, response: { 200: pauseState, 400: errorSchema, 401: errorSchema } } }, async (request) => {
    const { paused, reason, by } = request.body
    const name = request.admin?.name ?? 'admin'
    const recorded = by === undefined || by === name ? name : `${name} (for ${by})`
    const state = await writePause(fastify.store, paused ? { paused, reason: reason ?? 'no reason given', since: fastify.store.clock.now(), by: recorded } : { paused: false })
    fastify.metrics.paused.set(paused ? 1 : 0)
    request.log.warn({ event: paused ? 'paused' : 'resumed', by: recorded, from: request.ip, reason }, paused ? `kill switch ON by ${recorded}: no new execution starts (${reason ?? 'no reason given'})` : `kill switch OFF by ${recorded}: executions start again`)
    if (!paused) fastify.runner.wake()
    return pauseView(state)
  })
}

export default apiRoutes
