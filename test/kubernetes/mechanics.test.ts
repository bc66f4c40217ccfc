import t from 'tap'
import { TerminalError } from '../../src/errors.js'
import { KubernetesApiError, toActionError, withConflictRetry } from '../../src/kubernetes/errors.js'
import { detectGitOps } from '../../src/kubernetes/gitops.js'
import { resources } from '../../src/kubernetes/resources.js'
import { targetReplicas } from '../../src/kubernetes/scale.js'
import { describeImageChange, rfc3339, templatesEqualIgnoringHash } from '../../src/kubernetes/template.js'

t.test('detectGitOps', async (t) => {
  t.match(detectGitOps({ annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/checkout' } }), { manager: 'Argo CD', owner: 'Application shop' })
  t.match(detectGitOps({ labels: { 'argocd.argoproj.io/instance': 'shop' } }), { manager: 'Argo CD' })
  t.match(detectGitOps({ labels: { 'app.kubernetes.io/instance': 'shop' } }), { manager: 'Argo CD' }, 'label tracking without managed-by')
  t.equal(detectGitOps({ labels: { 'app.kubernetes.io/instance': 'shop', 'app.kubernetes.io/managed-by': 'Helm' } }), undefined, 'a Helm release is not Argo CD')
  t.match(detectGitOps({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } }), { manager: 'Flux', owner: 'Kustomization apps' })
  t.match(detectGitOps({ labels: { 'helm.toolkit.fluxcd.io/name': 'checkout', 'helm.toolkit.fluxcd.io/namespace': 'shop' } }), { manager: 'Flux', owner: 'HelmRelease shop/checkout' })
  t.equal(detectGitOps({ labels: { app: 'checkout' } }), undefined)
})

t.test('targetReplicas applies to/by/factor, then max, then min', async (t) => {
  t.same(targetReplicas(2, { to: 6, max: 10, min: 1 }), { to: 6, bound: null })
  t.same(targetReplicas(2, { by: -5, max: 10, min: 1 }), { to: 1, bound: 'min 1' })
  t.same(targetReplicas(3, { factor: 1.5, max: 10, min: 1 }), { to: 5, bound: null }, 'factor rounds up')
  t.same(targetReplicas(3, { factor: 10, max: 20, min: 1 }, { value: 8, name: 'HPA maxReplicas' }), { to: 8, bound: 'HPA maxReplicas 8' })
})

t.test('template helpers', async (t) => {
  const a = { metadata: { labels: { app: 'x', 'pod-template-hash': 'abc' } }, spec: { containers: [{ name: 'x', image: 'x:1' }] } }
  const b = { spec: { containers: [{ image: 'x:1', name: 'x' }] }, metadata: { labels: { app: 'x' } } }
  t.ok(templatesEqualIgnoringHash(a, b), 'equal ignoring pod-template-hash and key order')
  t.notOk(templatesEqualIgnoringHash(a, { ...b, spec: { containers: [{ name: 'x', image: 'x:2' }] } }))
  t.equal(describeImageChange([{ container: 'checkout', image: 'checkout:1.4.2' }], [{ container: 'checkout', image: 'checkout:1.4.1' }]), 'checkout:1.4.2 → checkout:1.4.1')
  t.equal(describeImageChange(
    [{ container: 'app', image: 'app:2' }, { container: 'envoy', image: 'envoy:1' }],
    [{ container: 'app', image: 'app:1' }, { container: 'envoy', image: 'envoy:1' }]), 'app: app:2 → app:1')
  t.equal(describeImageChange([{ container: 'a', image: 'a:1' }], [{ container: 'a', image: 'a:1' }]), 'images unchanged (a:1)')
  t.equal(rfc3339(Date.parse('2024-05-01T10:15:42.987Z')), '2024-05-01T10:15:42Z')
})

function apiError (responseStatus: number): KubernetesApiError {
  return new KubernetesApiError({ responseStatus, status: { reason: 'X', message: 'm' }, verb: 'patch', type: resources.Deployment, namespace: 'shop', name: 'checkout' })
}

t.test('toActionError', async (t) => {
  const forbidden = toActionError(new KubernetesApiError({ responseStatus: 403, status: { reason: 'Forbidden', message: 'no' }, verb: 'patch', type: resources.Deployment, namespace: 'shop', name: 'checkout', subresource: 'scale' }))
  t.ok(forbidden instanceof TerminalError)
  t.match((forbidden as Error).message, 'forbidden: cannot patch deployments.apps/scale in namespace shop — grant the service account the verb "patch" on resource "deployments/scale" in API group "apps"')
  t.ok(toActionError(apiError(422)) instanceof TerminalError, '422: our request is wrong, a retry would send the same')
  const retryable = apiError(503)
  t.equal(toActionError(retryable), retryable, '5xx is left for the runner to retry')
  const throttled = apiError(429)
  t.equal(toActionError(throttled), throttled, '429 is left for the runner to retry')
  const plain = new Error('socket hang up')
  t.equal(toActionError(plain), plain)
})

t.test('withConflictRetry retries 409 only, a bounded number of times', async (t) => {
  let calls = 0
  t.equal(await withConflictRetry(async () => { if (++calls < 3) throw apiError(409); return 'done' }), 'done')
  t.equal(calls, 3)
  calls = 0
  t.match(await withConflictRetry(async () => { calls++; throw apiError(409) }, { attempts: 2 }).catch((err: unknown) => err), { responseStatus: 409 })
  t.equal(calls, 2)
  calls = 0
  t.match(await withConflictRetry(async () => { calls++; throw apiError(500) }).catch((err: unknown) => err), { responseStatus: 500 })
  t.equal(calls, 1, 'other errors are not retried here')
})
