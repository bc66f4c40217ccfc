/**
 * `dt-remediator sim <dynatrace|kubernetes> [options]`: runs one of the bundled simulators in the
 * foreground. Each simulator prints its base URL on its first line of output.
 */
import type { Verb } from './index.js'

const simulators: Record<string, () => Promise<Verb>> = {
  dynatrace: async () => (await import('../sim/dynatrace/cli.js')).default,
  kubernetes: async () => (await import('../sim/kubernetes/cli.js')).default,
}

const verb: Verb = {
  summary: 'run a bundled simulator: sim dynatrace|kubernetes [--port N] [--state file]',
  async run (args) {
    const [which, ...rest] = args
    const load = which === undefined ? undefined : simulators[which]
    if (load === undefined) {
      process.stderr.write(`Usage: dt-remediator sim <${Object.keys(simulators).join('|')}> [options]\n`)
      return 2
    }
    return (await load()).run(rest)
  },
}
export default verb
