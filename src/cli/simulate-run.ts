/**
 * `dt-remediator simulate <payload.json> [--json] [--rules file]`: what the service would do with
 * a notification, without doing it. It enriches the notification against the configured Dynatrace
 * (DTR_DYNATRACE_URL: the real one, or the simulator), plans with the same planNotification the
 * runner uses, and runs every planned action once in dry-run, so each says in its own words what
 * it would change ("Dry run: would roll back Deployment shop/checkout: image checkout:1.4.2 →
 * checkout:1.4.1, revision 3 → 2"). Side effects: none — Dynatrace is only read, Kubernetes only
 * read or sent `dryRun=All`, http.request and notify.slack send nothing in dry-run.
 */
import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import type { Env } from '../config.js'
import type { Outcome } from '../domain/outcome.js'
import { kindOfBody } from '../domain/kinds/index.js'
import type { NotificationKind } from '../domain/payload.js'
import { createDynatraceClient, type DynatraceClient } from '../dynatrace/index.js'
import { dynatraceReader } from '../dynatrace/reader.js'
import { errorCodeOf } from '../errors.js'
import { kubernetesReader } from '../kubernetes/reader.js'
import { createMetrics } from '../metrics.js'
import { enrich, gateFacts, planNotification, runInputs, skipAnnotated, type GateFactSource, type NotificationInput, type NotificationPlan } from '../runner/index.js'
import { executeAction } from '../sdk/index.js'
import { decideGates } from '../domain/decide/gates.js'
import type { KubernetesReader } from '../kubernetes/reader.js'
import type { RuleSet } from '../sdk/index.js'
import { openStoreReadOnly, type ReadOnlyStore } from '../store/readonly.js'
import type { Config } from '../config.js'
import { renderPlan, type DryRun, type GateReport, type GateSummary } from './render.js'
import type { Output } from './output.js'
import { loadCliRules } from './rules.js'
import type { ExitCode } from './verb.js'

export interface SimulateOptions {
  readonly json?: boolean
  readonly rules?: string
}

export interface SimulateResult {
  readonly plan: NotificationPlan
  /** The dry-run outcome of every planned run, by run key. */
  readonly dryRuns: Readonly<Record<string, DryRun>>
  /** What the safety gates would decide now, for every planned run. */
  readonly gates: GateSummary
}

/**
 * The gates each planned run would meet now, from the store's facts (the kill switch, cooldowns,
 * budgets, locks) where the store can be read — opened read-only beside a running service — or
 * from none (then cooldowns and budgets are taken as unspent, and the source says so).
 */
async function gatesNow (plan: NotificationPlan, ruleSet: RuleSet, config: Config, env: Env, readers: { kubernetes: KubernetesReader }, now: number): Promise<GateSummary> {
  const runs: Record<string, GateReport> = {}
  let store: ReadOnlyStore | undefined
  let source: string
  try {
    store = await openStoreReadOnly(config)
    source = store === undefined ? `nothing: no store in ${config.databaseUrl === undefined ? `DTR_DATA_DIR ${config.dataDir}` : 'the database'} yet, so no cooldown or budget has been spent` : `the store (${store.description})`
  } catch (err) {
    source = `nothing: the store could not be read (${(err as Error).message}), so cooldowns and budgets are taken as unspent`
  }
  const empty = { runs: { lastStarted: async () => undefined, countStarted: async () => 0, distinctTargets: async () => 0 }, leases: { holder: async () => undefined }, settings: { get: async () => undefined } }
  const facts = (store ?? empty) as GateFactSource
  const deps = { rules: () => ruleSet, ownNamespace: env.POD_NAMESPACE, metrics: createMetrics() }
  try {
    for (const run of plan.rules.flatMap((r) => r.runs)) {
      if (run.status !== 'planned') continue
      const rule = ruleSet.rules.rules.find((r) => r.name === run.rule)
      const gateRun = {
        id: `simulate:${run.runKey}`,
        action: run.action,
        target: run.target,
        kind: plan.kind,
        problemId: plan.problemId,
        displayId: plan.displayId ?? null,
        rule: run.rule,
        occurrence: plan.occurrence,
        dryRun: rule?.dryRun === true || ruleSet.rules.mode !== 'live',
        approvedBy: null,
        settings: { cooldownMs: rule?.cooldownMs ?? ruleSet.rules.defaults.cooldownMs, approval: rule?.approval ?? false },
      }
      const skip = await skipAnnotated({ readers: { dynatrace: unavailableDynatrace, kubernetes: readers.kubernetes } }, gateRun, AbortSignal.timeout(10_000))
      if (!skip.read) {
        runs[run.runKey] = { decision: 'wait', dryRun: gateRun.dryRun, notes: [`${skip.reason}: the runner would read it again within the run's timeout, then skip; it never acts without it`] }
        continue
      }
      const f = await gateFacts(deps, facts, gateRun, skip.annotated, now)
      const decision = decideGates({ ...f, targets: { count: plan.targets.length, max: plan.maxTargetsPerProblem } })
      runs[run.runKey] = decision.decision === 'run'
        ? { decision: 'run', dryRun: decision.dryRun, notes: decision.notes }
        : { decision: decision.decision, dryRun: gateRun.dryRun, notes: [decision.reason] }
    }
  } finally {
    await store?.close()
  }
  return { source, runs }
}

