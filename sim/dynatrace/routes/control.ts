/**
 * The control API under `/_sim`: seeds and drives the simulated tenant (entities and their
 * relationships, Kubernetes workloads, problems opened, resolved and re-opened with their
 * notifications, deployment events, security problems), configures webhooks, injects faults,
 * and exposes the request log. Unauthenticated: the simulator is a local test tool and listens on
 * loopback by default.
 */
import type { FastifyInstance } from 'fastify'
import type { z } from 'zod'
import { SimBadRequest } from '../query.js'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE, WORKFLOW_PROBLEM_BODY_TEMPLATE } from '../../../src/dynatrace/templates.js'
import { deploymentSchema, describeIssues, entitySchema, eventSchema, faultSchema, problemSchema, relationshipSchema, securityProblemSchema, securityWebhookSchema, tokenSchema, webhookSchema, workflowSchema, workloadSchema } from '../schemas.js'
import { renderEntity, renderEvent, renderProblem, renderSecurityProblem } from '../tenant/index.js'
import type { SimSecurityProblem, Workload } from '../tenant/index.js'
import type { DynatraceSimulator } from '../simulator.js'
import { sendError } from './envelope.js'

function parse<S extends z.ZodType> (schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body ?? {})
  if (!r.success) throw new SimBadRequest('body', describeIssues(r.error).join('; '), 'PAYLOAD_BODY')
  return r.data
}

