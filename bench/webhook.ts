/**
 * `npm run bench`: webhook throughput and latency, measured in one run on one machine.
 *
 * The service and a bare Fastify route each run in a child process (as in production) on
 * loopback, and autocannon drives them from this process at 50 connections. For each scenario it
 * prints requests/s, p50 and p99 latency, and the ratio to the bare route measured in the same
 * run, so the numbers compare across machines better than absolute figures do.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon, { type Result } from 'autocannon'

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const TOKEN = 'bench-token-0123456789'
const here = fileURLToPath(new URL('.', import.meta.url))
const cli = join(here, '../src/cli.js')

const docsTest = JSON.stringify({
  ImpactedEntities: [{ type: 'HOST', name: 'MyHost1', entity: 'HOST-XXXXXXXXXXXXX' }, { type: 'SERVICE', name: 'MyService1', entity: 'SERVICE-XXXXXXXXXXXXX' }],
  ImpactedEntity: 'MyHost1, MyService1',
  PID: '99999',
  ProblemDetailsHTML: '<h1>Dynatrace problem notification test run details</h1>',
  ProblemDetailsJSON: { ID: '99999' },
  ProblemID: '999',
  ProblemImpact: 'INFRASTRUCTURE',
  ProblemTitle: 'Dynatrace problem notification test run',
  'Problem URL': 'https://example.com',
  State: 'OPEN',
  Tags: 'testtag1, testtag2',
})

const problem = (pid: string): string => JSON.stringify({
  PID: pid,
  ProblemID: 'P-211020',
  State: 'OPEN',
  ProblemTitle: 'Failure rate increase',
  ProblemImpact: 'SERVICE',
  ProblemSeverity: 'ERROR',
  ProblemURL: `https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=${pid}`,
  Tags: 'env:production, team:checkout',
  ImpactedEntity: 'checkout-service',
  ImpactedEntityNames: 'checkout-service',
  ImpactedEntities: [{ type: 'SERVICE', name: 'checkout-service', entity: 'SERVICE-1125C375A187D27A' }],
})

async function start (args: string[], env: Record<string, string>): Promise<{ child: ChildProcess, url: string }> {
  // The child's log is read (and so drained) here, as a log shipper would read it in production.
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { url?: unknown }
        if (typeof entry.url === 'string') resolve(entry.url)
      } catch { /* not a JSON line */ }
    })
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)))
  })
  return { child, url }
}

async function stop (child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await exited
}

interface Row { name: string, rps: number, p50: number, p99: number, non2xx: number, errors: number, total: number }

async function measure (name: string, url: string, body: string | (() => string), warmup = true): Promise<Row> {
  const options: autocannon.Options = {
    url: `${url}/webhooks/problem`,
    connections: CONNECTIONS,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    ...(typeof body === 'string' ? { body } : { requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }] }),
  }
  if (warmup) await autocannon({ ...options, duration: 2 })
  const result: Result = await autocannon({ ...options, duration: DURATION })
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, total: result.requests.total }
}

const dataDir = mkdtempSync(join(tmpdir(), 'dtr-bench-'))
const rows: Row[] = []
try {
  const bare = await start([join(here, 'bare-server.js')], {})
  rows.push(await measure('bare Fastify route (same body)', bare.url, problem('bare')))
  await stop(bare.child)

  const service = await start([cli, 'serve'], { DTR_PORT: '0', DTR_HOST: '127.0.0.1', DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: TOKEN })
  rows.push(await measure('test notifications', service.url, docsTest))
  let n = 0
  const run = Date.now().toString(36)
  // No warm-up for new notifications: every request must be a notification never seen before.
  rows.push(await measure('new notifications (durable, embedded store)', service.url, () => problem(`-${run}_${n++}V2`), false))
  rows.push(await measure('duplicates', service.url, problem('-duplicate_1V2')))
  await stop(service.child)
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}

const base = rows[0] as Row
const pad = (s: string, n: number): string => s.padEnd(n)
const num = (v: number, d = 0): string => v.toFixed(d).padStart(9)
process.stdout.write(`\nWebhook benchmark: ${CONNECTIONS} connections, ${DURATION}s per scenario, Node ${process.version}, loopback\n\n`)
process.stdout.write(`${pad('scenario', 46)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'× bare'.padStart(9)}${'p99 ×'.padStart(9)}${'non-2xx'.padStart(9)}${'errors'.padStart(9)}\n`)
for (const r of rows) {
  process.stdout.write(`${pad(r.name, 46)}${num(r.rps)}${num(r.p50, 1)}${num(r.p99, 1)}${num(r.rps / base.rps, 2)}${num(r.p99 / Math.max(base.p99, 1), 1)}${num(r.non2xx)}${num(r.errors)}\n`)
}
const fresh = rows.find((r) => r.name.startsWith('new'))
if (fresh !== undefined) {
  const ok = fresh.rps >= 2000 && fresh.p99 < 50
  process.stdout.write(`\nGoal for new notifications: ≥ 2000 req/s with p99 < 50 ms → ${ok ? 'met' : 'NOT met'} (${fresh.rps.toFixed(0)} req/s, p99 ${fresh.p99} ms)\n`)
}
