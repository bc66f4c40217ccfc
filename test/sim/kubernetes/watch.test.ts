/**
 * Watches as client-go reads them: the current state first (or a replay from the LIST's
 * resourceVersion, so nothing in between is lost), then every change; 410 when the version is
 * too old; selectors; the watch-list bookmark; and a clean end when the simulator closes.
 */
import t from 'tap'
import type { Test } from 'tap'
import { deployment, startKubernetesSim } from '../../helpers/kubernetes.js'

const DEPLOYMENTS = '/apis/apps/v1/namespaces/shop/deployments'

interface WatchEvent { type: string, object: { kind?: string, code?: number, metadata: { name: string, resourceVersion: string, annotations?: Record<string, string> }, status?: { observedGeneration?: number } } }

/** Opens a watch and reads its events line by line. */
async function watch (t: Test, url: string, query: string): Promise<{ next: () => Promise<WatchEvent>, ended: () => Promise<boolean> }> {
  const abort = new AbortController()
  t.teardown(() => abort.abort())
  const res = await fetch(`${url}${DEPLOYMENTS}?watch=1&${query}`, { signal: abort.signal })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/json')
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let done = false
  const line = async (): Promise<string | undefined> => {
    for (;;) {
      const newline = buffer.indexOf('\n')
      if (newline >= 0) {
        const text = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        return text
      }
      if (done) return undefined
      const chunk = await reader.read()
      if (chunk.done) done = true
      else buffer += decoder.decode(chunk.value, { stream: true })
    }
  }
  return {
    next: async () => {
      const text = await line()
      if (text === undefined) throw new Error('the watch ended')
      return JSON.parse(text) as WatchEvent
    },
    ended: async () => (await line()) === undefined,
  }
}

t.test('a watch without resourceVersion starts with the current state, then streams changes', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  sim.apply(deployment('cart', 'cart:1'))
  sim.apply(deployment('checkout', 'checkout:1'))
  const w = await watch(t, url, 'fieldSelector=metadata.name%3Dcheckout')
  t.match(await w.next(), { type: 'ADDED', object: { kind: 'Deployment', metadata: { name: 'checkout' } } }, 'only the selected object')
  sim.apply(deployment('cart', 'cart:2'))
  sim.apply(deployment('checkout', 'checkout:2'))
  const changed = await w.next()
  t.match(changed, { type: 'MODIFIED', object: { metadata: { name: 'checkout' } } }, 'the other Deployment is filtered out')
  // The rollout's later states arrive as further MODIFIED events, ending settled.
  let last = changed
  while (Number(last.object.metadata.resourceVersion) < Number(sim.get('Deployment', 'shop', 'checkout')?.metadata.resourceVersion)) last = await w.next()
  t.match(last.object, { status: { observedGeneration: 2 }, metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } } })
  await fetch(`${url}${DEPLOYMENTS}/checkout`, { method: 'DELETE' })
  let deleted = await w.next()
  while (deleted.type !== 'DELETED') deleted = await w.next()
  t.match(deleted, { type: 'DELETED', object: { metadata: { name: 'checkout' } } })
})

t.test('a watch from a LIST resourceVersion replays what changed in between', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1'))
  const list = await (await fetch(`${url}${DEPLOYMENTS}`)).json() as { metadata: { resourceVersion: string } }
  sim.apply(deployment('cart', 'cart:1'))
  const w = await watch(t, url, `resourceVersion=${list.metadata.resourceVersion}&labelSelector=app%3Dcart`)
  t.match(await w.next(), { type: 'ADDED', object: { metadata: { name: 'cart' } } }, 'the Deployment created after the LIST')
  t.match(await w.next(), { type: 'MODIFIED', object: { metadata: { name: 'cart' } } }, 'and its controller updates, in order')
})

t.test('an expired resourceVersion answers an ERROR 410 event', async (t) => {
  const { sim, url } = await startKubernetesSim(t, { watchCacheSize: 20 })
  for (let i = 0; i < 5; i++) sim.apply(deployment('checkout', `checkout:${i}`, { revisionHistoryLimit: 0 }))
  const w = await watch(t, url, 'resourceVersion=1001')
  t.match(await w.next(), { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: /^too old resource version: 1001 / } })
  t.ok(await w.ended(), 'and the stream ends')
})

t.test('sendInitialEvents ends the initial state with a bookmark', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1'))
  const w = await watch(t, url, 'sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true')
  t.match(await w.next(), { type: 'ADDED' })
  t.match(await w.next(), { type: 'BOOKMARK', object: { kind: 'Deployment', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } })
})

t.test('an object that stops matching the selector is seen as DELETED', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  sim.apply(deployment('checkout', 'checkout:1', { labels: { tier: 'web' } }))
  const w = await watch(t, url, 'labelSelector=tier%3Dweb')
  t.match(await w.next(), { type: 'ADDED' })
  sim.apply(deployment('checkout', 'checkout:1', { labels: { tier: 'api' } }))
  t.match(await w.next(), { type: 'DELETED', object: { metadata: { name: 'checkout' } } })
})

t.test('closing the simulator ends open watches', async (t) => {
  const { sim, url } = await startKubernetesSim(t)
  const w = await watch(t, url, '')
  await sim.untilWatched({ resource: 'deployments', namespace: 'shop' })
  await sim.close()
  t.ok(await w.ended())
})
