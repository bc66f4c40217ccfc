/**
 * `node dist/src/cli/code-cache.js`: makes the bundle's code cache (src/cli/bundle.ts) by starting
 * the service once, as `serve` does, and keeping what V8 compiled by the time it listens: the
 * bundle's modules and every function the start called. Run by `npm run build`
 * (scripts/bundle.mjs) under the image's NODE_OPTIONS, and by the image's own build with its node
 * (Dockerfile): V8 takes a cache only from its own version and under the same flags.
 *
 * The rehearsal is the service's own start on a throwaway data directory, listening on a free
 * loopback port, with the shipped rules (config/remediation.yaml, relative to the working
 * directory) and none of the environment's DTR_ settings: it reaches no Dynatrace and no
 * Kubernetes, and keeps nothing but the cache. Exits 0 once the cache is written, 1 otherwise.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BUNDLE_FILE, cacheFileOf, loadBundle, writeCacheFile } from './bundle.js'

const dataDir = mkdtempSync(join(tmpdir(), 'dtr-code-cache-'))
process.once('exit', () => { rmSync(dataDir, { recursive: true, force: true }) })
for (const name of Object.keys(process.env)) if (name.startsWith('DTR_')) Reflect.deleteProperty(process.env, name)
Object.assign(process.env, { DTR_PORT: '0', DTR_HOST: '127.0.0.1', DTR_DATA_DIR: dataDir, DTR_WEBHOOK_TOKENS: randomBytes(24).toString('hex'), DTR_LOG_LEVEL: 'warn' })

const loaded = await loadBundle(BUNDLE_FILE, { readCache: false })
if (await loaded.server.serve() !== 0) {
  process.stderr.write('dt-remediator code-cache: the service did not start, so no code cache was made\n')
  process.exitCode = 1
} else {
  const file = cacheFileOf(BUNDLE_FILE)
  writeCacheFile(file, loaded.cacheData())
  process.stderr.write(`dt-remediator code-cache: wrote ${file}\n`)
  // The service's own shutdown (close-with-grace) closes the store and exits 0.
  process.kill(process.pid, 'SIGTERM')
}
