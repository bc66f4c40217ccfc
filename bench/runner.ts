/**
 * `npm run bench`, second half (issue 11): the runner end to end, the service in a process of its
 * own (`dt-remediator serve`, the image's NODE_OPTIONS, its log to a file) against both
 * simulators in this one, on loopback.
 *
 * 1. Latency: problems on distinct workloads, notified at a steady pace (one every
 *    `--latency-interval-ms`), live `kubernetes.restart`; for each, notification POST → the
 *    result comment's createComment answered by Dynatrace, minus the action's own time (the run's
 *    `running` → final state on its timeline). p50 and p99; goal p50 < 1 s.
 * 2. Storm: 10,000 notifications for 50 problems (resends and merges: the same PID with a new
 *    title, as Dynatrace sends when it merges events into a problem), 50 connections, Dynatrace
 *    answering 10% of every API request with 429 (Retry-After 1 s), dry-run mode: the time to
 *    drain (every run final, every comment posted, the outbox empty), runs and comments against
 *    the expected one each per problem. Goal: 0 lost, 0 doubled.
 *
 * The figures depend on what else the machine runs (the load average is printed at the start and
 * the end). BENCH_TRACE=1 prints each latency problem's timeline (planned, running, final,
 * comment posted, in ms after its notification), to see where the time goes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, renderTemplate } from '../src/dynatrace/templates.js'
import { buildDynatraceSimulator, DEFAULT_SIM_TOKEN, problemPlaceholders, type DynatraceSimulator, type SimProblem } from '../sim/dynatrace/index.js'
import { buildKubernetesSimulator, type KubernetesSimulator } from '../sim/kubernetes/app.js'
import type { Obj } from '../sim/kubernetes/patch.js'
import type { Workload } from '../sim/dynatrace/tenant/index.js'

const { values: flags } = parseArgs({
  options: {
    'latency-problems': { type: 'string', default: '200' },
    'latency-interval-ms': { type: 'string', default: '50' },
    'storm-notifications': { type: 'string', default: '10000' },
    'storm-problems': { type: 'string', default: '50' },
    'storm-429': { type: 'string', default: '0.1' },
    connections: { type: 'string', default: '50' },
  },
})
const LATENCY_PROBLEMS = Number(flags['latency-problems'])
const LATENCY_INTERVAL_MS = Number(flags['latency-interval-ms'])
const STORM_NOTIFICATIONS = Number(flags['storm-notifications'])
const STORM_PROBLEMS = Number(flags['storm-problems'])
const STORM_429 = Number(flags['storm-429'])
const CONNECTIONS = Number(flags.connections)
const WEBHOOK_TOKEN = 'bench-webhook-token'
const ADMIN_TOKEN = 'bench-admin-token'
const here = fileURLToPath(new URL('.', import.meta.url))
const cli = join(here, '../src/cli.js')
const imageNodeOptions = (/^ENV NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(here, '../../Dockerfile'), 'utf8'))?.[1] ?? '').replace(/^"|"$/g, '')
export const agent = new Agent({ connections: CONNECTIONS })

const rulesOf = (mode: 'live' | 'dry-run'): string => `mode: ${mode}
defaults: { cooldown: 0s, verifyAfter: 1h, timeout: 1m }
rules:
  - name: restart-on-failure
    on: problem
    when: { entityTypes: [SERVICE] }
    actions: [{ use: kubernetes.restart }]
`

function deployment (name: string): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop', labels: { app: name } },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1.0.0` }] } } },
  }
}

export interface World {
  readonly dir: string
  readonly dt: DynatraceSimulator
  readonly k8s: KubernetesSimulator
  readonly service: { url: string, child: ChildProcess, pid: number, stop(): Promise<void> }
  readonly problems: SimProblem[]
  close(): Promise<void>
}

/**
 * Both simulators with `n` workloads (shop/svc-0…), a problem on each service (or on the entities
 * `impacted` picks from its workload), and the service started on them.
 */
