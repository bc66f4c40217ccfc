#!/usr/bin/env node
/**
 * The `dt-remediator` executable: dispatches to a verb (default `serve`). Sets the exit code
 * rather than calling process.exit, so pending output is flushed.
 */
import { verbs } from './cli/index.js'

const [first, ...rest] = process.argv.slice(2)
const name = first === undefined || first.startsWith('-') ? 'serve' : first
const args = name === first ? rest : process.argv.slice(2)
const load = verbs[name]
if (load === undefined) {
  process.stderr.write(`Unknown command "${name}". Commands: ${Object.keys(verbs).join(', ')}\n`)
  process.exitCode = 2
} else {
  const verb = await load()
  process.exitCode = await verb.run(args)
}
