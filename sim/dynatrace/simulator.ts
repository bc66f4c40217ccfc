/**
 * The simulator's state handle: the tenant, the traffic (request log, faults, in-flight), the
 * configured tokens and webhooks, and the notifications sent. Tests drive it directly; the
 * `/_sim` control API and the state file go through the same methods. Changing a problem's
 * state sends the notification Dynatrace would send, when a webhook is configured.
 */
import { Agent } from 'undici'
import type { z } from 'zod'
import { DYNATRACE_DEFAULT_PAYLOAD_TEMPLATE, RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE, WORKFLOW_PROBLEM_BODY_TEMPLATE, escapesJson, renderTemplate, testPlaceholders } from '../../src/dynatrace/templates.js'
import { deliver, problemPlaceholders, securityPlaceholders } from './notifications.js'
import type { SentNotification, WebhookConfig } from './notifications.js'
import { ALL_SCOPES } from './schemas.js'
import type { deploymentSchema, eventSchema, faultSchema, problemSchema, securityProblemSchema, securityWebhookSchema, SimState, webhookSchema, workflowSchema } from './schemas.js'
import { davisProblemEvent, renderWorkflowTemplate, type WorkflowConfig } from './workflow.js'
import { SimBadRequest } from './query.js'
import { addWorkload, Tenant } from './tenant/index.js'
import type { EntityInput, ReopenOutcome, SimEntity, SimProblem, SimSecurityProblem, Workload, WorkloadInput } from './tenant/index.js'
import { Traffic } from './traffic.js'
import type { Fault, FaultSpec } from './traffic.js'
import { criterion } from '../../src/dynatrace/selectors.js'

export interface SimulatorOptions {
  readonly state?: SimState | undefined
  readonly now?: (() => number) | undefined
  readonly random?: (() => number) | undefined
  /** Webhook delivery timeout. Default 10 s. */
  readonly notificationTimeoutMs?: number | undefined
}

/** The token the simulator accepts, with every scope, when the state configures none. */
export const DEFAULT_SIM_TOKEN = 'dt0c01.SIMULATOR.DEFAULT-TOKEN'

type SecurityWebhookConfig = Pick<WebhookConfig, 'url' | 'headers' | 'payload'>

export class DynatraceSimulator {
  readonly now: () => number
  readonly traffic: Traffic
  tenant: Tenant
  readonly tokens = new Map<string, Set<string>>()
  readonly notifications: SentNotification[] = []
  webhook: WebhookConfig | undefined
  securityWebhook: SecurityWebhookConfig | undefined
  /** A Gen 3 workflow sending problems (its Davis problem trigger fires on open, close and re-open). */
  workflow: WorkflowConfig | undefined
  /** Set by the app once listening; used in ProblemURL when the state names no publicUrl. */
  baseUrl = 'http://127.0.0.1'
  readonly #seed: SimState | undefined
  readonly #dispatcher = new Agent({ keepAliveTimeout: 1000 })
  readonly #timeoutMs: number
  readonly #pending = new Set<Promise<void>>()

  constructor (options: SimulatorOptions = {}) {
    this.now = options.now ?? Date.now
    this.traffic = new Traffic(options.random ?? Math.random)
    this.tenant = new Tenant(this.now)
    this.#seed = options.state
    this.#timeoutMs = options.notificationTimeoutMs ?? 10_000
    this.#applySeed()
  }

  get publicUrl (): string { return this.#seed?.publicUrl?.replace(/\/+$/, '') ?? this.baseUrl }
  get maxInFlight (): number { return this.traffic.maxInFlight }

  /** Back to the seeded state: tenant, tokens, webhooks; request log, faults and notifications cleared. */
  reset (): void {
    this.tenant = new Tenant(this.now)
    this.tokens.clear()
    this.notifications.length = 0
    this.traffic.reset()
    this.webhook = undefined
    this.securityWebhook = undefined
    this.workflow = undefined
    this.#applySeed()
  }

  #applySeed (): void {
    const s = this.#seed
    for (const t of s?.tokens ?? [{ token: DEFAULT_SIM_TOKEN, scopes: [...ALL_SCOPES] }]) this.addToken(t.token, t.scopes)
    if (s === undefined) return
    for (const e of s.entities) this.tenant.addEntity(e)
    for (const w of s.workloads) addWorkload(this.tenant, w)
    for (const r of s.relationships) this.tenant.relate(r.from, r.relation, r.to)
    for (const e of s.events) this.addEvent(e)
    for (const d of s.deployments) this.addDeployment(d)
    for (const p of s.problems) {
      const problem = this.tenant.openProblem(p)
      for (const c of p.comments ?? []) this.tenant.addComment(problem, c.message, c.context ?? '')
      if (p.status === 'CLOSED') this.tenant.closeProblem(problem.problemId)
    }
    for (const sp of s.securityProblems) this.tenant.addSecurityProblem(sp)
    if (s.webhook !== undefined) this.setWebhook(s.webhook)
    if (s.securityWebhook !== undefined) this.setSecurityWebhook(s.securityWebhook)
    if (s.workflow !== undefined) this.setWorkflow(s.workflow)
  }

