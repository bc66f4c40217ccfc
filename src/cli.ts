#!/usr/bin/env node
/**
 * The `dt-remediator` executable. Sets the exit code rather than calling process.exit, so pending
 * output is flushed; `serve` keeps the process alive until a signal stops it.
 *
 * Node's module compile cache is turned on first, where the runtime has it (Node ≥ 22.1; the
 * image runs 24), for the modules Node itself loads: the CLI's verbs, or for `serve` the bundle's
 * loader and the packages it loads beside the bundle (the bundle has a code cache of its own,
 * src/cli/bundle.ts). The rest is imported after it, dynamically, so that it is compiled through
 * the cache. Without a writable cache directory Node just carries on uncached. A plain `serve` (the
 * image's command) skips the program (commander, the other verbs, the simulators' probe).
 */
import nodeModule from 'node:module'

const withCache = nodeModule as typeof nodeModule & { enableCompileCache?: (directory?: string) => unknown }
try {
  withCache.enableCompileCache?.()
} catch { /* a cache is an optimisation only */ }

const argv = process.argv.slice(2)
const { plainServe, runServe } = await import('./cli/serve.js')
process.exitCode = plainServe(argv) ? await runServe() : await (await import('./cli/index.js')).runCli(argv)
