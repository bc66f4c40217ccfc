/**
 * `npm run bench`, third part (issue 19 item 6): one notification with thousands of impacted
 * SERVICE entities (2,000, about 160 KB; and 10,000, under a raised DTR_BODY_LIMIT), processed by
 * the service in a process of its own under the image's heap (NODE_OPTIONS from the Dockerfile:
 * --max-old-space-size=192), on the embedded store and, when BENCH_DATABASE_URL (or
 * DTR_TEST_DATABASE_URL) is set, on PostgreSQL. Reported: the time until every entity's run is
 * stored, the service's peak RSS (VmHWM), and the Dynatrace API requests it made (entity reads
 * apart). Before issue 19 the 2,000-entity notification ran the process out of memory and
 * crash-looped; SQLite refused 3,000 runs ("too many SQL variables").
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { request } from 'undici'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, renderTemplate } from '../src/dynatrace/templates.js'
import { buildDynatraceSimulator, DEFAULT_SIM_TOKEN, problemPlaceholders } from '../sim/dynatrace/index.js'

const WEBHOOK_TOKEN = 'bench-webhook-token'
const ADMIN_TOKEN = 'bench-admin-token'
const here = fileURLToPath(new URL('.', import.meta.url))
const cli = join(here, '../src/cli.js')
const imageNodeOptions = (/^ENV NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(here, '../../Dockerfile'), 'utf8'))?.[1] ?? '').replace(/^"|"$/g, '')
const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.DTR_TEST_DATABASE_URL
const RULES = `mode: live
rules:
  - name: restart-on-failure
    on: problem
    when: { entityTypes: [SERVICE] }
    actions: [{ use: kubernetes.restart }]
`

interface Row { engine: string, entities: number, bodyBytes: number, ms: number, runs: number, peakRssMb: number, apiRequests: number, entityReads: number, comments: number, status: string }

/** A fresh PostgreSQL schema; the URL that uses it and a function that drops it. */
async function pgSchema (url: string): Promise<{ url: string, drop: () => Promise<void> }> {
  const schema = `dtr_bench_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const u = new URL(url)
  u.searchParams.set('options', `-c search_path=${schema}`)
  return {
    url: u.toString(),
    async drop () {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await c.end()
    },
  }
}

const peakRssMb = (pid: number | undefined): number => {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid ?? 0}/status`, 'utf8'))?.[1]
    return kb === undefined ? Number.NaN : Math.round(Number(kb) / 1024)
  } catch {
    return Number.NaN
  }
}

