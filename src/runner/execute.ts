/**
 * Executing a run (SPEC 7–9): just before acting, the problem's status is read again (a closed
 * problem starts nothing); the safety gates decide, in one transaction serialised with every
 * other replica's (lockGates), and the run takes its target's lock and moves to `running` in that
 * same transaction, so no two runs pass one cooldown or overspend a budget; the action executes
 * with the plan fixed at planning, the attempt number and an AbortSignal for its timeout; the
 * outcome, the result comment and what follows are written together.
 *
 * A run found `running` was interrupted (a crash, a lost lease): it is resumed with the same plan
 * and the next attempt number — the gates were passed already and are not asked again — so its
 * effect happens once. A retryable fault puts the run back to `queued` until its timeout; a
 * TerminalError fails it at once.
 */
import { decideGates, type GateDecision } from '../domain/decide/gates.js'
import { describeTarget } from '../domain/target.js'
import { outcomeLine, type Outcome } from '../domain/outcome.js'
import type { RunState } from '../domain/runs.js'
import { isRetryable, TerminalError } from '../errors.js'
import { executeAction } from '../sdk/index.js'
import type { Job } from '../store/queue.js'
import type { RunRecord } from '../store/runs.js'
import { backoffMs, type RunnerDeps } from './deps.js'
import { runInputs, type RunPlan } from './plan.js'
import { addApprovalRequest } from './approvals.js'
import { factsOf } from './facts.js'
import { finishRun } from './finish.js'
import { lockName } from './lock.js'
import { QUEUES, type TimerJob } from './queues.js'
import { gateFacts, skipAnnotated } from './gates.js'
import { problemStatus } from './status.js'
import { ruleGone } from './reload.js'
import type { JobContext, JobResult } from './worker.js'

export interface RunJob { readonly runId: string }

/** The plan's inputs again, from what the run kept. */
function inputsFor (deps: RunnerDeps, run: RunRecord, signal: AbortSignal, log: JobContext['log']) {
  const facts = factsOf(run)
  // A run stored before EnvSites existed has none: its `${env:…}` stay text rather than scanning data for them.
  const plan: Pick<RunPlan, 'entity' | 'target' | 'params' | 'envSites' | 'deploymentEvent'> = { entity: facts.entity, target: run.target, params: run.params, envSites: facts.envSites ?? [], deploymentEvent: facts.deploymentEvent }
  return runInputs(plan as RunPlan, { problem: facts.problem, rules: deps.rules().rules, readers: deps.readers, env: deps.env, plannedAt: facts.plannedAt, signal, log })
}

type Admission =
  | { readonly go: true, readonly run: RunRecord }
  | { readonly go: false, readonly result: JobResult }

/** What admission answers when the run was no longer `queued`: nothing to do, it moved on. */
const movedOn: GateDecision = { decision: 'skip', gate: 'pause', reason: 'the run moved on meanwhile', results: [] }

