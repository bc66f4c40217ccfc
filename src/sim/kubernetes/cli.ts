/**
 * `dt-remediator sim kubernetes [--port N] [--state file] [--kubeconfig-out path]`: runs the
 * Kubernetes API simulator in the foreground. The first line of stdout is its URL (scripts and
 * the demo read it); `--kubeconfig-out` writes a kubeconfig pointing at it, for DTR_KUBECONFIG or
 * kubectl. `--state` is a YAML file of manifests applied in order (list a Deployment several
 * times with different images to give it a revision history). Stops on SIGINT/SIGTERM.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import type { Verb } from '../../cli/index.js'
import { buildKubernetesSimulator } from './app.js'
import type { Obj } from './patch.js'
import { parseVerbArgs } from '../../cli/args.js'
import { untilStopSignal } from '../../cli/signals.js'

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

const verb: Verb = {
  summary: 'run the Kubernetes API simulator: sim kubernetes [--port N] [--state file] [--kubeconfig-out path]',
  async run (args) {
    const parsed = parseVerbArgs(args, ['state', 'kubeconfig-out', 'host'], this.summary)
    if (parsed === undefined) return 2
    const { values, port } = parsed
    let objects: Obj[] = []
    try {
      if (values.state !== undefined) objects = parseManifests(readFileSync(values.state, 'utf8'))
    } catch (err) {
      process.stderr.write(`--state ${values.state ?? ''}: ${(err as Error).message}\n`)
      return 2
    }
    let sim
    try {
      sim = await buildKubernetesSimulator({ objects })
    } catch (err) {
      process.stderr.write(`--state ${values.state ?? ''}: ${(err as Error).message}\n`)
      return 2
    }
    const url = await sim.listen({ port, host: values.host ?? '127.0.0.1' })
    process.stdout.write(`${url}\n`)
    if (values['kubeconfig-out'] !== undefined) {
      writeFileSync(values['kubeconfig-out'], sim.kubeconfig(), { mode: 0o600 })
      process.stdout.write(`kubeconfig written to ${values['kubeconfig-out']}\n`)
    }
    process.stdout.write(`serving ${objects.length} object(s); Ctrl-C to stop\n`)
    const running = sim
    await untilStopSignal()
    await running.close()
    return 0
  },
}
export default verb
