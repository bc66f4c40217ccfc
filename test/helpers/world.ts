/**
 * A Dynatrace tenant (the simulator) holding shop/checkout as Dynatrace models a Kubernetes
 * workload, a deployment event on its pod's process group instance, and a problem on its service;
 * plus the notification Dynatrace would send for it, rendered through the recommended payload
 * template. The clock is fixed: the problem started at 10:15, the deployment 12 minutes before.
 */
import type { Test } from 'tap'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE, renderTemplate } from '../../src/dynatrace/templates.js'
import { problemPlaceholders, securityPlaceholders, type SimProblem, type SimSecurityProblem, type Workload } from '../../sim/dynatrace/index.js'
import type { NotificationInput } from '../../src/runner/enrich.js'
import { startClient, startSimulator, type RunningSimulator, type TestClient } from './dynatrace.js'
import type { DynatraceClientOptions } from '../../src/dynatrace/index.js'

export const NOW = Date.parse('2024-05-01T10:15:00Z')

export interface DynatraceWorld extends TestClient {
  readonly sim: RunningSimulator
  readonly checkout: Workload
  readonly problem: SimProblem
  readonly notification: NotificationInput
}

export function notificationOf (sim: RunningSimulator, problem: SimProblem): NotificationInput {
  const body = JSON.parse(renderTemplate(RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, problemPlaceholders(sim.sim.tenant, problem, sim.sim.publicUrl))) as Record<string, unknown>
  return { kind: 'problem', problemId: problem.problemId, body, receivedAt: NOW + 5_000 }
}

export function securityNotificationOf (sim: RunningSimulator, sp: SimSecurityProblem): NotificationInput {
  const body = JSON.parse(renderTemplate(RECOMMENDED_SECURITY_PAYLOAD_TEMPLATE, securityPlaceholders(sim.sim.tenant, sp, sim.sim.publicUrl))) as Record<string, unknown>
  return { kind: 'security', problemId: String(body.SecurityProblemId), body, receivedAt: NOW + 5_000 }
}

export async function startDynatraceWorld (t: Test, options: { cluster?: string, tags?: string[], client?: Partial<DynatraceClientOptions> } = {}): Promise<DynatraceWorld> {
  const sim = await startSimulator(t, { now: () => NOW })
  const checkout = sim.sim.addWorkload({ namespace: 'shop', name: 'checkout', cluster: options.cluster ?? 'eu-1', tags: options.tags ?? ['env:production'] })
  const pgi = checkout.processGroupInstances[0]
  if (pgi === undefined) throw new Error('the workload has no instance')
  sim.sim.addDeployment({ entityId: pgi.entityId, name: 'checkout', version: '1.4.2', startTime: NOW - 12 * 60_000 })
  const { problem } = await sim.sim.openProblem({ title: 'Failure rate increase', impactedEntities: [checkout.service.entityId], severityLevel: 'ERROR', startTime: NOW, notify: false })
  const client = startClient(t, sim.url, options.client)
  sim.sim.traffic.reset()
  return { sim, checkout, problem, notification: notificationOf(sim, problem), ...client }
}
