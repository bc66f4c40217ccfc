/**
 * `npm run bench`, third part (issue 23): a big outage. 1,000 distinct problems, each on 3
 * entities (a service, its process group and its host), notified over 10 s at a steady pace,
 * Dynatrace answering 10% of every API request with 429 (Retry-After 1 s), dry-run mode. The
 * service runs as in runner.ts (`dt-remediator serve` in a process of its own, the image's
 * NODE_OPTIONS), both simulators in this process.
 *
 * Prints: every problem planned once (one run each) and its comments posted exactly once; the
 * last comment's delay after the last notification (goal < 60 s); Dynatrace API calls per
 * problem (goal ≤ 8 on average, the 429-answered ones included: each is a call Dynatrace
 * counted); the service's peak RSS (goal < 200 MB, VmHWM from /proc).
 *
 * BENCH_OUTAGE_PROBLEMS and BENCH_OUTAGE_SECONDS scale it down for a quick look.
 */
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import {
  agent, allRuns, bodyOf, FINAL, markerOf, metric, post, startWorld, waitUntil, type ApiRun,
} from './runner.js'

const PROBLEMS = Number(process.env.BENCH_OUTAGE_PROBLEMS ?? 1000)
const SECONDS = Number(process.env.BENCH_OUTAGE_SECONDS ?? 10)
const SHARE_429 = 0.1

function peakRss (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) * 1024
}

/** Pure: calls and 429s per operation, most called first. */
function perOperation (requests: ReadonlyArray<{ operation: string, status: number | undefined }>): Array<[string, number, number]> {
  const counts = new Map<string, [number, number]>()
  for (const r of requests) {
    const c = counts.get(r.operation) ?? [0, 0]
    c[0]++
    if (r.status === 429) c[1]++
    counts.set(r.operation, c)
  }
  return [...counts].map(([op, [n, refused]]): [string, number, number] => [op, n, refused]).sort((a, b) => b[1] - a[1])
}

export interface OutageResult {
  problems: number
  accepted: number
  otherAnswers: string
  sendMs: number
  runs: number
  problemsPlannedOnce: number
  problemsPlannedTwice: number
  comments: number
  runsCommentedOnce: number
  runsCommentedTwiceOrMore: number
  runsWithoutComment: number
  lastCommentAfterLastNotificationMs: number
  apiCalls: number
  answered429: number
  /** Dynatrace API calls per operation: [calls, of which answered 429], most called first. */
  perOperation: Array<[string, number, number]>
  peakRssBytes: number
}

export async function outage (): Promise<OutageResult> {
  const world = await startWorld(PROBLEMS, 'dry-run', (w) => [w.service.entityId, w.processGroup.entityId, w.host.entityId])
  try {
    world.dt.addFault({ operation: '*', status: 429, retryAfter: 1, fraction: SHARE_429 })
    const bodies = world.problems.map((p) => bodyOf(world.dt, p))
    const intervalMs = (SECONDS * 1000) / PROBLEMS
    const codes = new Map<number, number>()
    const started = performance.now()
    let lastSentAt = 0
    // One notification every `intervalMs`, each sent on time however long the earlier ones take
    // to be answered: Dynatrace does not wait for one webhook call before the next problem's.
    const sends: Array<Promise<void>> = []
    for (let i = 0; i < bodies.length; i++) {
      const due = started + i * intervalMs
      const wait = due - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      lastSentAt = Date.now()
      sends.push(post(world.service.url, bodies[i]).then((code) => { codes.set(code, (codes.get(code) ?? 0) + 1) }))
    }
    await Promise.all(sends)
    const sendMs = performance.now() - started
    let runs: ApiRun[] = []
    await waitUntil('the outage to drain', 900_000, async () => {
      if (!world.problems.every((p) => p.comments.length > 0)) return false
      runs = await allRuns(world.service.url)
      if (runs.length < PROBLEMS || !runs.every((r) => FINAL.has(r.state))) return false
      return await metric(world.service.url, 'dtr_writeback_pending') === 0 && await metric(world.service.url, 'dtr_pending_runs') === 0
    })
    const peakRssBytes = peakRss(world.service.pid)
    const runsPerProblem = new Map<string, number>()
    for (const r of runs) runsPerProblem.set(r.problemId, (runsPerProblem.get(r.problemId) ?? 0) + 1)
    const commentsPerRun = new Map<string, number>()
    let comments = 0
    for (const p of world.problems) {
      for (const c of p.comments) {
        comments++
        const id = markerOf(c.content)
        if (id !== undefined) commentsPerRun.set(id, (commentsPerRun.get(id) ?? 0) + 1)
      }
    }
    const lastComment = Math.max(...world.dt.traffic.requests
      .filter((r) => r.operation === 'createComment' && r.status === 201 && r.endedAt !== undefined)
      .map((r) => r.endedAt as number))
    return {
      problems: PROBLEMS,
      accepted: codes.get(202) ?? 0,
      otherAnswers: [...codes].filter(([c]) => c !== 202).map(([c, n]) => `${c}×${n}`).join(' ') || 'none',
      sendMs: Math.round(sendMs),
      runs: runs.length,
      problemsPlannedOnce: world.problems.filter((p) => runsPerProblem.get(p.problemId) === 1).length,
      problemsPlannedTwice: world.problems.filter((p) => (runsPerProblem.get(p.problemId) ?? 0) > 1).length,
      comments,
      runsCommentedOnce: runs.filter((r) => commentsPerRun.get(r.id) === 1).length,
      runsCommentedTwiceOrMore: runs.filter((r) => (commentsPerRun.get(r.id) ?? 0) > 1).length,
      runsWithoutComment: runs.filter((r) => !commentsPerRun.has(r.id)).length,
      lastCommentAfterLastNotificationMs: lastComment - lastSentAt,
      apiCalls: world.dt.traffic.requests.length,
      answered429: world.dt.traffic.faults[0]?.hits ?? 0,
      perOperation: perOperation(world.dt.traffic.requests),
      peakRssBytes,
    }
  } finally {
    await world.close()
  }
}