  addToken (token: string, scopes: readonly string[]): void {
    this.tokens.set(token, new Set(scopes))
  }

  addEntity (input: EntityInput): SimEntity { return this.tenant.addEntity(input) }
  /** The cluster → namespace → workload → process group → instances → service chain (tenant/world.ts). */
  addWorkload (input: WorkloadInput): Workload { return addWorkload(this.tenant, input) }
  relate (from: string, relation: string, to: string): void { this.tenant.relate(from, relation, to) }

  /** A deployment (or any) event on an entity, as a CI pipeline would ingest it. */
  addEvent (input: z.output<typeof eventSchema>): Array<{ correlationId: string, status: 'OK' }> {
    if (input.entityId === undefined && input.entitySelector === undefined) throw new SimBadRequest('entityId', 'Give entityId or entitySelector', 'PAYLOAD_BODY')
    const entitySelector = input.entitySelector ?? criterion('entityId', [input.entityId ?? ''])
    return this.tenant.ingestEvent({ ...input, entitySelector })
  }

  /** A CUSTOM_DEPLOYMENT event with Dynatrace's `dt.event.deployment.*` properties. */
  addDeployment (input: z.output<typeof deploymentSchema>): Array<{ correlationId: string, status: 'OK' }> {
    const optional: Record<string, string | undefined> = {
      'dt.event.deployment.project': input.project,
      'dt.event.deployment.release_stage': input.releaseStage,
      'dt.event.deployment.release_product': input.releaseProduct,
      'dt.event.deployment.release_build_version': input.releaseBuildVersion,
      'dt.event.deployment.ci_back_link': input.ciBackLink,
      'dt.event.deployment.remediation_action_link': input.remediationActionLink,
    }
    const properties: Record<string, string> = { 'dt.event.deployment.name': input.name, 'dt.event.deployment.version': input.version }
    for (const [k, v] of Object.entries(optional)) if (v !== undefined) properties[k] = v
    return this.addEvent({
      eventType: 'CUSTOM_DEPLOYMENT',
      title: input.title ?? `Deploy ${input.name} ${input.version}`,
      entityId: input.entityId,
      entitySelector: input.entitySelector,
      startTime: input.startTime,
      endTime: undefined,
      timeout: input.timeout,
      properties: { ...properties, ...(input.properties ?? {}) },
    })
  }

  async openProblem (input: z.output<typeof problemSchema>): Promise<{ problem: SimProblem, notification: SentNotification | undefined }> {
    const problem = this.tenant.openProblem(input)
    const notification = input.notify === false ? undefined : await this.#notifyChange(problem)
    return { problem, notification }
  }

  /** Closes the problem (endTime = now) and sends the RESOLVED notification. */
  async resolveProblem (problemId: string, options: { notify?: boolean | undefined } = {}): Promise<{ problem: SimProblem, notification: SentNotification | undefined } | undefined> {
    const problem = this.tenant.findProblem(problemId)
    if (problem === undefined) return undefined
    const changed = this.tenant.closeProblem(problem.problemId)
    if (!changed || options.notify === false) return { problem, notification: undefined }
    const notification = this.webhook?.notifyClosedProblems !== false ? await this.notifyProblem(problem) : undefined
    const sent = await this.sendWorkflow(problem)
    return { problem, notification: notification ?? sent }
  }

  /**
   * Re-opens a closed problem (same id, occurrence + 1) and sends the OPEN notification again;
   * 'too-late' (and no change) when it closed more than 30 minutes ago.
   */
  async reopenProblem (problemId: string, options: { notify?: boolean | undefined } = {}): Promise<{ problem: SimProblem, outcome: ReopenOutcome, notification: SentNotification | undefined } | undefined> {
    const problem = this.tenant.findProblem(problemId)
    if (problem === undefined) return undefined
    const outcome = this.tenant.reopenProblem(problem.problemId) ?? 'open'
    const notify = outcome === 'reopened' && options.notify !== false
    return { problem, outcome, notification: notify ? await this.#notifyChange(problem) : undefined }
  }

  /** A problem opened or re-opened: the custom integration's notification and the workflow's call, as configured. */
  async #notifyChange (problem: SimProblem): Promise<SentNotification | undefined> {
    const notification = await this.notifyProblem(problem)
    const sent = await this.sendWorkflow(problem)
    return notification ?? sent
  }

