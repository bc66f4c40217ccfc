/**
 * The verbs sim/ adds to `dt-remediator` (loaded by src/cli through its one dynamic import):
 * `sim dynatrace` and `sim kubernetes` run a simulator in the foreground (each prints its base URL
 * on its first line of output, for scripts to read); `demo` plays the whole loop against both.
 */
import { InvalidArgumentError } from 'commander'
import type { RegisterVerb } from '../src/cli/verb.js'

function port (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535; 0 picks a free one)')
  return n
}

export const registerSimVerbs: RegisterVerb = (program, done) => {
  program.command('demo')
    .description('the whole loop against the simulators: a bad release, a problem, the rollback, its comment and verdict, a cooldown, an approval')
    .option('--keep', 'leave the service and both simulators running afterwards (until Ctrl-C)')
    .action(async (options: { keep?: boolean }) => {
      const { runDemo } = await import('./demo.js')
      done(await runDemo({ keep: options.keep === true }))
    })

  const sim = program.command('sim').description('run a bundled simulator (the Dynatrace API or the Kubernetes API)')
  sim.command('dynatrace')
    .description('run the Dynatrace Environment API v2 simulator (docs/dynatrace.md)')
    .option('--port <n>', 'port to listen on (0: a free one)', port, 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--state <file>', 'seed the tenant from a JSON or YAML state file')
    .action(async (options: { port: number, host: string, state?: string }) => {
      const { runDynatraceSim } = await import('./dynatrace/cli.js')
      done(await runDynatraceSim(options))
    })
  sim.command('kubernetes')
    .description('run the Kubernetes API simulator (docs/kubernetes.md)')
    .option('--port <n>', 'port to listen on (0: a free one)', port, 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--state <file>', 'YAML manifests applied in order (a Deployment listed twice gets a revision history)')
    .option('--kubeconfig-out <path>', 'write a kubeconfig pointing at the simulator, for DTR_KUBECONFIG or kubectl')
    .action(async (options: { port: number, host: string, state?: string, kubeconfigOut?: string }) => {
      const { runKubernetesSim } = await import('./kubernetes/cli.js')
      done(await runKubernetesSim(options))
    })
}
