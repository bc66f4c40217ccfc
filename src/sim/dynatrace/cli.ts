/**
 * `dt-remediator sim dynatrace [--port N] [--host H] [--state file]`: runs the Dynatrace simulator
 * in the foreground. The first line of stdout is its base URL (scripts and the demo read it; use
 * it as DTR_DYNATRACE_URL); the next lines name the token to use and the control API. `--state`
 * seeds the tenant from a JSON or YAML file (see docs/dynatrace.md). Stops on SIGINT/SIGTERM.
 */
import type { Verb } from '../../cli/index.js'
import { buildDynatraceSimulator } from './index.js'
import { loadStateFile } from './schemas.js'
import type { SimState } from './schemas.js'
import { parseVerbArgs } from '../../cli/args.js'
import { untilStopSignal } from '../../cli/signals.js'

const verb: Verb = {
  summary: 'run the Dynatrace API simulator: sim dynatrace [--port N] [--host H] [--state file.json|yaml]',
  async run (args) {
    const parsed = parseVerbArgs(args, ['state', 'host'], this.summary)
    if (parsed === undefined) return 2
    const { values, port } = parsed
    let state: SimState | undefined
    try {
      if (values.state !== undefined) state = await loadStateFile(values.state)
    } catch (err) {
      process.stderr.write(`--state: ${(err as Error).message}\n`)
      return 2
    }
    let built
    try {
      built = await buildDynatraceSimulator({ state })
    } catch (err) {
      process.stderr.write(`--state ${values.state ?? ''}: ${(err as Error).message}\n`)
      return 2
    }
    const { app, sim } = built
    const url = await app.listen({ port, host: values.host ?? '127.0.0.1' })
    process.stdout.write(`${url}\n`)
    const tokens = [...sim.tokens.entries()].map(([token, scopes]) => `  ${token} (${[...scopes].join(', ')})`).join('\n')
    process.stdout.write(`tokens:\n${tokens}\ncontrol API: ${url}/_sim/state, ${url}/_sim/requests; ${sim.tenant.entities.size} entities, ${sim.tenant.problems.size} problems; Ctrl-C to stop\n`)
    await untilStopSignal()
    await app.close()
    return 0
  },
}
export default verb
