/**
 * The Dynatrace simulator in the foreground (`dt-remediator sim dynatrace`, see sim/verbs.ts). The first line of stdout is its base URL (scripts and the demo read it; use
 * it as DTR_DYNATRACE_URL); the next lines name the token to use and the control API. `--state`
 * seeds the tenant from a JSON or YAML file (see docs/dynatrace.md). Stops on SIGINT/SIGTERM.
 */
import type { ExitCode } from '../../src/cli/verb.js'
import { buildDynatraceSimulator } from './index.js'
import { loadStateFile } from './schemas.js'
import type { SimState } from './schemas.js'
import { untilStopSignal } from '../signals.js'

export interface DynatraceSimOptions {
  readonly port: number
  readonly host: string
  readonly state?: string | undefined
}

/** Runs the simulator until SIGINT/SIGTERM; 2 when the state file is unusable. */
export async function runDynatraceSim (options: DynatraceSimOptions): Promise<ExitCode> {
  let built
  try {
    const state: SimState | undefined = options.state === undefined ? undefined : await loadStateFile(options.state)
    built = await buildDynatraceSimulator({ state })
  } catch (err) {
    process.stderr.write(`--state ${options.state ?? ''}: ${(err as Error).message}\n`)
    return 2
  }
  const { app, sim } = built
  const url = await app.listen({ port: options.port, host: options.host })
  process.stdout.write(`${url}\n`)
  const tokens = [...sim.tokens.entries()].map(([token, scopes]) => `  ${token} (${[...scopes].join(', ')})`).join('\n')
  process.stdout.write(`tokens:\n${tokens}\ncontrol API: ${url}/_sim/state, ${url}/_sim/requests; ${sim.tenant.entities.size} entities, ${sim.tenant.problems.size} problems; Ctrl-C to stop\n`)
  await untilStopSignal()
  await app.close()
  return 0
}
