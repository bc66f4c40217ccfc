/**
 * `npm run demo` / `dt-remediator demo [--keep]`: the whole loop in one command, against the
 * simulators only. It starts the Kubernetes simulator (shop/checkout and shop/cart), the
 * Dynatrace simulator (the same workloads as Dynatrace models them, its webhook pointed at the
 * service) and the service itself (live mode, an embedded store in a temporary directory), then
 * plays the story: Dynatrace's "Send test notification", a release of checkout 1.4.2 recorded as
 * a CUSTOM_DEPLOYMENT event, a failure-rate problem notified the way Dynatrace sends it, the
 * rollback to 1.4.1 and its comment, the problem resolving and the verdict; a second problem
 * stopped by the cooldown; a restart that waits for approval and runs once approved. It prints a
 * timeline as it happens and the problems' comments as Dynatrace shows them, and removes its
 * temporary directory when it ends — unless --keep leaves the three running for exploration,
 * with the operator console's URL, a sign-in token and one more run awaiting approval there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, configuredKubernetes, rulesLoader } from '../src/app.js'
import type { ExitCode } from '../src/cli/verb.js'
import { loadConfig } from '../src/config.js'
import { RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE } from '../src/dynatrace/templates.js'
import { openStore, type Store } from '../src/store/index.js'
import { buildDynatraceSimulator, DEFAULT_SIM_TOKEN, type DynatraceSimulator, type SimProblem } from './dynatrace/index.js'
import { buildKubernetesSimulator, type KubernetesSimulator } from './kubernetes/app.js'
import type { Obj } from './kubernetes/patch.js'
import { untilStopSignal } from './signals.js'

export const DEMO_RULES = `# The demo's rules (written to its temporary directory). verifyAfter is seconds, not minutes,
# so the story ends while you watch.
mode: live
defaults: { cooldown: 30m, verifyAfter: 5s, timeout: 1m, approvalTimeout: 10m }
rules:
  - name: rollback-bad-deploy
    on: problem
    when:
      entityTypes: [SERVICE]
      title: "failure rate|response time"
      deployedWithin: 30m
    actions:
      - use: kubernetes.rollback
  - name: restart-leaking-service
    on: problem
    when:
      entityTypes: [SERVICE]
      title: "memory"
    approval: true
    actions:
      - use: kubernetes.restart
`

const WEBHOOK_TOKEN = 'demo-webhook-token'
const ADMIN_TOKEN = 'demo-admin-token'

export interface DemoOptions {
  /** Leave the service and both simulators running (until Ctrl-C). */
  readonly keep?: boolean
  /** Where the story is printed (stdout by default). */
  readonly write?: (text: string) => void
  /** How long to wait for each step before giving up (the demo fails rather than hangs). */
  readonly stepTimeoutMs?: number
  /** With --keep: resolves when the demo should stop (default: Ctrl-C or SIGTERM); tests look around first. */
  readonly untilStop?: (kept: KeptDemo) => Promise<unknown>
}

/** What --keep leaves running, for a person (printed) or a test (passed to untilStop). */
export interface KeptDemo {
  readonly consoleUrl: string
  readonly adminToken: string
  /** The run left awaiting approval, to approve in the console. */
  readonly awaitingRunId: string
}

function deployment (name: string, image: string): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop', labels: { app: name } },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } } },
  }
}

const imageOf = (k8s: KubernetesSimulator, name: string): string | undefined =>
  ((k8s.get('Deployment', 'shop', name)?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined)?.template?.spec?.containers?.[0]?.image)

