/**
 * The built package (dist/), for tests that use it as a platform team or the container would:
 * CI builds before npm test; on a fresh clone, or after a source change, the first such test
 * builds first. tap runs test files in parallel, and several may find dist stale at once: one
 * builds, under a lock directory (mkdir is atomic), while the others wait for the lock to go,
 * then find dist fresh. A lock left by a process that died is taken over.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import type { Test } from 'tap'

const run = promisify(execFile)
export const root = fileURLToPath(new URL('../../', import.meta.url))

/** Newest mtime of the TypeScript sources under a directory, to tell whether dist is stale. */
function newest (dir: string): number {
  let max = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) max = Math.max(max, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return max
}

const fresh = (): boolean => {
  // The bundle's inputs are written last (scripts/bundle.mjs): a build that stopped halfway is stale.
  const built = join(root, 'dist/bundle-meta.json')
  const sources = Math.max(...['src', 'plugins', 'actions', 'sim'].map((d) => newest(join(root, d))))
  return existsSync(built) && statSync(built).mtimeMs >= sources
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function ensureBuilt (): Promise<void> {
  const lock = join(root, '.build-lock')
  for (let waited = 0; !fresh(); waited++) {
    try {
      mkdirSync(lock)
    } catch {
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN)
      if (Number.isInteger(owner) && !alive(owner)) rmSync(lock, { recursive: true, force: true })
      if (waited > 1500) throw new Error(`${lock} has been held for 5 minutes; remove it if no build is running`)
      // Another test file is building: a compile takes seconds, there is no event to wait on.
      await sleep(200)
      continue
    }
    try {
      writeFileSync(join(lock, 'pid'), String(process.pid))
      if (fresh()) return
      await run(process.execPath, [join(root, 'scripts/clean.mjs')], { cwd: root })
      await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root })
      await run(process.execPath, [join(root, 'scripts/bundle.mjs')], { cwd: root })
    } finally {
      rmSync(lock, { recursive: true, force: true })
    }
  }
}

/** A project with dt-remediator in its node_modules (a link to this checkout, as `npm link` makes). */
export function consumer (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-consumer-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(root, join(dir, 'node_modules/dt-remediator'), 'dir')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'acme-actions', type: 'module', private: true }))
  return dir
}
