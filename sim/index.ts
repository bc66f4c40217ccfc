/**
 * `dt-remediator/sim`: the Dynatrace and Kubernetes simulators, and a harness that starts both on
 * loopback and hands out the readers an action gets, so a platform team can run its custom action
 * against a real (simulated) API server with the test kit:
 *
 *   const world = await startWorld({ kubernetes: { objects: [deployment] } })
 *   const result = await runAction(myAction, { target, ...world.readers })
 *   await world.close()
 */
import { createDynatraceClient, type DynatraceClient } from '../src/dynatrace/client.js'
import { dynatraceReader, type DynatraceReader } from '../src/dynatrace/reader.js'
import { kubernetesClientFromKubeconfig, type KubernetesClient } from '../src/kubernetes/client.js'
import { kubernetesReader, type KubernetesReader } from '../src/kubernetes/reader.js'
import { createMetrics } from '../src/metrics.js'
import { buildDynatraceSimulator, DEFAULT_SIM_TOKEN, type BuildSimulatorOptions, type DynatraceSimulator } from './dynatrace/index.js'
import { buildKubernetesSimulator, type KubernetesSimulator, type KubernetesSimulatorOptions } from './kubernetes/app.js'

export * from './dynatrace/index.js'
export { buildKubernetesSimulator } from './kubernetes/app.js'
export type { Fault, KubernetesSimulator, KubernetesSimulatorOptions, RequestLogEntry, WatchFilter } from './kubernetes/app.js'
export type { RolloutMode } from './kubernetes/controllers/index.js'

export interface WorldOptions {
  readonly dynatrace?: BuildSimulatorOptions
  readonly kubernetes?: KubernetesSimulatorOptions
}

export interface World {
  readonly dynatrace: { readonly url: string, readonly token: string, readonly sim: DynatraceSimulator, readonly client: DynatraceClient }
  readonly kubernetes: { readonly url: string, readonly sim: KubernetesSimulator, readonly client: KubernetesClient, readonly kubeconfig: string }
  /** What runAction's options take: the read-only helpers an action gets, over the simulators. */
  readonly readers: { readonly dynatrace: DynatraceReader, readonly kubernetes: KubernetesReader }
  close(): Promise<void>
}

/** Starts both simulators on ephemeral loopback ports, with clients pointed at them. */
export async function startWorld (options: WorldOptions = {}): Promise<World> {
  const dt = await buildDynatraceSimulator(options.dynatrace)
  const dtUrl = await dt.app.listen({ port: 0, host: '127.0.0.1' })
  const k8s = await buildKubernetesSimulator(options.kubernetes)
  const k8sUrl = await k8s.listen()
  const kubeconfig = k8s.kubeconfig()
  const kubeClient = kubernetesClientFromKubeconfig(kubeconfig)
  const dtClient = createDynatraceClient({ url: dtUrl, token: DEFAULT_SIM_TOKEN, metrics: createMetrics() })
  return {
    dynatrace: { url: dtUrl, token: DEFAULT_SIM_TOKEN, sim: dt.sim, client: dtClient },
    kubernetes: { url: k8sUrl, sim: k8s, client: kubeClient, kubeconfig },
    readers: { dynatrace: dynatraceReader(dtClient), kubernetes: kubernetesReader(kubeClient) },
    async close () {
      await dtClient.close()
      await Promise.all([dt.app.close(), k8s.close()])
    },
  }
}