/** Gates, lock and the move to running, in one transaction. */
async function admit (deps: RunnerDeps, run: RunRecord, ctx: JobContext): Promise<Admission> {
  const annotation = await skipAnnotated(deps, run, ctx.signal)
  const now = deps.clock.now()
  if (!annotation.read) {
    // Fail closed (SPEC 9): an unreadable workload is not "not annotated".
    if (now - run.queuedAt < run.settings.timeoutMs) return { go: false, result: { status: 'retry', delayMs: deps.timings.statusRetryMs, error: annotation.reason } }
    const reason = `skipped by scope: ${annotation.reason}, for longer than the run's timeout; not acting without it`
    await finishRun(deps, run, ['queued'], 'skipped', { reason, skipSource: 'gate', note: 'workload unreadable' })
    return { go: false, result: { status: 'done' } }
  }
  const skipAnnotation = annotation.annotated
  const outcome = await deps.store.transaction(async (tx): Promise<{ decision: GateDecision, run?: RunRecord }> => {
    await tx.lockGates()
    const current = await tx.runs.get(run.id)
    if (current === undefined || current.state !== 'queued') return { decision: movedOn }
    const decision = decideGates(await gateFacts(deps, tx, current, skipAnnotation, now))
    // Every gate's result is kept with the run (the console shows them); a wait for the lock is
    // not, as it repeats until the lock frees or the run times out.
    const gates = [...current.gates, { at: now, decision: decision.decision, results: decision.results }]
    if (decision.decision === 'run') {
      const lock = lockName(current)
      if (lock !== undefined && !(await tx.leases.acquire(lock, current.id, current.settings.timeoutMs + deps.timings.leaseMs * 3))) {
        return { decision: { decision: 'wait', gate: 'lock', reason: `waiting for the lock on ${describeTarget(current.target as NonNullable<RunRecord['target']>)}`, results: decision.results } }
      }
      const notes = decision.notes.length === 0 ? '' : `; ${decision.notes.join('; ')}`
      const started = await tx.runs.transition(current.id, ['queued'], 'running', `attempt ${current.attempts + 1}${decision.dryRun ? ' (dry run)' : ''}: the gates passed${notes}`, {
        attempts: current.attempts + 1,
        dryRun: decision.dryRun,
        startedAt: current.startedAt ?? now,
        gates,
        ...(decision.notes.length === 0 ? {} : { reason: decision.notes.join('; ') }),
      })
      // No row moved: between the read and this update the run moved on (a RESOLVED cancelled
      // it, a reload removed its rule). It must not start, and the lock it just took is given back.
      if (!started) {
        if (lock !== undefined) await tx.leases.release(lock, current.id)
        return { decision: movedOn }
      }
      return { decision, run: await tx.runs.get(current.id) }
    }
    if (decision.decision === 'skip') {
      await finishRun(deps, current, ['queued'], 'skipped', { reason: decision.reason, skipSource: 'gate', note: decision.reason }, tx)
      await tx.runs.update(current.id, { gates })
    } else if (decision.decision === 'approval') {
      // Only a run that really moved to awaiting_approval asks for approval and gets an expiry.
      const waiting = await tx.runs.transition(current.id, ['queued'], 'awaiting_approval', decision.reason, { reason: decision.reason, gates })
        ? await tx.runs.get(current.id)
        : undefined
      if (waiting === undefined) return { decision: movedOn }
      await addApprovalRequest(deps, tx, waiting)
      await tx.jobs.enqueue(QUEUES.timer, `expire:${current.id}`, { type: 'expire', runId: current.id } satisfies TimerJob, { delayMs: current.settings.approvalTimeoutMs })
    } else if (now - current.queuedAt >= current.settings.timeoutMs) {
      const reason = `skipped by lock: ${decision.reason.replace(/^waiting for /, '')} for longer than the timeout`
      await finishRun(deps, current, ['queued'], 'skipped', { reason, skipSource: 'gate', note: reason }, tx)
      await tx.runs.update(current.id, { gates })
    }
    return { decision }
  })
  if (outcome.decision.decision === 'run' && outcome.run !== undefined) return { go: true, run: outcome.run }
  if (outcome.decision.decision === 'wait') {
    const current = await deps.store.runs.get(run.id)
    if (current?.state === 'queued') return { go: false, result: { status: 'retry', delayMs: deps.timings.lockRetryMs, error: outcome.decision.reason } }
  }
  if (outcome.decision.decision === 'approval') ctx.log.info({ problemId: run.problemId, runId: run.id }, outcome.decision.reason)
  return { go: false, result: { status: 'done' } }
}

/**
 * A run whose job failed for good as poison (its holder died each time it ran, or it failed alike
 * each time): it ends `failed`, saying why, with its comment and its lock released, instead of
 * staying queued or running with nothing left to move it. Only from a state that has not ended.
 */
export async function failPoisonedRun (deps: RunnerDeps, runId: string, error: string): Promise<void> {
  const run = await deps.store.runs.get(runId)
  if (run === undefined || (run.state !== 'queued' && run.state !== 'running')) return
  const reason = `failed for good, not tried again: ${error}`
  await finishRun(deps, run, [run.state], 'failed', { reason, note: reason })
}

/**
 * Interrupted while running: take the target's lock again and resume with the next attempt, in one
 * transaction. The lock was ours, but an interruption longer than its lease let another run take
 * it: then this one waits for it like any run (another action on the target must not overlap), and
 * fails once its timeout has passed — it is not skipped, its change may be half made. The move
 * running → running decides: if it touches no row the run moved on, and nothing is resumed.
 */
async function resume (deps: RunnerDeps, run: RunRecord): Promise<Admission> {
  const lock = lockName(run)
  const outcome = await deps.store.transaction(async (tx): Promise<'resumed' | 'moved' | 'wait' | 'failed'> => {
    if (lock !== undefined && !(await tx.leases.acquire(lock, run.id, run.settings.timeoutMs + deps.timings.leaseMs * 3))) {
      if (deps.clock.now() < (run.startedAt ?? run.queuedAt) + run.settings.timeoutMs) return 'wait'
      const reason = `timed out after ${Math.round(run.settings.timeoutMs / 1000)} s: interrupted, then waiting for the lock on ${describeTarget(run.target as NonNullable<RunRecord['target']>)}, which another run holds`
      return await finishRun(deps, run, ['running'], 'failed', { reason, note: reason }, tx) ? 'failed' : 'moved'
    }
    const moved = await tx.runs.transition(run.id, ['running'], 'running', `attempt ${run.attempts + 1}: resumed after an interruption, with the same plan`, { attempts: run.attempts + 1 })
    if (moved) return 'resumed'
    if (lock !== undefined) await tx.leases.release(lock, run.id)
    return 'moved'
  })
  if (outcome === 'resumed') return { go: true, run: { ...run, attempts: run.attempts + 1 } }
  if (outcome === 'wait') return { go: false, result: { status: 'retry', delayMs: deps.timings.lockRetryMs, error: `resuming waits for the lock on ${describeTarget(run.target as NonNullable<RunRecord['target']>)}` } }
  return { go: false, result: { status: 'done' } }
}

