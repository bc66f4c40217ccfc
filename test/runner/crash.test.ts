/**
 * SPEC 8's "its effect happens once": the server is killed (SIGKILL) while its Kubernetes PATCH
 * is in flight; the PATCH lands after it died; a new process on the same store resumes the run
 * with the same plan and the next attempt. One restart (the same restartedAt), one result comment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { bearer } from '../helpers/app.js'
import { startSimulator, TEST_TOKEN } from '../helpers/dynatrace.js'
import { deployment, startKubernetesSim } from '../helpers/kubernetes.js'
import { holdingProxy } from '../helpers/proxy.js'
import { startServer } from '../helpers/server-process.js'
import { NOW, notificationOf } from '../helpers/world.js'

t.test('kill -9 while the PATCH is in flight: after a restart, one effect and one comment', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-crash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const dt = await startSimulator(t, { now: () => NOW })
  const checkout = dt.sim.addWorkload({ namespace: 'shop', name: 'checkout', cluster: 'eu-1' } as never)
  const { problem } = await dt.sim.openProblem({ title: 'Process crashes', impactedEntities: [checkout.service.entityId], severityLevel: 'AVAILABILITY', startTime: NOW, notify: false } as never)
  const k8s = await startKubernetesSim(t)
  k8s.sim.apply(deployment('checkout', 'checkout:1.4.2'))
  const proxy = await holdingProxy(t, k8s.url, (method, url) => method === 'PATCH' && url.startsWith('/apis/apps/v1/namespaces/shop/deployments/checkout') && !url.includes('dryRun'))
  writeFileSync(join(dir, 'kubeconfig'), k8s.sim.kubeconfig().replaceAll(k8s.url, proxy.url))
  writeFileSync(join(dir, 'rules.yaml'), 'mode: live\nrules:\n  - name: restart-crashing\n    on: problem\n    when: { entityTypes: [SERVICE] }\n    actions: [{ use: kubernetes.restart }]\n')
  const env = {
    DTR_DATA_DIR: join(dir, 'data'),
    DTR_RULES_FILE: join(dir, 'rules.yaml'),
    DTR_KUBECONFIG: join(dir, 'kubeconfig'),
    DTR_DYNATRACE_URL: dt.url,
    DTR_DYNATRACE_TOKEN: TEST_TOKEN,
    DTR_WEBHOOK_TOKENS: 'password',
    DTR_LOG_LEVEL: 'info',
  }

  const first = await startServer(t, env)
  const res = await fetch(`${first.url}/webhooks/problem`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify(notificationOf(dt, problem).body) })
  t.equal(res.status, 202)
  const patch = await proxy.held()
  first.child.kill('SIGKILL')
  t.equal(await first.exited, 'SIGKILL')
  patch.release()
  proxy.open()

  const second = await startServer(t, env)
  await second.waitForLog((l) => l.msg === 'comment posted')
  t.ok(second.logs.some((l) => l.msg === 'resuming jobs a previous process left leased (it stopped without releasing them)'), 'the restart takes over at once')

  const patches = k8s.sim.requests.filter((r) => r.method === 'PATCH' && !r.dryRun)
  t.equal(patches.length, 2, 'the interrupted attempt and the resumed one')
  // Each carries the resourceVersion it read as precondition; the change itself is the same.
  const change = (body: unknown): unknown => (body as { spec?: unknown }).spec
  t.same(change(patches[1]?.body), change(patches[0]?.body), 'the same restartedAt: one change, sent twice')
  t.equal(k8s.sim.list('ReplicaSet', 'shop').length, 2, 'one restart: one new ReplicaSet')
  const comments = problem.comments.map((c) => c.content)
  t.equal(comments.length, 1, 'exactly one result comment')
  t.match(comments[0], /^✅ kubernetes\.restart succeeded on Deployment shop\/checkout/)
  t.match(comments[0], /2 attempts/)
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)
})
