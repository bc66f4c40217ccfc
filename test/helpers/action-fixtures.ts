/**
 * A world for each built-in action, for the contract test (test/actions/contract.test.ts) — the
 * way ESLint's RuleTester gives each rule its cases. A fixture builds a fresh world in which the
 * action has something to do, and says how to observe it: `state()` is what a change would
 * alter, `writes()` the requests that reached the world with whether each was a dry run. An
 * action added to actions/ without a fixture here fails the contract test.
 */
import type { Test } from 'tap'
import { builtinActions } from '../../actions/index.js'
import type { Target } from '../../src/domain/target.js'
import type { AnyAction } from '../../src/sdk/index.js'
import type { RunActionOptions } from '../../src/sdk/testing.js'
import { startHttpSink } from './http-sink.js'
import { deployment, startKubernetesSim } from './kubernetes.js'

export interface ActionWorld {
  readonly action: AnyAction
  /** What runAction needs besides params: the target, readers, a fixed plannedAt. */
  readonly options: RunActionOptions
  /** A JSON snapshot of what the action may change. */
  state(): unknown
  /** Every request that reached the world so far, and whether it was a read or a dry run. */
  writes(): Array<{ readonly what: string, readonly dryRun: boolean }>
}

export type ActionFixture = (t: Test) => Promise<ActionWorld>

/** What `${env:…}` gives in the READMEs' examples. */
export const exampleEnv: Readonly<Record<string, string>> = {
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXXXXXX',
  CI_TOKEN: 'ci-token-from-the-environment',
}

const checkout: Target = { kind: 'Deployment', namespace: 'shop', name: 'checkout' }
const plannedAt = Date.parse('2024-05-01T10:15:42Z')

/** shop/checkout at revision 4 (checkout:1.4.2), with revisions 1–3 (1.3.9, 1.4.0, 1.4.1) behind it. */
async function kubernetesWorld (t: Test, name: string): Promise<ActionWorld> {
  const { sim, kube } = await startKubernetesSim(t)
  for (const version of ['1.3.9', '1.4.0', '1.4.1', '1.4.2']) sim.apply(deployment('checkout', `checkout:${version}`))
  sim.clearRequests()
  const action = builtinActions({ kubernetes: kube }).find((a) => a.name === name)
  if (action === undefined) throw new Error(`no built-in action ${name}`)
  return {
    action,
    options: { target: checkout, plannedAt },
    state: () => sim.snapshot().map((o) => ({ kind: o.kind, name: o.metadata.name, resourceVersion: o.metadata.resourceVersion })),
    writes: () => sim.requests.filter((r) => r.method !== 'GET').map((r) => ({ what: `${r.method} ${r.path}`, dryRun: r.dryRun })),
  }
}

/**
 * The hosts of the READMEs' examples, served by a local sink. The world is what a receiver that
 * honours `Idempotency-Key` would have done: one change per key (SPEC 7's "the same change, never
 * a second one" is the receiver's to keep once the request left; we keep the key stable).
 */
async function httpWorld (t: Test, name: string): Promise<ActionWorld> {
  const sink = await startHttpSink(t)
  const allowedHosts = [{ host: 'ci.example.com', port: undefined }, { host: 'hooks.slack.com', port: undefined }, { host: 'runbooks.example.com', port: undefined }]
  const action = builtinActions({ kubernetes: {} as never, allowedHosts, dispatcher: sink.dispatcher }).find((a) => a.name === name)
  if (action === undefined) throw new Error(`no built-in action ${name}`)
  return {
    action,
    options: { plannedAt, problem: { displayId: 'P-211020', title: 'Failure rate increase', url: 'https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=P' } },
    state: () => [...new Map(sink.requests.map((r) => [String(r.headers['idempotency-key']), `${r.method} ${r.host}${r.path} ${r.body}`])).entries()].sort(),
    writes: () => sink.requests.map((r) => ({ what: `${r.method} ${r.host}${r.path}`, dryRun: false })),
  }
}

export const actionFixtures: Readonly<Record<string, ActionFixture>> = {
  'http.request': async (t) => httpWorld(t, 'http.request'),
  'notify.slack': async (t) => httpWorld(t, 'notify.slack'),
  'kubernetes.rollback': async (t) => kubernetesWorld(t, 'kubernetes.rollback'),
  'kubernetes.restart': async (t) => kubernetesWorld(t, 'kubernetes.restart'),
  'kubernetes.scale': async (t) => kubernetesWorld(t, 'kubernetes.scale'),
}
