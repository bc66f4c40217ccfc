/** The package's version, for --version and the OpenAPI document. */
import { readFileSync } from 'node:fs'

/** Our package.json, found by walking up: src/cli/ in a clone, dist/src/cli/ when built. */
export function packageVersion (): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'dt-remediator' && pkg.version !== undefined) return pkg.version
    } catch {
      // not here; go up
    }
    if (dir.pathname === '/') return 'unknown'
  }
}
