/**
 * What `serve` loads before it is ready: start-up is mostly loading modules, so the heavy ones a
 * webhook-only service with the embedded store does not need until later — the Kubernetes client,
 * PostgreSQL, the admin API and console, prom-client's default metrics and their OpenTelemetry
 * API, the CLI's program — are loaded on first use. The real executable runs
 * with a preload that lists every module it loaded (test/helpers/loaded-modules.mjs), so a static
 * import that brings one back fails here.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { startServer } from '../helpers/server-process.js'
import { notAtStart } from '../helpers/start-modules.js'

const preload = fileURLToPath(new URL('../helpers/loaded-modules.mjs', import.meta.url))
const TOKEN = 'serve-modules-token-0123456789'

async function serveAndList (t: Test, then: (url: string) => Promise<void> = async () => {}): Promise<string[]> {
  const file = join(t.testdir(), 'modules.txt')
  const server = await startServer(t, {
    DTR_WEBHOOK_TOKENS: TOKEN,
    DTR_DATA_DIR: t.testdir({ data: {} }) + '/data',
    NODE_OPTIONS: `--import=${preload}`,
    LOADED_MODULES_FILE: file,
  })
  const ready = await request(`${server.url}/readyz`)
  t.equal(ready.statusCode, 200, 'ready')
  await ready.body.dump()
  await then(server.url)
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '')
}

t.test('serve with the embedded store is ready without the modules it needs only later', async (t) => {
  const loaded = await serveAndList(t)
  // The list is real: what start-up does need is in it.
  for (const needed of [/\/node_modules\/fastify\/fastify\.js$/, /\/node_modules\/kysely\//, /\/node_modules\/better-sqlite3\//, /\/node_modules\/prom-client\/lib\/counter\.js$/]) {
    t.ok(loaded.some((file) => needed.test(file)), `loaded ${String(needed)}`)
  }
  for (const [pattern, what] of notAtStart) {
    t.same(loaded.filter((file) => pattern.test(file)), [], `not loaded: ${what}`)
  }
})

t.test('the default metrics load when first asked for, and the OpenAPI document is served', async (t) => {
  const loaded = await serveAndList(t, async (url) => {
    const metrics = await request(`${url}/metrics`)
    t.equal(metrics.statusCode, 200)
    const text = await metrics.body.text()
    t.match(text, /^process_cpu_seconds_total /m, 'the default metrics are in the first scrape')
    t.match(text, /^dtr_paused 0$/m, 'beside the service\'s own')
    const openapi = await request(`${url}/openapi.json`)
    t.equal(openapi.statusCode, 200)
    const doc = await openapi.body.json() as { openapi: string, paths: Record<string, unknown> }
    t.equal(doc.openapi, '3.1.0')
    t.ok(doc.paths['/webhooks/problem'], 'the document has the webhook')
  })
  t.ok(loaded.some((file) => /\/node_modules\/prom-client\/lib\/defaultMetrics\.js$/.test(file)), 'default metrics loaded')
})