export async function startWorld (n: number, mode: 'live' | 'dry-run', impacted: (w: Workload) => string[] = (w) => [w.service.entityId]): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-bench-runner-'))
  const names = Array.from({ length: n }, (_, i) => `svc-${i}`)
  const k8s = await buildKubernetesSimulator({ objects: names.map(deployment) })
  await k8s.listen()
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, k8s.kubeconfig(), { mode: 0o600 })
  const dtApp = await buildDynatraceSimulator()
  const dtUrl = await dtApp.app.listen({ port: 0, host: '127.0.0.1' })
  const dt = dtApp.sim
  const problems: SimProblem[] = []
  for (const name of names) {
    const w = dt.addWorkload({ namespace: 'shop', name })
    problems.push((await dt.openProblem({ title: `Failure rate increase on ${name}`, impactedEntities: impacted(w), severityLevel: 'ERROR', notify: false })).problem)
  }
  const rulesFile = join(dir, 'remediation.yaml')
  writeFileSync(rulesFile, rulesOf(mode))
  const log = join(dir, 'service.log')
  const fd = openSync(log, 'a')
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: imageNodeOptions,
      DTR_HOST: '127.0.0.1',
      DTR_PORT: '0',
      DTR_DATA_DIR: join(dir, 'data'),
      DTR_RULES_FILE: rulesFile,
      DTR_DYNATRACE_URL: dtUrl,
      DTR_DYNATRACE_TOKEN: DEFAULT_SIM_TOKEN,
      DTR_KUBECONFIG: kubeconfig,
      DTR_WEBHOOK_TOKENS: WEBHOOK_TOKEN,
      DTR_ADMIN_TOKENS: `bench=${ADMIN_TOKEN}`,
    },
    stdio: ['ignore', fd, fd],
  })
  const exited = once(child, 'exit')
  let url: string | undefined
  while (url === undefined) {
    if (child.exitCode !== null) throw new Error(`dt-remediator serve exited with ${child.exitCode}; its log: ${log}`)
    const line = readFileSync(log, 'utf8').split('\n').find((l) => l.includes('"url"'))
    if (line !== undefined) url = (JSON.parse(line) as { url: string }).url
    else await new Promise((resolve) => setTimeout(resolve, 10))
  }
  for (;;) {
    const res = await request(`${url}/readyz`).catch(() => undefined)
    await res?.body.dump()
    if (res?.statusCode === 200) break
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
  }
  return {
    dir,
    dt,
    k8s,
    service: { url, child, pid: child.pid as number, stop },
    problems,
    async close () {
      await stop()
      await Promise.all([dtApp.app.close(), k8s.close()])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const bodyOf = (dt: DynatraceSimulator, p: SimProblem): Record<string, unknown> =>
  JSON.parse(renderTemplate(RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, problemPlaceholders(dt.tenant, p, dt.publicUrl))) as Record<string, unknown>

export async function post (url: string, body: unknown): Promise<number> {
  const res = await request(`${url}/webhooks/problem`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
    body: JSON.stringify(body),
  })
  await res.body.dump()
  return res.statusCode
}

export interface ApiRun { id: string, problemId: string, state: string, timeline: Array<{ at: string, state: string }> }

export async function allRuns (url: string): Promise<ApiRun[]> {
  const runs: ApiRun[] = []
  let cursor: string | undefined
  do {
    const res = await request(`${url}/api/runs?limit=500${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    const page = await res.body.json() as { runs: ApiRun[], nextCursor?: string | null }
    runs.push(...page.runs)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return runs
}

export async function metric (url: string, name: string): Promise<number> {
  const res = await request(`${url}/metrics`)
  const text = await res.body.text()
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
}

export const FINAL = new Set(['succeeded', 'failed', 'skipped', 'dry_run', 'cancelled', 'expired'])
export const markerOf = (comment: string): string | undefined => /dt-remediator run (\S+)/.exec(comment)?.[1]
const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
const ms = (n: number): string => `${Math.round(n)} ms`

export async function waitUntil (what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: waited ${timeoutMs / 1000} s for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function latency (): Promise<{ p50: number, p99: number, max: number, n: number, actionP50: number }> {
  const world = await startWorld(LATENCY_PROBLEMS, 'live')
  try {
    const sentAt = new Map<string, number>()
    for (const p of world.problems) {
      const started = performance.now()
      sentAt.set(p.problemId, Date.now())
      const code = await post(world.service.url, bodyOf(world.dt, p))
      if (code !== 202) throw new Error(`bench: the webhook answered ${code}`)
      const rest = LATENCY_INTERVAL_MS - (performance.now() - started)
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest))
    }
    await waitUntil('every result comment', 120_000, () => world.problems.every((p) => p.comments.length > 0))
    const runs = new Map((await allRuns(world.service.url)).map((r) => [r.problemId, r]))
    const posted = (p: SimProblem): number => {
      const req = world.dt.traffic.requests.find((r) => r.operation === 'createComment' && r.status === 201 && r.url.includes(encodeURIComponent(p.problemId)))
      if (req?.endedAt === undefined) throw new Error(`bench: no answered createComment for ${p.problemId}`)
      return req.endedAt
    }
    const actionMs = (r: ApiRun | undefined): number => {
      const running = r?.timeline.find((e) => e.state === 'running')
      const end = r?.timeline.find((e) => FINAL.has(e.state))
      return running === undefined || end === undefined ? 0 : Date.parse(end.at) - Date.parse(running.at)
    }
    if (process.env.BENCH_TRACE !== undefined) {
      for (const p of world.problems) {
        const r = runs.get(p.problemId)
        const t0 = sentAt.get(p.problemId) ?? 0
        process.stdout.write(`${p.problemId}: created +${r === undefined ? '?' : Date.parse((r as unknown as { createdAt: string }).createdAt) - t0} ${r?.timeline.map((e) => `${e.state} +${Date.parse(e.at) - t0}`).join(', ')}, comment +${posted(p) - t0}\n`)
      }
    }
    const actions = world.problems.map((p) => actionMs(runs.get(p.problemId))).sort((a, b) => a - b)
    const latencies = world.problems.map((p) => posted(p) - (sentAt.get(p.problemId) ?? 0) - actionMs(runs.get(p.problemId))).sort((a, b) => a - b)
    return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? Number.NaN, n: latencies.length, actionP50: quantile(actions, 0.5) }
  } finally {
    await world.close()
  }
}

async function storm (): Promise<Record<string, number | string>> {
  const world = await startWorld(STORM_PROBLEMS, 'dry-run')
  try {
    world.dt.addFault({ operation: '*', status: 429, retryAfter: 1, fraction: STORM_429 })
    const bodies = world.problems.map((p) => bodyOf(world.dt, p))
    // Resends (the same body) and merges (the same PID, a new title) of every problem, interleaved.
    const notifications = Array.from({ length: STORM_NOTIFICATIONS }, (_, i) => {
      const body = bodies[i % bodies.length] as Record<string, unknown>
      return i % 3 === 2 ? { ...body, ProblemTitle: `${String(body.ProblemTitle)} (merged ${i})` } : body
    })
    const started = performance.now()
    const codes = new Map<number, number>()
    let next = 0
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (next < notifications.length) {
        const code = await post(world.service.url, notifications[next++])
        codes.set(code, (codes.get(code) ?? 0) + 1)
      }
    }))
    const intakeMs = performance.now() - started
    let runs: ApiRun[] = []
    await waitUntil('the storm to drain', 600_000, async () => {
      if (!world.problems.every((p) => p.comments.length > 0)) return false
      runs = await allRuns(world.service.url)
      if (runs.length < STORM_PROBLEMS || !runs.every((r) => FINAL.has(r.state))) return false
      return await metric(world.service.url, 'dtr_writeback_pending') === 0 && await metric(world.service.url, 'dtr_pending_runs') === 0
    })
    const drainMs = performance.now() - started
    const comments = world.problems.flatMap((p) => p.comments.map((c) => c.content))
    const perRun = new Map<string, number>()
    for (const c of comments) {
      const id = markerOf(c)
      if (id !== undefined) perRun.set(id, (perRun.get(id) ?? 0) + 1)
    }
    const problemsWithRun = new Set(runs.map((r) => r.problemId))
    const fault = world.dt.traffic.faults[0]
    return {
      notifications: STORM_NOTIFICATIONS,
      accepted: codes.get(202) ?? 0,
      duplicates: codes.get(200) ?? 0,
      otherAnswers: [...codes].filter(([c]) => c !== 202 && c !== 200).map(([c, n]) => `${c}×${n}`).join(' ') || 'none',
      intakeMs: Math.round(intakeMs),
      drainMs: Math.round(drainMs),
      runsExpected: STORM_PROBLEMS,
      runs: runs.length,
      dryRun: runs.filter((r) => r.state === 'dry_run').length,
      commentsExpected: STORM_PROBLEMS,
      comments: comments.length,
      lost: world.problems.filter((p) => !problemsWithRun.has(p.problemId)).length + runs.filter((r) => !perRun.has(r.id)).length,
      doubled: (runs.length - problemsWithRun.size) + [...perRun.values()].filter((n) => n > 1).length,
      answered429: fault?.hits ?? 0,
      apiRequests: world.dt.traffic.requests.length,
    }
  } finally {
    await world.close()
  }
}

export async function main (): Promise<void> {
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ')
  process.stdout.write(`\n## Runner (${cpus().length} CPUs, load ${load()})\n\n`)
  const l = await latency()
  process.stdout.write(`notification → posted comment, excluding the action (${l.n} problems, one every ${LATENCY_INTERVAL_MS} ms, live kubernetes.restart):\n`)
  process.stdout.write(`  p50 ${ms(l.p50)}   p99 ${ms(l.p99)}   max ${ms(l.max)}   (the action itself: p50 ${ms(l.actionP50)})   goal p50 < 1000 ms: ${l.p50 < 1000 ? 'met' : 'NOT met'}\n\n`)
  const s = await storm()
  process.stdout.write(`storm: ${s.notifications} notifications for ${s.runsExpected} problems (resends and merges), ${CONNECTIONS} connections, Dynatrace answering ${STORM_429 * 100}% with 429, dry-run:\n`)
  process.stdout.write(`  answered in ${s.intakeMs} ms: 202 accepted ${s.accepted} (merges, each a new body), 200 duplicate ${s.duplicates} (resends, already stored), other ${s.otherAnswers}; drained in ${s.drainMs} ms\n`)
  process.stdout.write(`  runs ${s.runs} (expected ${s.runsExpected}; ${s.dryRun} dry_run), comments ${s.comments} (expected ${s.commentsExpected}); lost ${s.lost}, doubled ${s.doubled}   goal 0 lost, 0 doubled: ${s.lost === 0 && s.doubled === 0 ? 'met' : 'NOT met'}\n`)
  process.stdout.write(`  Dynatrace answered 429 to ${s.answered429} of ${s.apiRequests} API requests\n`)
  process.stdout.write(`\nload at the end: ${load()}\n`)
  await agent.close()
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
