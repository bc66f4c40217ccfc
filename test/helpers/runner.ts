/**
 * The whole loop in one process, for the runner's tests: the Dynatrace simulator (a tenant with
 * shop/checkout as Dynatrace models a Kubernetes workload, a deployment event 12 minutes before a
 * failure-rate problem on its service), the Kubernetes simulator (shop/checkout at revision 2,
 * checkout:1.4.2, with revision 1, checkout:1.4.1, before it), and the app with its runner on a
 * store whose clock the test moves. Notifications are rendered from the tenant through the
 * recommended payload template and POSTed to the webhook, as Dynatrace sends them.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import type { UnderPressureOptions } from '../../plugins/under-pressure.js'
import type { Env } from '../../src/config.js'
import type { RunnerTimings } from '../../src/runner/deps.js'
import type { Store } from '../../src/store/index.js'
import type { SimProblem } from '../../sim/dynatrace/index.js'
import { bearer, RELAXED_PRESSURE, testConfig } from './app.js'
import { manualClock, type ManualClock } from './clock.js'
import { startClient, startSimulator, type RunningSimulator, TEST_TOKEN } from './dynatrace.js'
import { deployment, startKubernetesSim, type SimFixture } from './kubernetes.js'
import { createStore } from '../../src/store/index.js'
import { sqliteEngine, type TestEngine } from './store.js'
import { NOW, notificationOf } from './world.js'

export const ROLLBACK_RULES = `
mode: live
defaults: { cooldown: 30m, verifyAfter: 10m, timeout: 2m, maxTargetsPerProblem: 5 }
rules:
  - name: rollback-bad-deploy
    on: problem
    when: { entityTypes: [SERVICE], deployedWithin: 30m }
    actions:
      - use: kubernetes.rollback
      - use: kubernetes.scale
        with: { by: 2, max: 10 }
`

export interface Loop {
  /** The first replica (after a restart, the new one). */
  readonly app: FastifyInstance
  readonly store: Store
  /** Every replica: apps with their own store connection and runner, on one database. */
  readonly replicas: ReadonlyArray<{ readonly app: FastifyInstance, readonly store: Store }>
  readonly clock: ManualClock
  readonly dt: RunningSimulator
  readonly k8s: SimFixture
  readonly problem: SimProblem
  /** POSTs the problem's notification as Dynatrace would render it now (to replica `to`); returns the status code. */
  notify(problem?: SimProblem, change?: (body: Record<string, unknown>) => Record<string, unknown>, to?: number): Promise<number>
  /** Waits until the runner has nothing due. */
  settle(): Promise<void>
  /** Moves time forward, then lets the runner do what became due. */
  advance(ms: number): Promise<void>
  /** Another workload (in both simulators) with a problem on its service; `name` shop/checkout adds only a problem. */
  addProblem(name: string, title?: string): Promise<SimProblem>
  /** The comments on a problem, oldest first. */
  comments(problem?: SimProblem): string[]
  /** The service goes down: every replica (or the one given) closes: its runner stops, its store closes. */
  stop(replica?: number): Promise<void>
  /** The service comes back on the same store, as after a restart; resolves once its first reconciliation is done. */
  start(): Promise<void>
}

export interface LoopOptions {
  readonly rules?: string
  /** A rules file already on disk (with its plugins beside it), instead of `rules`. */
  readonly rulesFile?: string
  readonly env?: Env
  readonly engine?: TestEngine
  readonly timings?: Partial<RunnerTimings>
  /** What `${env:…}` in the rules reads. */
  readonly processEnv?: Readonly<Record<string, string>>
  /** Replicas sharing the store (PostgreSQL only, for more than one). Default 1. */
  readonly replicas?: number
  /** Which replicas run a runner (default all): false makes one intake and admin API only. */
  readonly runners?: readonly boolean[]
  /** A logger for every replica (a test that reads what was logged). */
  readonly logger?: import('pino').Logger
  /** Load shedding of every replica (`{ maxInFlight: 0 }`: every webhook gets a 503). */
  readonly underPressure?: UnderPressureOptions
  /** What each replica's app gets instead of its store (a wrapper that pauses or counts; test/helpers/interleave.ts). */
  readonly wrapStore?: (store: Store, replica: number) => Store
}

