/**
 * Two properties of the pod that only show up at run time, pinned here so that a tidy-up of
 * deployment.yaml cannot bring them back: the memory the service needs at its measured peak and
 * no more than a webhook is usually given, and the service-link variables Kubernetes would inject
 * into the DTR_* namespace.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface PodSpec {
  enableServiceLinks?: boolean
  containers: Array<{ name: string, resources?: { requests?: Record<string, string>, limits?: Record<string, string> } }>
}

const deployment = parse(readFileSync(join(root, 'deploy/kubernetes/deployment.yaml'), 'utf8')) as {
  spec: { template: { spec: PodSpec } }
}
const pod = deployment.spec.template.spec

/** Pure: a Kubernetes memory quantity (`512Mi`, `1G`, `1536Mi`, plain bytes) in bytes. */
function bytes (quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity)
  if (match === null) throw new Error(`not a memory quantity this test understands: ${quantity}`)
  const factor: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }
  return Number(match[1]) * (factor[match[2] ?? ''] as number)
}

t.test('memory quantities are read the way Kubernetes reads them', async (t) => {
  t.equal(bytes('512Mi'), 536870912)
  t.equal(bytes('1536Mi'), 1.5 * 2 ** 30)
  t.equal(bytes('1G'), 1e9)
  t.throws(() => bytes('1.5 GB'))
})

t.test('the memory request and limit match what the service was measured to need', async (t) => {
  // Measured with npm run bench and 2 KB bodies (README, "Performance"): ~95 MB resident idle
  // (the first start on an empty volume included) and ~225 MB at the peak of 500 connections.
  // Below the peak the pod is OOM-killed under load; a request far above the idle figure makes
  // the scheduler reserve memory that is never used.
  const idle = 95e6
  const peak = 225e6
  const container = pod.containers.find((c) => c.name === 'dt-remediator') ?? pod.containers[0]
  const limit = container?.resources?.limits?.memory
  const request = container?.resources?.requests?.memory
  if (limit === undefined || request === undefined) return t.fail('the container sets a memory request and limit')
  t.ok(bytes(limit) >= peak * 1.25, `limits.memory ${limit} is at least 25% above the ~225 MB peak`)
  t.ok(bytes(request) >= idle * 1.25, `requests.memory ${request} covers the ~95 MB idle with room`)
  t.ok(bytes(request) <= 256 * 2 ** 20, `requests.memory ${request} is what a webhook is usually given, not the 512Mi PGlite needed`)
  t.ok(bytes(request) <= bytes(limit), `requests.memory ${request} is within the limit`)
})

t.test('Kubernetes injects no service-link variables that could shadow DTR_*', async (t) => {
  // With service links on, a Service named "dtr" in the namespace sets DTR_PORT=tcp://…:80, and
  // loadConfig refuses to start ("DTR_PORT: must be a port number").
  t.equal(pod.enableServiceLinks, false, 'enableServiceLinks is false')
})