export async function controlRoutes (app: FastifyInstance, { sim }: { sim: DynatraceSimulator }): Promise<void> {
  const t = (): DynatraceSimulator['tenant'] => sim.tenant
  const full = new Set(['evidencedetails', 'impactanalysis', 'recentcomments'])
  const security = (s: SimSecurityProblem): Record<string, unknown> => renderSecurityProblem(s, new Set(['riskassessment', 'managementzones', 'description', 'affectedentities']), true)
  const world = (w: Workload): Record<string, unknown> => ({
    cluster: renderEntity(t(), w.cluster),
    namespace: renderEntity(t(), w.namespace),
    workload: renderEntity(t(), w.workload),
    processGroup: renderEntity(t(), w.processGroup),
    processGroupInstances: w.processGroupInstances.map((e) => renderEntity(t(), e)),
    host: renderEntity(t(), w.host),
    service: renderEntity(t(), w.service),
  })

  app.get('/_sim/state', async () => ({
    entities: [...t().entities.values()].map((e) => renderEntity(t(), e)),
    problems: [...t().problems.values()].map((p) => renderProblem(t(), p, full)),
    events: t().events.map((e) => renderEvent(t(), e)),
    securityProblems: [...t().securityProblems.values()].map(security),
    webhook: sim.webhook ?? null,
    securityWebhook: sim.securityWebhook ?? null,
    workflow: sim.workflow ?? null,
  }))

  app.post('/_sim/reset', async (_req, reply) => {
    sim.reset()
    return reply.code(204).send()
  })

  app.post('/_sim/tokens', async (req, reply) => {
    const { token, scopes } = parse(tokenSchema, req.body)
    sim.addToken(token, scopes)
    return reply.code(201).send({ token, scopes })
  })

  app.post('/_sim/entities', async (req, reply) => reply.code(201).send(renderEntity(t(), sim.addEntity(parse(entitySchema, req.body)))))

  app.post('/_sim/relationships', async (req, reply) => {
    const { from, relation, to } = parse(relationshipSchema, req.body)
    t().relate(from, relation, to)
    const [fromEntity, toEntity] = [t().entities.get(from), t().entities.get(to)]
    return reply.code(201).send({ from: fromEntity && renderEntity(t(), fromEntity), to: toEntity && renderEntity(t(), toEntity) })
  })

  app.post('/_sim/workloads', async (req, reply) => {
    const w = sim.addWorkload(parse(workloadSchema, req.body))
    return reply.code(201).send(world(w))
  })

  app.post('/_sim/problems', async (req, reply) => {
    const { problem, notification } = await sim.openProblem(parse(problemSchema, req.body))
    return reply.code(201).send({ problem: renderProblem(t(), problem, full), notification: notification ?? null })
  })

  app.post<{ Params: { problemId: string }, Body: { notify?: boolean } | undefined }>('/_sim/problems/:problemId/resolve', async (req, reply) => {
    const result = await sim.resolveProblem(req.params.problemId, { notify: req.body?.notify })
    if (result === undefined) return sendError(reply, 404, `The requested problem ID '${req.params.problemId}' does not exist.`)
    return { problem: renderProblem(t(), result.problem, full), notification: result.notification ?? null }
  })

  app.post<{ Params: { problemId: string }, Body: { notify?: boolean } | undefined }>('/_sim/problems/:problemId/reopen', async (req, reply) => {
    const result = await sim.reopenProblem(req.params.problemId, { notify: req.body?.notify })
    if (result === undefined) return sendError(reply, 404, `The requested problem ID '${req.params.problemId}' does not exist.`)
    if (result.outcome === 'too-late') return sendError(reply, 409, `Problem ${result.problem.displayId} closed more than 30 minutes ago; Dynatrace opens a new problem instead of re-opening it.`)
    return { outcome: result.outcome, problem: renderProblem(t(), result.problem, full), notification: result.notification ?? null }
  })

  app.post('/_sim/events', async (req, reply) => {
    const results = sim.addEvent(parse(eventSchema, req.body))
    return reply.code(201).send({ reportCount: results.length, eventIngestResults: results })
  })

  app.post('/_sim/deployments', async (req, reply) => {
    const results = sim.addDeployment(parse(deploymentSchema, req.body))
    return reply.code(201).send({ reportCount: results.length, eventIngestResults: results })
  })

  app.post('/_sim/security-problems', async (req, reply) => {
    const { securityProblem, notification } = await sim.addSecurityProblem(parse(securityProblemSchema, req.body))
    return reply.code(201).send({ securityProblem: security(securityProblem), notification: notification ?? null })
  })

  app.get('/_sim/webhook', async (_req, reply) => sim.webhook ?? sendError(reply, 404, 'No webhook is configured.'))
  app.put('/_sim/webhook', async (req) => {
    sim.setWebhook(parse(webhookSchema, req.body))
    return sim.webhook
  })
  app.delete('/_sim/webhook', async (_req, reply) => {
    sim.webhook = undefined
    return reply.code(204).send()
  })
  app.post('/_sim/webhook/test', async (_req, reply) => {
    const notification = await sim.sendTestNotification()
    return notification ?? sendError(reply, 409, 'Configure a webhook first (PUT /_sim/webhook).')
  })

  app.get('/_sim/security-webhook', async (_req, reply) => sim.securityWebhook ?? sendError(reply, 404, 'No security webhook is configured.'))
  app.put('/_sim/security-webhook', async (req) => {
    sim.setSecurityWebhook(parse(securityWebhookSchema, req.body))
    return sim.securityWebhook
  })
  app.delete('/_sim/security-webhook', async (_req, reply) => {
    sim.securityWebhook = undefined
    return reply.code(204).send()
  })

  app.get('/_sim/workflow', async (_req, reply) => sim.workflow ?? sendError(reply, 404, 'No workflow is configured.'))
  app.put('/_sim/workflow', async (req) => {
    sim.setWorkflow(parse(workflowSchema, req.body))
    return sim.workflow
  })
  app.delete('/_sim/workflow', async (_req, reply) => {
    sim.workflow = undefined
    return reply.code(204).send()
  })

  app.get('/_sim/templates', async () => ({ problem: RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, security: RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE, workflow: WORKFLOW_PROBLEM_BODY_TEMPLATE }))

  app.get('/_sim/notifications', async () => ({ notifications: sim.notifications }))

  app.get<{ Querystring: { operation?: string, method?: string } }>('/_sim/requests', async (req) => ({ requests: sim.traffic.find(req.query) }))
  app.delete('/_sim/requests', async (_req, reply) => {
    sim.traffic.requests.length = 0
    return reply.code(204).send()
  })

  app.get('/_sim/stats', async () => ({ inFlight: sim.traffic.inFlight, maxInFlight: sim.traffic.maxInFlight, requests: sim.traffic.requests.length }))
  app.post('/_sim/stats/reset', async (_req, reply) => {
    sim.traffic.maxInFlight = sim.traffic.inFlight
    return reply.code(204).send()
  })

  app.get('/_sim/faults', async () => ({ faults: sim.traffic.faults }))
  app.post('/_sim/faults', async (req, reply) => reply.code(201).send(sim.addFault(parse(faultSchema, req.body))))
  app.delete<{ Params: { id: string } }>('/_sim/faults/:id', async (req, reply) => sim.traffic.removeFault(req.params.id) ? reply.code(204).send() : sendError(reply, 404, `No fault ${req.params.id}`))
  app.delete('/_sim/faults', async (_req, reply) => {
    sim.traffic.faults.length = 0
    return reply.code(204).send()
  })
}