export async function startLoop (t: Test, options: LoopOptions = {}): Promise<Loop> {
  const clock = manualClock(NOW + 5_000)
  const dt = await startSimulator(t, { now: () => clock.now() })
  const checkout = dt.sim.addWorkload({ namespace: 'shop', name: 'checkout', cluster: 'eu-1', tags: ['env:production'] })
  const pgi = checkout.processGroupInstances[0]
  if (pgi === undefined) throw new Error('the workload has no instance')
  dt.sim.addDeployment({ entityId: pgi.entityId, name: 'checkout', version: '1.4.2', startTime: NOW - 12 * 60_000 })
  const { problem } = await dt.sim.openProblem({ title: 'Failure rate increase', impactedEntities: [checkout.service.entityId], severityLevel: 'ERROR', startTime: NOW, notify: false })

  const k8s = await startKubernetesSim(t)
  k8s.clock.now = NOW - 3 * 3_600_000
  k8s.sim.apply(deployment('checkout', 'checkout:1.4.1'))
  k8s.clock.now = NOW - 12 * 60_000
  k8s.sim.apply(deployment('checkout', 'checkout:1.4.2'))
  k8s.sim.clearRequests()

  const rulesFile = options.rulesFile ?? join(t.testdir(), 'remediation.yaml')
  if (options.rulesFile === undefined) writeFileSync(rulesFile, options.rules ?? ROLLBACK_RULES)
  const engine = options.engine ?? sqliteEngine
  const location = await engine.location(t)
  const replicas: Array<{ app: FastifyInstance, store: Store }> = []
  const open = async (): Promise<void> => {
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      const opened = await createStore(await engine.open(t, location), { clock })
      t.teardown(() => opened.close())
      const store = options.wrapStore?.(opened, i) ?? opened
      // The Dynatrace client waits real (short) times between retries; the runner's clock is the test's.
      const { client } = startClient(t, dt.url)
      const app = await buildApp({
        config: testConfig({ DTR_RULES_FILE: rulesFile, DTR_DYNATRACE_URL: dt.url, DTR_DYNATRACE_TOKEN: TEST_TOKEN, DTR_ADMIN_TOKENS: 'alice=alice-admin-token', ...options.env }),
        store,
        clock,
        kubernetes: k8s.kube,
        dynatrace: client,
        runner: options.runners?.[i] ?? true,
        env: options.processEnv ?? {},
        underPressure: { ...RELAXED_PRESSURE, ...options.underPressure },
        // DTR_TEST_LOG=debug shows the runner's log when a test needs looking into.
        ...(process.env.DTR_TEST_LOG === undefined ? {} : { logger: { level: process.env.DTR_TEST_LOG } }),
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        timings: { pollMs: 3_600_000, leaseMs: 10_000, lockRetryMs: 1_000, backoffBaseMs: 1_000, ...options.timings },
      })
      t.teardown(() => app.close())
      await app.ready()
      replicas.push({ app, store })
    }
    // The first reconciliation runs as the runner starts: done before the test looks.
    await Promise.all(replicas.map(async (r) => r.app.runner.idle()))
  }
  await open()
  const first = (): { app: FastifyInstance, store: Store } => replicas[0] as { app: FastifyInstance, store: Store }
  dt.sim.traffic.reset()

  /** Idle everywhere at once: one replica's work may wake another's. */
  const settle = async (): Promise<void> => {
    for (;;) {
      await Promise.all(replicas.map(async (r) => r.app.runner.idle()))
      const due = await Promise.all(['notification', 'plan', 'run', 'timer', 'writeback'].map(async (q) => first().store.jobs.due(q)))
      if (due.every((n) => n === 0)) return
      for (const r of replicas) r.app.runner.wake()
    }
  }

  const loop: Loop = {
    get app () { return first().app },
    get store () { return first().store },
    replicas,
    clock,
    dt,
    k8s,
    problem,
    async notify (p = problem, change = (b) => b, to = 0) {
      const body = change(notificationOf(dt, p).body as Record<string, unknown>)
      const res = await (replicas[to] ?? replicas[0] as { app: FastifyInstance }).app.inject({ method: 'POST', url: '/webhooks/problem', headers: { ...bearer, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
      return res.statusCode
    },
    settle,
    async advance (ms) {
      clock.advance(ms)
      for (const r of replicas) r.app.runner.wake()
      await settle()
    },
    async addProblem (name, title = 'Failure rate increase') {
      const service = name === 'checkout'
        ? checkout.service.entityId
        : dt.sim.addWorkload({ namespace: 'shop', name, cluster: 'eu-1', tags: ['env:production'] }).service.entityId
      if (name !== 'checkout') k8s.sim.apply(deployment(name, `${name}:1.0.0`))
      return (await dt.sim.openProblem({ title, impactedEntities: [service], severityLevel: 'ERROR', startTime: clock.now(), notify: false })).problem
    },
    // The tenant keeps comments newest first, as Dynatrace lists them.
    comments: (p = problem) => [...p.comments].reverse().map((c) => c.content),
    async stop (replica) {
      for (const r of replica === undefined ? replicas.splice(0) : replicas.splice(replica, 1)) {
        await r.app.close()
        await r.store.close()
      }
    },
    start: open,
  }
  return loop
}