async function one (engine: 'sqlite' | 'postgres', entities: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-bench-large-'))
  const dtApp = await buildDynatraceSimulator()
  const dtUrl = await dtApp.app.listen({ port: 0, host: '127.0.0.1' })
  const dt = dtApp.sim
  const ids: string[] = []
  for (let i = 0; i < entities; i++) ids.push(dt.addEntity({ entityId: `SERVICE-BE${i.toString(16).toUpperCase().padStart(14, '0')}`, type: 'SERVICE', displayName: `svc-${i}` }).entityId)
  const { problem } = await dt.openProblem({ title: 'Failure rate increase', impactedEntities: ids, severityLevel: 'ERROR', notify: false })
  const body = renderTemplate(RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, problemPlaceholders(dt.tenant, problem, dt.publicUrl))
  const rulesFile = join(dir, 'remediation.yaml')
  writeFileSync(rulesFile, RULES)
  const schema = engine === 'postgres' && databaseUrl !== undefined ? await pgSchema(databaseUrl) : undefined
  const log = join(dir, 'service.log')
  const fd = openSync(log, 'a')
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: imageNodeOptions,
      DTR_HOST: '127.0.0.1',
      DTR_PORT: '0',
      DTR_DATA_DIR: join(dir, 'data'),
      ...(schema === undefined ? {} : { DTR_DATABASE_URL: schema.url }),
      DTR_RULES_FILE: rulesFile,
      DTR_DYNATRACE_URL: dtUrl,
      DTR_DYNATRACE_TOKEN: DEFAULT_SIM_TOKEN,
      DTR_WEBHOOK_TOKENS: WEBHOOK_TOKEN,
      DTR_ADMIN_TOKENS: `bench=${ADMIN_TOKEN}`,
      DTR_BODY_LIMIT: String(16 * 1024 * 1024),
    },
    stdio: ['ignore', fd, fd],
  })
  const exited = once(child, 'exit')
  let status = 'ok'
  try {
    let url: string | undefined
    const started = Date.now()
    while (url === undefined) {
      if (child.exitCode !== null) throw new Error(`dt-remediator serve exited with ${child.exitCode}; its log: ${log}`)
      const line = readFileSync(log, 'utf8').split('\n').find((l) => l.includes('"url"'))
      if (line !== undefined) url = (JSON.parse(line) as { url: string }).url
      else if (Date.now() - started > 60_000) throw new Error('the service did not start')
      else await new Promise((resolve) => setTimeout(resolve, 20))
    }
    dt.traffic.reset()
    const t0 = Date.now()
    const posted = await request(`${url}/webhooks/problem`, { method: 'POST', headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' }, body })
    await posted.body.dump()
    if (posted.statusCode !== 202) throw new Error(`the notification got ${posted.statusCode}`)
    let runs = 0
    for (;;) {
      if (child.exitCode !== null) { status = `service exited (${child.exitCode})`; break }
      const res = await request(`${url}/api/problems/${encodeURIComponent(problem.problemId)}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).catch(() => undefined)
      if (res !== undefined) {
        const view = res.statusCode === 200 ? await res.body.json() as { runs: unknown[], notifications: Array<{ failed?: { reason: string } }> } : (await res.body.dump(), undefined)
        runs = view?.runs.length ?? 0
        const failed = view?.notifications.find((n) => n.failed !== undefined)?.failed
        if (failed !== undefined) { status = `failed: ${failed.reason}`; break }
        if (runs >= entities && problem.comments.length > 0) break
      }
      if (Date.now() - t0 > 600_000) { status = 'timed out'; break }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const ms = Date.now() - t0
    const requests = dt.traffic.requests
    return {
      engine,
      entities,
      bodyBytes: Buffer.byteLength(body),
      ms,
      runs,
      peakRssMb: peakRssMb(child.pid),
      status,
      apiRequests: requests.length,
      entityReads: requests.filter((r) => r.operation === 'getEntity' || r.operation === 'getEntities').length,
      comments: problem.comments.length,
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
    await dtApp.app.close()
    await schema?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function main (): Promise<void> {
  process.stdout.write(`\n## One large notification (NODE_OPTIONS ${imageNodeOptions}, DTR_BODY_LIMIT 16 MiB)\n\n`)
  const engines: Array<'sqlite' | 'postgres'> = databaseUrl === undefined ? ['sqlite'] : ['sqlite', 'postgres']
  if (databaseUrl === undefined) process.stdout.write('(PostgreSQL rows skipped: set BENCH_DATABASE_URL or DTR_TEST_DATABASE_URL)\n')
  process.stdout.write('engine    entities  body KB  runs    time ms  peak RSS MB  API requests  entity reads  comments  status\n')
  for (const engine of engines) {
    for (const entities of [2000, 10_000]) {
      const r = await one(engine, entities)
      process.stdout.write(`${r.engine.padEnd(9)} ${String(r.entities).padStart(8)} ${String(Math.round(r.bodyBytes / 1024)).padStart(8)} ${String(r.runs).padStart(5)} ${String(r.ms).padStart(10)} ${String(r.peakRssMb).padStart(12)} ${String(r.apiRequests).padStart(13)} ${String(r.entityReads).padStart(13)} ${String(r.comments).padStart(9)}  ${r.status}\n`)
    }
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