export async function runDemo (options: DemoOptions = {}): Promise<ExitCode> {
  const write = options.write ?? ((text: string) => { process.stdout.write(text) })
  const stepTimeoutMs = options.stepTimeoutMs ?? 30_000
  const started = Date.now()
  const say = (step: string, text: string): void => { write(`[+${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${step.padEnd(12)} ${text}\n`) }
  const dir = mkdtempSync(join(tmpdir(), 'dtr-demo-'))
  const closers: Array<() => Promise<void>> = []
  let exit: ExitCode = 0
  try {
    // --- the Kubernetes simulator: checkout 1.4.1 and cart 2.0.0 in namespace shop ---------------
    // Its clock runs behind for the first revisions, so that they are as old as a real release.
    let k8sOffsetMs = -2 * 3_600_000
    const k8s = await buildKubernetesSimulator({ now: () => Date.now() + k8sOffsetMs, objects: [deployment('checkout', 'checkout:1.4.1'), deployment('cart', 'cart:2.0.0')] })
    closers.push(async () => k8s.close())
    const k8sUrl = await k8s.listen()
    const kubeconfig = join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, k8s.kubeconfig(), { mode: 0o600 })
    say('kubernetes', `API server simulator at ${k8sUrl}: Deployment shop/checkout runs checkout:1.4.1, shop/cart runs cart:2.0.0`)

    // --- the Dynatrace simulator: the same workloads, as Dynatrace models them ------------------
    const dt = await buildDynatraceSimulator()
    closers.push(async () => dt.app.close())
    const dtUrl = await dt.app.listen({ port: 0, host: '127.0.0.1' })
    const sim: DynatraceSimulator = dt.sim
    const checkout = sim.addWorkload({ namespace: 'shop', name: 'checkout' })
    const cart = sim.addWorkload({ namespace: 'shop', name: 'cart' })
    say('dynatrace', `Environment API simulator at ${dtUrl}: services ${checkout.service.displayName} and ${cart.service.displayName}, each on its Kubernetes workload`)

    // --- the service ------------------------------------------------------------------------------
    const rulesFile = join(dir, 'remediation.yaml')
    writeFileSync(rulesFile, DEMO_RULES)
    const env = {
      DTR_HOST: '127.0.0.1',
      DTR_PORT: '0',
      DTR_DATA_DIR: join(dir, 'data'),
      DTR_RULES_FILE: rulesFile,
      DTR_DYNATRACE_URL: dtUrl,
      DTR_DYNATRACE_TOKEN: DEFAULT_SIM_TOKEN,
      DTR_KUBECONFIG: kubeconfig,
      DTR_WEBHOOK_TOKENS: WEBHOOK_TOKEN,
      DTR_ADMIN_TOKENS: `demo=${ADMIN_TOKEN}`,
    }
    const config = loadConfig(env, { readFile: () => { throw new Error('the demo reads no secret files') } })
    const store: Store = await openStore(config, {})
    closers.push(async () => store.close())
    const kubernetes = configuredKubernetes(config, env)
    const app: FastifyInstance = await buildApp({
      config,
      store,
      env,
      kubernetes,
      rules: { load: rulesLoader(config, env, kubernetes) },
      logger: { level: 'warn' },
      timings: { pollMs: 250, lockRetryMs: 250, statusRetryMs: 250, planRetryMs: 250 },
    })
    closers.push(async () => app.close())
    const serviceUrl = await app.listen({ port: 0, host: '127.0.0.1' })
    say('service', `dt-remediator at ${serviceUrl} (live mode; store in ${join(dir, 'data')})`)
    sim.setWebhook({ url: `${serviceUrl}/webhooks/problem`, headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` }, payload: RECOMMENDED_PROBLEM_PAYLOAD_TEMPLATE, notifyClosedProblems: true })
    say('dynatrace', `custom integration: POST ${serviceUrl}/webhooks/problem with "Authorization: Bearer …", the recommended payload template`)

    const waitFor = async <T>(what: string, check: () => T | undefined | Promise<T | undefined>): Promise<T> => {
      const deadline = Date.now() + stepTimeoutMs
      for (;;) {
        const value = await check()
        if (value !== undefined) return value
        if (Date.now() > deadline) throw new Error(`the demo waited ${stepTimeoutMs / 1000} s for ${what}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    const comment = async (problem: SimProblem, n: number): Promise<string> => waitFor(`comment ${n} on ${problem.displayId}`, () => [...problem.comments].reverse()[n - 1]?.content)
    const firstLine = (text: string): string => text.split('\n')[0] ?? ''

    // 1. Send test notification ------------------------------------------------------------------
    const test = await sim.sendTestNotification()
    const answer = test !== undefined && 'status' in test.response ? `${test.response.status} ${test.response.body}` : 'no answer'
    say('test', `Dynatrace's "Send test notification" → ${answer}`)

    // 2. A release of checkout 1.4.2, ten minutes ago ----------------------------------------------
    const releasedAt = Date.now() - 10 * 60_000
    k8sOffsetMs = releasedAt - Date.now()
    k8s.apply(deployment('checkout', 'checkout:1.4.2'))
    k8sOffsetMs = 0
    const pgi = checkout.processGroupInstances[0]
    sim.addDeployment({ entityId: pgi?.entityId ?? checkout.service.entityId, name: 'checkout', version: '1.4.2', title: 'Deploy checkout 1.4.2', releaseStage: 'production', startTime: releasedAt })
    say('deploy', `checkout:1.4.2 rolled out 10 min ago (Deployment shop/checkout at revision 2); CUSTOM_DEPLOYMENT event "Deploy checkout 1.4.2" on ${pgi?.displayName ?? 'its process group instance'}`)

    // 3. A failure-rate problem, notified as Dynatrace sends it -----------------------------------
    const { problem: failing, notification } = await sim.openProblem({ title: 'Failure rate increase on checkout-service', impactedEntities: [checkout.service.entityId], severityLevel: 'ERROR' })
    const accepted = notification !== undefined && 'status' in notification.response ? notification.response.status : 'no answer'
    say('problem', `${failing.displayId} "${failing.title}" opened on ${checkout.service.displayName}; the webhook answered ${accepted}`)

    // 4. The rule matches, the rollback runs, the comment appears ---------------------------------
    const result = await comment(failing, 1)
    say('kubernetes', `Deployment shop/checkout now runs ${imageOf(k8s, 'checkout') ?? '?'} (rolled back)`)
    say('comment', firstLine(result))

    // 5. The problem resolves (a couple of seconds later, as the error rate falls): the verdict ----
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    await sim.resolveProblem(failing.problemId)
    say('problem', `${failing.displayId} resolved in Dynatrace; the RESOLVED notification was sent`)
    const verdict = await comment(failing, 2)
    say('comment', firstLine(verdict))

    // 6. A second problem on checkout, within the cooldown -----------------------------------------
    const { problem: slow } = await sim.openProblem({ title: 'Response time degradation on checkout-service', impactedEntities: [checkout.service.entityId], severityLevel: 'PERFORMANCE' })
    say('problem', `${slow.displayId} "${slow.title}" opened`)
    const cooled = await comment(slow, 1)
    say('comment', `${firstLine(cooled)} — ${cooled.split('\n')[2] ?? ''}`)

    // 7. A restart that waits for approval -------------------------------------------------------
    const { problem: leak } = await sim.openProblem({ title: 'Memory saturation on cart-service', impactedEntities: [cart.service.entityId], severityLevel: 'RESOURCE_CONTENTION' })
    say('problem', `${leak.displayId} "${leak.title}" opened on ${cart.service.displayName}`)
    const request = await comment(leak, 1)
    say('comment', firstLine(request))
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }
    const waiting = await waitFor('the run awaiting approval', async () => {
      const res = await app.inject({ url: '/api/runs?state=awaiting_approval', headers })
      return (res.json() as { runs: Array<{ id: string }> }).runs[0]
    })
    const approved = await app.inject({ method: 'POST', url: `/api/runs/${waiting.id}/approve`, headers, payload: { by: 'you', reason: 'the demo approves' } })
    say('approval', `POST /api/runs/${waiting.id}/approve → ${approved.statusCode}`)
    const restarted = await comment(leak, 2)
    say('comment', firstLine(restarted))

    // The comments, as Dynatrace shows them on each problem ----------------------------------------
    write('\nComments, as Dynatrace shows them on the problems (oldest first):\n')
    for (const p of [failing, slow, leak]) {
      write(`\n── ${p.displayId} ${p.title} ${'─'.repeat(Math.max(4, 60 - p.title.length))}\n`)
      for (const c of [...p.comments].reverse()) write(`\n${c.content.split('\n').map((l) => `  ${l}`).join('\n')}\n`)
    }
    write(`\nLook at the Deployment yourself${options.keep === true ? '' : ' (run the demo with --keep first)'}:\n  kubectl --kubeconfig ${kubeconfig} -n shop rollout history deployment/checkout\n`)

    if (options.keep === true) {
      // One more run for a person to approve in the console: a memory problem on checkout (the
      // restart rule; checkout has not been restarted, so no cooldown stops it once approved).
      const { problem: leak2 } = await sim.openProblem({ title: 'Memory saturation on checkout-service', impactedEntities: [checkout.service.entityId], severityLevel: 'RESOURCE_CONTENTION' })
      say('problem', `${leak2.displayId} "${leak2.title}" opened on ${checkout.service.displayName}`)
      say('comment', firstLine(await comment(leak2, 1)))
      const pending = await waitFor('the second run awaiting approval', async () => {
        const res = await app.inject({ url: '/api/runs?state=awaiting_approval', headers })
        return (res.json() as { runs: Array<{ id: string }> }).runs[0]
      })
      const consoleUrl = `${serviceUrl}/ui/`
      write(`\nThe operator console: ${consoleUrl}\n  sign in with the admin token ${ADMIN_TOKEN}\n  run ${pending.id} is awaiting approval there: ${serviceUrl}/ui/runs/${pending.id}\n`)
      write(`\nRunning until Ctrl-C:\n  service     ${serviceUrl} (admin token ${ADMIN_TOKEN}, webhook token ${WEBHOOK_TOKEN})\n  dynatrace   ${dtUrl} (token ${DEFAULT_SIM_TOKEN})\n  kubernetes  ${k8sUrl} (kubeconfig ${kubeconfig})\n`)
      await (options.untilStop ?? untilStopSignal)({ consoleUrl, adminToken: ADMIN_TOKEN, awaitingRunId: pending.id })
    }
  } catch (err) {
    write(`\ndemo: ${(err as Error).message}\n`)
    exit = 1
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  if (exit === 0) write('\nThe demo is over: everything it started is stopped and its temporary directory removed.\n')
  return exit
}
