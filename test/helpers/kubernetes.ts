/**
 * Starts the Kubernetes simulator for a test (port 0, closed in teardown) and builds the client
 * production builds from the kubeconfig it writes (the direct transport, as a token kubeconfig or
 * the in-cluster service account gets), so every test exercises the same transport, auth and
 * content types. test/kubernetes/kubeconfig.test.ts runs the library's transport too (an exec
 * plugin).
 */
import { kubernetesClientFromKubeconfig, type KubernetesClient } from '../../src/kubernetes/client.js'
import { buildKubernetesSimulator, type KubernetesSimulator, type KubernetesSimulatorOptions } from '../../sim/kubernetes/app.js'
import type { Obj } from '../../sim/kubernetes/patch.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface SimFixture {
  sim: KubernetesSimulator
  kube: KubernetesClient
  url: string
  clock: { now: number }
}

/** A simulator whose clock starts at 2024-05-01T10:00:00Z and moves only when the test moves it. */
export async function startKubernetesSim (t: Teardown, options: Omit<KubernetesSimulatorOptions, 'now'> = {}): Promise<SimFixture> {
  const clock = { now: Date.parse('2024-05-01T10:00:00Z') }
  const sim = await buildKubernetesSimulator({ ...options, now: () => clock.now })
  t.teardown(() => sim.close())
  const url = await sim.listen()
  return { sim, kube: kubernetesClientFromKubeconfig(sim.kubeconfig()), url, clock }
}

export function deployment (name: string, image: string, extra: { namespace?: string, replicas?: number, labels?: Record<string, string>, annotations?: Record<string, string>, paused?: boolean, revisionHistoryLimit?: number } = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: extra.namespace ?? 'shop', labels: { app: name, ...extra.labels }, ...(extra.annotations === undefined ? {} : { annotations: extra.annotations }) },
    spec: {
      replicas: extra.replicas ?? 2,
      ...(extra.paused === undefined ? {} : { paused: extra.paused }),
      ...(extra.revisionHistoryLimit === undefined ? {} : { revisionHistoryLimit: extra.revisionHistoryLimit }),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
    },
  }
}

export function statefulSet (name: string, image: string, namespace = 'shop'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace, labels: { app: name } },
    spec: { replicas: 3, serviceName: name, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } } },
  }
}

export function daemonSet (name: string, image: string, namespace = 'shop'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace, labels: { app: name } },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } } },
  }
}

export function hpa (name: string, target: { kind: string, name: string }, minReplicas: number, maxReplicas: number, namespace = 'shop'): Obj {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', ...target }, minReplicas, maxReplicas },
  }
}

/** The image of the first container of a stored workload or ReplicaSet. */
export function imageOf (object: Obj | undefined): string | undefined {
  const spec = object?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined
  return spec?.template?.spec?.containers?.[0]?.image
}

export function revisionOf (object: Obj | undefined): string | undefined {
  return ((object?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {})['deployment.kubernetes.io/revision']
}

/**
 * Deployment shop/checkout with a history: 1.4.0 and 1.4.1 an hour before `now`, 1.4.2 rolled out
 * 12 minutes before (when the deployment event of the Dynatrace world was posted). The clock is
 * left at `now`, the request log cleared.
 */
export function rolloutCheckoutHistory (k8s: SimFixture, now: number): void {
  k8s.clock.now = now - 60 * 60_000
  for (const version of ['1.4.0', '1.4.1']) k8s.sim.apply(deployment('checkout', `checkout:${version}`))
  k8s.clock.now = now - 12 * 60_000
  k8s.sim.apply(deployment('checkout', 'checkout:1.4.2'))
  k8s.clock.now = now
  k8s.sim.clearRequests()
}