  async addSecurityProblem (input: z.output<typeof securityProblemSchema>): Promise<{ securityProblem: SimSecurityProblem, notification: SentNotification | undefined }> {
    const securityProblem = this.tenant.addSecurityProblem(input)
    const notification = input.notify === false ? undefined : await this.notifySecurity(securityProblem)
    return { securityProblem, notification }
  }

  setWebhook (input: z.output<typeof webhookSchema>): void {
    this.webhook = { url: input.url, headers: input.headers, payload: input.payload ?? DYNATRACE_DEFAULT_PAYLOAD_TEMPLATE, notifyClosedProblems: input.notifyClosedProblems }
  }

  setSecurityWebhook (input: z.output<typeof securityWebhookSchema>): void {
    this.securityWebhook = { url: input.url, headers: input.headers, payload: input.payload ?? RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE }
  }

  setWorkflow (input: z.output<typeof workflowSchema>): void {
    this.workflow = { url: input.url, headers: input.headers, body: input.body ?? WORKFLOW_PROBLEM_BODY_TEMPLATE }
  }

  /** The body the workflow's HTTP Request task would send for the problem now (undefined without a workflow). */
  renderWorkflow (problem: SimProblem): string | undefined {
    const w = this.workflow
    return w === undefined ? undefined : renderWorkflowTemplate(w.body, { event: davisProblemEvent(this.tenant, problem), environment: { url: this.publicUrl } })
  }

  /** Runs the workflow's HTTP Request task for the problem, once: no task retry is configured here. */
  async sendWorkflow (problem: SimProblem): Promise<SentNotification | undefined> {
    const w = this.workflow
    const body = this.renderWorkflow(problem)
    if (w === undefined || body === undefined) return undefined
    return this.#record(await deliver(this.#dispatcher, w, body, { kind: 'workflow', state: problem.status === 'OPEN' ? 'ACTIVE' : 'CLOSED', at: this.now(), timeoutMs: this.#timeoutMs }))
  }

  /** A fault as the HTTP control API takes it, or, from code, one held until a promise settles (`hold`). */
  addFault (spec: z.output<typeof faultSchema> | (Omit<FaultSpec, 'hold'> & { readonly hold: Promise<unknown> })): Fault { return this.traffic.addFault(spec) }

  /** Renders the problem through the configured template (undefined without a webhook). */
  renderProblem (problem: SimProblem): string | undefined {
    const w = this.webhook
    return w === undefined ? undefined : renderTemplate(w.payload, problemPlaceholders(this.tenant, problem, this.publicUrl), escapesJson(w.headers))
  }

  async notifyProblem (problem: SimProblem): Promise<SentNotification | undefined> {
    const body = this.renderProblem(problem)
    if (this.webhook === undefined || body === undefined) return undefined
    return this.#record(await deliver(this.#dispatcher, this.webhook, body, { kind: 'problem', state: problem.status === 'OPEN' ? 'OPEN' : 'RESOLVED', at: this.now(), timeoutMs: this.#timeoutMs }))
  }

  /** "Send test notification": the configured template with Dynatrace's documented test values. */
  async sendTestNotification (): Promise<SentNotification | undefined> {
    const w = this.webhook
    if (w === undefined) return undefined
    const body = renderTemplate(w.payload, testPlaceholders(), escapesJson(w.headers))
    return this.#record(await deliver(this.#dispatcher, w, body, { kind: 'test', state: 'OPEN', at: this.now(), timeoutMs: this.#timeoutMs }))
  }

  async notifySecurity (sp: SimSecurityProblem): Promise<SentNotification | undefined> {
    const w = this.securityWebhook
    if (w === undefined) return undefined
    const body = renderTemplate(w.payload, securityPlaceholders(this.tenant, sp, this.publicUrl), escapesJson(w.headers))
    return this.#record(await deliver(this.#dispatcher, w, body, { kind: 'security', state: undefined, at: this.now(), timeoutMs: this.#timeoutMs }))
  }

  /**
   * For changes made through the API (a problem closed by a user): Dynatrace notifies
   * asynchronously, so the API answer does not wait for the webhook. close() waits for these.
   */
  notifyInBackground (problem: SimProblem): void {
    const webhook = this.webhook !== undefined && (problem.status !== 'CLOSED' || this.webhook.notifyClosedProblems)
    if (!webhook && this.workflow === undefined) return
    const sending = Promise.all([webhook ? this.notifyProblem(problem) : undefined, this.sendWorkflow(problem)]).then(() => undefined)
    this.#pending.add(sending)
    sending.finally(() => this.#pending.delete(sending)).catch(() => {})
  }

  #record (n: SentNotification): SentNotification {
    this.notifications.push(n)
    return n
  }

  async close (): Promise<void> {
    await Promise.all(this.#pending)
    await this.#dispatcher.close()
  }
}
