/**
 * Test fixtures for the Dynatrace client and simulator: a simulator on an ephemeral loopback port
 * and a client tuned for fast tests (millisecond backoff), both closed in t.teardown.
 */
import type { Test } from 'tap'
import { createMetrics } from '../../src/metrics.js'
import type { Metrics } from '../../src/metrics.js'
import { createDynatraceClient } from '../../src/dynatrace/index.js'
import type { DynatraceClient, DynatraceClientOptions } from '../../src/dynatrace/index.js'
import { buildDynatraceSimulator, stateSchema } from '../../sim/dynatrace/index.js'
import type { BuildSimulatorOptions, DynatraceSimulatorApp } from '../../sim/dynatrace/index.js'

export const TEST_TOKEN = 'dt0c01.TEST.TOKEN'

export interface RunningSimulator extends DynatraceSimulatorApp {
  readonly url: string
}

export async function startSimulator (t: Test, options: BuildSimulatorOptions = {}): Promise<RunningSimulator> {
  const state = stateSchema.parse({ tokens: [{ token: TEST_TOKEN, scopes: ['problems.read', 'problems.write', 'events.read', 'events.ingest', 'entities.read', 'securityProblems.read'] }] })
  const built = await buildDynatraceSimulator({ state, ...options })
  t.teardown(() => built.app.close())
  const url = await built.app.listen({ port: 0, host: '127.0.0.1' })
  return { ...built, url }
}

export interface TestClient {
  readonly client: DynatraceClient
  readonly metrics: Metrics
}

export function startClient (t: Test, url: string, options: Partial<DynatraceClientOptions> = {}): TestClient {
  const metrics = createMetrics()
  const client = createDynatraceClient({
    url,
    token: TEST_TOKEN,
    metrics,
    timeoutMs: 2000,
    ...options,
    retry: { baseDelayMs: 5, maxDelayMs: 50, ...options.retry },
  })
  t.teardown(() => client.close())
  return { client, metrics }
}

/** The value of dtr_dynatrace_requests_total for one operation and status. */
export async function requestCount (metrics: Metrics, operation: string, status: string): Promise<number> {
  const m = await metrics.dynatraceRequests.get()
  return m.values.find((v) => v.labels.operation === operation && v.labels.status === status)?.value ?? 0
}
