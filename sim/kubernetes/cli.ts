/**
 * The Kubernetes API simulator in the foreground (`dt-remediator sim kubernetes`, see sim/verbs.ts). Runs the
 * Kubernetes API simulator in the foreground. The first line of stdout is its URL (scripts and
 * the demo read it); `--kubeconfig-out` writes a kubeconfig pointing at it, for DTR_KUBECONFIG or
 * kubectl. `--state` is a YAML file of manifests applied in order (list a Deployment several
 * times with different images to give it a revision history). Stops on SIGINT/SIGTERM.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import type { ExitCode } from '../../src/cli/verb.js'
import { buildKubernetesSimulator } from './app.js'
import type { Obj } from './patch.js'
import { untilStopSignal } from '../signals.js'

/** Pure: the manifests of a multi-document YAML text (empty documents and `List`s handled). */
export function parseManifests (text: string): Obj[] {
  const objects: Obj[] = []
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]?.message ?? ''}`)
    const value: unknown = doc.toJS()
    if (value === null || value === undefined) continue
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error('each YAML document must be a Kubernetes object')
    const object = value as Obj
    if (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items)) objects.push(...(object.items as Obj[]))
    else objects.push(object)
  }
  return objects
}

export interface KubernetesSimOptions {
  readonly port: number
  readonly host: string
  readonly state?: string | undefined
  readonly kubeconfigOut?: string | undefined
}

/** Runs the simulator until SIGINT/SIGTERM; 2 when the state file is unusable. */
export async function runKubernetesSim (options: KubernetesSimOptions): Promise<ExitCode> {
  let objects: Obj[] = []
  let sim
  try {
    if (options.state !== undefined) objects = parseManifests(readFileSync(options.state, 'utf8'))
    sim = await buildKubernetesSimulator({ objects })
  } catch (err) {
    process.stderr.write(`--state ${options.state ?? ''}: ${(err as Error).message}\n`)
    return 2
  }
  const url = await sim.listen({ port: options.port, host: options.host })
  process.stdout.write(`${url}\n`)
  if (options.kubeconfigOut !== undefined) {
    writeFileSync(options.kubeconfigOut, sim.kubeconfig(), { mode: 0o600 })
    process.stdout.write(`kubeconfig written to ${options.kubeconfigOut}\n`)
  }
  process.stdout.write(`serving ${objects.length} object(s); Ctrl-C to stop\n`)
  await untilStopSignal()
  await sim.close()
  return 0
}