export async function handleRun (deps: RunnerDeps, job: Job<RunJob>, ctx: JobContext): Promise<JobResult> {
  let run = await deps.store.runs.get(job.payload.runId)
  if (run === undefined || (run.state !== 'queued' && run.state !== 'running')) return { status: 'done' }
  const log = ctx.log.child({ problemId: run.problemId, runId: run.id, action: run.action })
  const action = deps.rules().registry.get(run.action)
  if (action === undefined) {
    await finishRun(deps, run, [run.state], 'failed', { reason: `action ${run.action} is no longer registered (the rules were reloaded without it)`, note: 'action gone' })
    return { status: 'done' }
  }

  // A rule or step removed by a reload (this replica's or, through the store, another's) starts nothing.
  const gone = run.state === 'queued' ? ruleGone(deps.rules().rules, run) : undefined
  if (gone !== undefined) {
    await finishRun(deps, run, ['queued'], 'cancelled', { reason: gone, note: gone })
    return { status: 'done' }
  }

  // Right before acting: a problem that closed meanwhile starts nothing.
  const status = await problemStatus(run, deps.store, deps.dynatrace, ctx.signal)
  if (status === 'closed') {
    if (run.state === 'queued') {
      await finishRun(deps, run, ['queued'], 'cancelled', { reason: 'the problem was closed before the action started', note: 'problem closed' })
      return { status: 'done' }
    }
    log.info('the problem closed while the run was interrupted; resuming it, since its change may be half made')
  }
  if (status === 'unreadable' && run.state === 'queued') {
    if (deps.clock.now() - run.queuedAt < run.settings.timeoutMs) return { status: 'retry', delayMs: deps.timings.statusRetryMs, error: 'the problem status could not be read' }
    await finishRun(deps, run, ['queued'], 'skipped', { reason: 'skipped: the problem status could not be read before the action, for longer than its timeout; not acting without it', skipSource: 'gate', note: 'status unreadable' })
    return { status: 'done' }
  }

  if (run.state === 'queued') {
    const admitted = await admit(deps, run, ctx)
    if (!admitted.go) return admitted.result
    run = admitted.run
  } else {
    const resumed = await resume(deps, run)
    if (!resumed.go) return resumed.result
    run = resumed.run
  }

  const started = run.startedAt ?? deps.clock.now()
  const deadline = started + run.settings.timeoutMs
  const timeout = new AbortController()
  const timer = new AbortController()
  deps.clock.sleep(Math.max(0, deadline - deps.clock.now()), timer.signal).then(() => timeout.abort(new TerminalError(`timed out after ${run.settings.timeoutMs} ms`)), () => {})
  const signal = AbortSignal.any([ctx.signal, timeout.signal])
  let outcome: Outcome
  try {
    outcome = await executeAction(action, { ...inputsFor(deps, run, signal, log), plan: run.plan, dryRun: run.dryRun, attempt: run.attempts, runId: run.id })
    // Interrupted (lease lost, shutdown): record nothing; whoever resumes it finds what was done.
    if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('interrupted')
  } catch (err) {
    if (ctx.signal.aborted) throw err
    const timedOut = timeout.signal.aborted
    if (!timedOut && isRetryable(err) && deps.clock.now() < deadline) {
      const note = `attempt ${run.attempts} failed and will be retried: ${(err as Error).message}`
      const requeued = await deps.store.transaction(async (tx) => {
        if (!(await tx.runs.transition(run.id, ['running'], 'queued', note, { reason: (err as Error).message }))) return false
        const lock = lockName(run)
        if (lock !== undefined) await tx.leases.release(lock, run.id)
        return true
      })
      // Not requeued: the run moved on meanwhile (another process ended it); nothing to retry.
      if (!requeued) return { status: 'done' }
      log.warn({ err }, note)
      return { status: 'retry', delayMs: backoffMs(run.attempts, deps.timings, deps.random), error: (err as Error).message }
    }
    const why = timedOut ? `timed out after ${Math.round(run.settings.timeoutMs / 1000)} s` : (err as Error).message
    outcome = { status: 'failed', summary: timedOut && !(err instanceof TerminalError) ? `${why} (last error: ${(err as Error).message})` : why }
  } finally {
    timer.abort()
  }
  const durationMs = deps.clock.now() - started
  const to: RunState = outcome.status === 'succeeded' ? (run.dryRun ? 'dry_run' : 'succeeded') : outcome.status
  const line = outcomeLine(outcome)
  // A dry run keeps the gates' "would be …" notes as its reason: they are what it reports.
  const reason = outcome.status === 'succeeded' ? (run.dryRun ? run.reason : null) : line
  // No row moved: another process ended this run meanwhile (it took the job over); its end stands.
  if (!(await finishRun(deps, run, ['running'], to, { reason, outcome, skipSource: outcome.status === 'skipped' ? 'action' : null, note: line, durationMs }))) {
    log.warn({ state: to }, 'the run had moved on when its action returned; its outcome is not recorded over the state it reached')
    return { status: 'done' }
  }
  deps.metrics.runDuration.observe({ action: run.action }, durationMs / 1000)
  return { status: 'done' }
}
