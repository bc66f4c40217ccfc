/**
 * The bundled Dynatrace simulator: a Fastify app serving the Environment API v2 operations that
 * dt-remediator uses, a `/_sim` control API, and the notifications a tenant sends. Used by the
 * tests, by `npm run demo`, and by users trying their rules without a tenant
 * (`dt-remediator sim dynatrace`).
 *
 *   const { app, sim } = await buildDynatraceSimulator({ state })
 *   const url = await app.listen({ port: 0, host: '127.0.0.1' })
 *   const { service, workload } = sim.addWorkload({ namespace: 'shop', name: 'checkout' })
 */
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { apiRoutes } from './routes/api.js'
import { controlRoutes } from './routes/control.js'
import { envelopeFor, errorBody } from './routes/envelope.js'
import { DynatraceSimulator } from './simulator.js'
import type { SimulatorOptions } from './simulator.js'

export interface BuildSimulatorOptions extends SimulatorOptions {
  /** Fastify logger; off by default (tests, demo). */
  readonly logger?: boolean
  /** Serve the API under a prefix, e.g. `/e/ENV-ID` to look like a Managed environment. */
  readonly pathPrefix?: string
}

export interface DynatraceSimulatorApp {
  readonly app: FastifyInstance
  readonly sim: DynatraceSimulator
}

export async function buildDynatraceSimulator (options: BuildSimulatorOptions = {}): Promise<DynatraceSimulatorApp> {
  const sim = new DynatraceSimulator(options)
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1_048_576 })
  const closing = new AbortController()

  // Dynatrace answers every error in its envelope; so does the simulator, parse errors included.
  app.setErrorHandler(async (err, _req, reply) => {
    const { status, body } = envelopeFor(err)
    return reply.code(status).send(body)
  })
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send(errorBody(404, `No route ${req.method} ${req.url.split('?')[0] ?? ''} in the simulator`)))

  // Record the base URL so ProblemURL links point at this instance when no publicUrl is set.
  app.addHook('onListen', async () => {
    const address = app.server.address()
    if (address !== null && typeof address === 'object') {
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      sim.baseUrl = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`
    }
  })
  app.addHook('preClose', async () => { closing.abort() })
  app.addHook('onClose', async () => { await sim.close() })

  await app.register(apiRoutes, { sim, closing: closing.signal, prefix: options.pathPrefix ?? '' })
  await app.register(controlRoutes, { sim })
  return { app, sim }
}

export { DynatraceSimulator, DEFAULT_SIM_TOKEN } from './simulator.js'
export type { SimulatorOptions } from './simulator.js'
export { problemPlaceholders, securityPlaceholders } from './notifications.js'
export type { SentNotification, WebhookConfig } from './notifications.js'
export { davisProblemEvent, renderWorkflowTemplate, WorkflowTemplateError } from './workflow.js'
export type { WorkflowConfig } from './workflow.js'
export { ALL_SCOPES, loadStateFile, stateSchema } from './schemas.js'
export { DEFAULT_CLUSTER, DEPLOYMENT_TYPES, entityIdFor, parseEntitySelector, parseTag, REOPEN_WINDOW_MS, RELATIONSHIPS, tagString, Tenant } from './tenant/index.js'
export type { EntityInput, EntityRef, ManagementZone, ProblemInput, ReopenOutcome, Relationship, SimEntity, SimEvent, SimProblem, SimSecurityProblem, Tag, Workload, WorkloadInput, WorkloadKind } from './tenant/index.js'
export type { SimState, SimStateInput } from './schemas.js'
export type { FaultSpec, LoggedRequest } from './traffic.js'
