// CI smoke test of the image's Node (SPEC 2: the image runs the current LTS, the tests run on
// Node 20): starts the built service with the given node binary, as the container's CMD does,
// checks the probes, sends Dynatrace's test notification with `send-test` and one real problem
// notification, reads /metrics, and stops it with SIGTERM, which must exit 0.
//
//   node .ci/smoke-lts.mjs /path/to/node24 [postgres://…]
//
// better-sqlite3 in node_modules is compiled for the Node that ran npm ci (20) and will not load
// in another major, so the smoke runs on PostgreSQL: a schema of its own, dropped after. Without a
// URL it runs on SQLite, which works only when that node is the one npm ci ran on.
import { execFile, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)
const [node, databaseUrl] = process.argv.slice(2)
if (node === undefined) throw new Error('usage: node .ci/smoke-lts.mjs NODE [DATABASE_URL]')
const root = new URL('..', import.meta.url).pathname
const token = `smoke-${randomUUID()}`
const dataDir = mkdtempSync(join(tmpdir(), 'dtr-smoke-'))
const deadline = AbortSignal.timeout(60_000)

let schema
let url
if (databaseUrl !== undefined && databaseUrl !== '') {
  schema = `dtr_smoke_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const u = new URL(databaseUrl)
  u.searchParams.set('options', `-c search_path=${schema}`)
  url = u.toString()
}

const { stdout: version } = await run(node, ['--version'])
const env = {
  PATH: process.env.PATH,
  DTR_PORT: '0',
  DTR_HOST: '127.0.0.1',
  DTR_WEBHOOK_TOKENS: token,
  DTR_DATA_DIR: dataDir,
  DTR_LOG_LEVEL: 'info',
  ...(url === undefined ? {} : { DTR_DATABASE_URL: url }),
  // The image's options (Dockerfile ENV NODE_OPTIONS).
  NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=192',
}
const service = spawn(node, ['dist/src/cli.js', 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
const exited = new Promise((resolve) => service.once('exit', (code, signal) => resolve({ code, signal })))
const log = []

try {
  const base = await new Promise((resolve, reject) => {
    deadline.addEventListener('abort', () => reject(new Error(`no "listening" line within 60 s:\n${log.join('\n')}`)))
    service.once('exit', (code) => reject(new Error(`the service exited (${code}) before listening:\n${log.join('\n')}`)))
    createInterface({ input: service.stdout }).on('line', (line) => {
      log.push(line)
      try {
        const entry = JSON.parse(line)
        if (entry.msg?.startsWith('dt-remediator listening')) resolve(entry.url)
      } catch {}
    })
  })
  const expect = async (what, response, status) => {
    if (response.status !== status) throw new Error(`${what}: ${response.status}, expected ${status}: ${await response.text()}`)
    return response
  }
  await expect('GET /healthz', await fetch(`${base}/healthz`), 200)
  await expect('GET /readyz', await fetch(`${base}/readyz`), 200)

  const test = await run(node, ['dist/src/cli.js', 'send-test', `${base}/webhooks/problem`, '--token', token], { cwd: root })
  if (!/→ 200/.test(test.stdout) || !/"status":"test"/.test(test.stdout)) throw new Error(`send-test: ${test.stdout}`)
  const problem = readFileSync(join(root, '../shared/dynatrace/samples/problem-open.json'), 'utf8')
  const accepted = await expect('POST /webhooks/problem', await fetch(`${base}/webhooks/problem`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: problem,
  }), 202)
  const { notificationId } = await accepted.json()
  const metrics = await (await expect('GET /metrics', await fetch(`${base}/metrics`), 200)).text()
  if (!/dtr_notifications_total\{[^}]*outcome="accepted"[^}]*\} 1/.test(metrics)) throw new Error('/metrics does not count the accepted notification')

  service.kill('SIGTERM')
  const { code, signal } = await exited
  if (code !== 0) throw new Error(`SIGTERM: exit ${code ?? signal}, expected 0:\n${log.slice(-5).join('\n')}`)
  console.log(`smoke: ${version.trim()} on ${url === undefined ? 'SQLite' : 'PostgreSQL'}: healthz, readyz, send-test → 200 {"status":"test"}, ` +
    `a problem notification → 202 (${notificationId}), metrics, SIGTERM → exit 0`)
} finally {
  if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL')
  rmSync(dataDir, { recursive: true, force: true })
  if (schema !== undefined) {
    const admin = new pg.Client({ connectionString: databaseUrl })
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  }
}