export async function main (): Promise<void> {
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ')
  process.stdout.write(`\n## A big outage (${cpus().length} CPUs, load ${load()})\n\n`)
  const o = await outage()
  const perProblem = o.apiCalls / o.problems
  const planned = o.problemsPlannedOnce === o.problems && o.problemsPlannedTwice === 0
  const commented = o.runsCommentedOnce === o.runs && o.runs === o.problems
  process.stdout.write(`${o.problems} distinct problems, 3 entities each, notified over ${SECONDS} s (all sent in ${o.sendMs} ms), Dynatrace answering ${SHARE_429 * 100}% with 429, dry-run:\n`)
  process.stdout.write(`  answers: 202 ${o.accepted}, other ${o.otherAnswers}\n`)
  process.stdout.write(`  planned once: ${o.problemsPlannedOnce} of ${o.problems} problems (${o.problemsPlannedTwice} more than once); runs ${o.runs}\n`)
  process.stdout.write(`  comments: ${o.comments}; runs commented exactly once ${o.runsCommentedOnce}, more than once ${o.runsCommentedTwiceOrMore}, never ${o.runsWithoutComment}\n`)
  process.stdout.write(`  last comment ${(o.lastCommentAfterLastNotificationMs / 1000).toFixed(1)} s after the last notification; Dynatrace API calls ${o.apiCalls} (${perProblem.toFixed(1)} per problem; ${o.answered429} answered 429); peak RSS ${(o.peakRssBytes / 1e6).toFixed(1)} MB\n`)
  process.stdout.write(`  calls per operation (per problem; 429s): ${o.perOperation.map(([op, n, refused]) => `${op} ${n} (${(n / o.problems).toFixed(2)}; ${refused})`).join(', ')}\n`)
  process.stdout.write('Goals (issue 23):\n')
  const goal = (met: boolean, text: string): void => { process.stdout.write(`  ${met ? 'met    ' : 'NOT met'}  ${text}\n`) }
  goal(planned && commented, 'every problem planned once and its comments posted exactly once')
  goal(o.lastCommentAfterLastNotificationMs < 60_000, `last comment < 60 s after the last notification (${(o.lastCommentAfterLastNotificationMs / 1000).toFixed(1)} s)`)
  goal(perProblem <= 8, `≤ 8 Dynatrace API calls per problem on average (${perProblem.toFixed(1)})`)
  goal(o.peakRssBytes < 200e6, `peak RSS < 200 MB (${(o.peakRssBytes / 1e6).toFixed(1)} MB)`)
  process.stdout.write(`load at the end: ${load()}\n`)
  await agent.close()
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
