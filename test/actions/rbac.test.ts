/**
 * The shipped RBAC (deploy/kubernetes/rbac.yaml) must grant exactly what the actions use: every
 * action runs against the simulator with those rules enforced, every request it made must be
 * allowed by them, and every rule must have been needed by some request.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { createRestartAction, createRollbackAction, createScaleAction } from '../../actions/index.js'
import type { Target } from '../../src/domain/target.js'
import { runAction } from '../../src/sdk/testing.js'
import { allows, type PolicyRule } from '../../sim/kubernetes/rbac.js'
import { daemonSet, deployment, hpa, startKubernetesSim, statefulSet } from '../helpers/kubernetes.js'

const rbacFile = new URL('../../deploy/kubernetes/rbac.yaml', import.meta.url)

function shippedRules (): PolicyRule[] {
  const docs = parseAllDocuments(readFileSync(rbacFile, 'utf8')).map((d) => d.toJS() as { kind?: string, rules?: PolicyRule[] })
  const roles = docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role')
  return roles.flatMap((r) => r.rules ?? [])
}

t.test('deploy/kubernetes/rbac.yaml grants exactly what the Kubernetes actions use', async (t) => {
  const rules = shippedRules()
  t.ok(rules.length > 0, 'the file has a Role or ClusterRole with rules')
  const { sim, kube } = await startKubernetesSim(t)
  for (const image of ['checkout:1.4.1', 'checkout:1.4.2']) sim.apply(deployment('checkout', image))
  for (const image of ['cart:1.0', 'cart:1.1']) sim.apply(deployment('cart', image))
  sim.apply(hpa('cart', { kind: 'Deployment', name: 'cart' }, 2, 6))
  for (const image of ['postgres:16.2', 'postgres:16.3']) sim.apply(statefulSet('cart-db', image))
  for (const image of ['fluent-bit:3.0', 'fluent-bit:3.1']) sim.apply(daemonSet('log-agent', image))
  sim.clearRequests()
  sim.setRules(rules)

  const targets: Target[] = [
    { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
    { kind: 'StatefulSet', namespace: 'shop', name: 'cart-db' },
    { kind: 'DaemonSet', namespace: 'shop', name: 'log-agent' },
  ]
  const runs = [
    ...targets.flatMap((target) => [
      runAction(createRollbackAction(kube), { target, dryRun: true }),
      runAction(createRestartAction(kube), { target, dryRun: true }),
    ]),
    runAction(createScaleAction(kube), { target: targets[0] as Target, params: { by: 1, max: 10 }, dryRun: true }),
    runAction(createScaleAction(kube), { target: targets[1] as Target, params: { by: 1, max: 10 }, dryRun: true }),
    runAction(createScaleAction(kube), { target: { kind: 'Deployment', namespace: 'shop', name: 'cart' }, params: { by: 1, max: 10 }, dryRun: true }),
  ]
  for (const { outcome } of await Promise.all(runs)) t.equal(outcome.status, 'succeeded', outcome.status === 'succeeded' ? outcome.summary : outcome.status === 'skipped' ? outcome.reason : outcome.summary)

  const calls = new Set<string>()
  for (const request of sim.requests) {
    const call = `${request.verb ?? '?'} ${request.group ?? '?'}/${request.resource ?? '?'}${request.subresource === undefined ? '' : `/${request.subresource}`}`
    calls.add(call)
    t.ok(request.verb !== undefined && allows(rules, { verb: request.verb, group: request.group ?? '', resource: request.resource ?? '', subresource: request.subresource, namespace: request.namespace ?? '' }), `allowed: ${call}`)
    t.not(request.statusCode, 403, `not forbidden: ${call}`)
  }
  const granted = rules.flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${verb} ${group}/${resource}`))))
  t.notOk(granted.some((g) => g.includes('*')), 'no wildcards')
  t.same(granted.filter((g) => !calls.has(g)), [], 'every granted verb and resource is used by an action')
})