function readPayload (file: string): { kind: NotificationKind, body: Record<string, unknown>, problemId: string, test: boolean } | string {
  let body: unknown
  try {
    body = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    return `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(err as Error).message})`}`
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return `${file}: a notification body is a JSON object`
  const kind = kindOfBody(body)
  const parsed = kind.parse(body)
  if (!parsed.ok) return `${file}: the webhook would answer 400: ${parsed.errors.join('; ')}`
  const { problemId } = kind.identity(parsed.value)
  return { kind: kind.kind, body: body as Record<string, unknown>, problemId, test: kind.isTest(parsed.value) }
}

export async function simulate (payloadFile: string, options: SimulateOptions, env: Env, io: Output, now: () => number = Date.now): Promise<ExitCode> {
  const payload = readPayload(payloadFile)
  if (typeof payload === 'string') {
    io.err(`simulate: ${payload}\n`)
    return 1
  }
  if (payload.test) {
    const message = 'This is Dynatrace\'s test notification: the service answers 200 {"status":"test"} and does nothing else.'
    io.out(options.json === true ? `${JSON.stringify({ test: true, message })}\n` : `${message}\n`)
    return 0
  }
  const loaded = await loadCliRules(env, options.rules)
  if (!loaded.ok) {
    io.err(`simulate: ${loaded.message}\n`)
    return 1
  }
  if (!loaded.result.ok) {
    io.err(`simulate: ${loaded.file} does not load:\n${loaded.result.errors.map((e) => `  ${e}\n`).join('')}`)
    return 1
  }
  const { config } = loaded
  const { rules, registry } = loaded.result.ruleSet
  const log = pino({ level: 'silent' })
  let client: DynatraceClient | undefined
  const notes: string[] = []
  if (config.dynatrace !== undefined) {
    if (config.dynatrace.token === undefined) notes.push('DTR_DYNATRACE_URL is set without DTR_DYNATRACE_TOKEN: Dynatrace was not read')
    else client = createDynatraceClient({ url: config.dynatrace.url, token: config.dynatrace.token, metrics: createMetrics(), logger: log })
  }
  try {
    const notification: NotificationInput = { kind: payload.kind, problemId: payload.problemId, body: payload.body, receivedAt: now() }
    const enrichment = await enrich(notification, { dynatrace: client, longestDeployedWithinMs: rules.longestDeployedWithinMs, readClusters: config.clusterName !== undefined, log })
    const readers = {
      dynatrace: client === undefined ? unavailableDynatrace : dynatraceReader(client),
      kubernetes: kubernetesReader(loaded.kubernetes),
    }
    const plannedAt = now()
    const plan = await planNotification({ notification, enrichment: { ...enrichment, notes: [...notes, ...enrichment.notes] }, rules, registry, readers, env, clusterName: config.clusterName, occurrence: 1, plannedAt, log })
    const dryRuns: Record<string, DryRun> = {}
    for (const run of plan.rules.flatMap((r) => r.runs)) {
      if (run.status !== 'planned') continue
      const action = registry.get(run.action)
      if (action === undefined) continue
      try {
        const inputs = runInputs(run, { problem: plan.problem, rules, readers, env, plannedAt, signal: AbortSignal.timeout(rules.rules.find((r) => r.name === run.rule)?.timeoutMs ?? rules.defaults.timeoutMs), log })
        const outcome: Outcome = await executeAction(action, { ...inputs, plan: run.plan, dryRun: true, attempt: 1, runId: `simulate:${run.runKey}` })
        dryRuns[run.runKey] = { outcome }
      } catch (err) {
        dryRuns[run.runKey] = { error: { code: errorCodeOf(err), message: (err as Error).message } }
      }
    }
    const gates = await gatesNow(plan, loaded.result.ruleSet, config, env, readers, now())
    const result: SimulateResult = { plan, dryRuns, gates }
    io.out(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : renderPlan(plan, dryRuns, { color: io.color, dynatrace: client === undefined ? undefined : client.environment.href, gates }))
    return 0
  } finally {
    await client?.close()
  }
}

const unavailableDynatrace = {
  getProblem: async (): Promise<never> => { throw new Error('DTR_DYNATRACE_URL is not set') },
  getEntity: async (): Promise<never> => { throw new Error('DTR_DYNATRACE_URL is not set') },
}
