/**
 * simulate's explanation for a person: per rule whether it matched or why not, per impacted
 * entity its target and the source that resolved it, per run the planned change in the action's
 * own words. Aligned columns; colour only when asked (a terminal). Pure.
 */
import type { Outcome } from '../domain/outcome.js'
import { kindTitle } from '../domain/kinds/index.js'
import { formatDuration } from '../domain/rules/duration.js'
import { describeTarget } from '../domain/target.js'
import type { NotificationPlan, RunPlan } from '../runner/index.js'

export type DryRun = { readonly outcome: Outcome } | { readonly error: { readonly code: string, readonly message: string } }

/** What the safety gates would decide now, for a planned run (SPEC 9). */
export interface GateReport {
  /** run (live or dry), skip, wait (the target's lock), approval. */
  readonly decision: 'run' | 'skip' | 'wait' | 'approval'
  readonly dryRun: boolean
  /** The gate that stops it, with its evidence; for a dry run, every gate that would. */
  readonly notes: readonly string[]
}

export interface GateSummary {
  /** Where the gates' facts were read (the store), or why they were not. */
  readonly source: string
  readonly runs: Readonly<Record<string, GateReport>>
}

export interface RenderOptions {
  readonly color: boolean
  /** The Dynatrace environment read, when one was. */
  readonly dynatrace: string | undefined
}

const CODES = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const

function painter (color: boolean) {
  return (style: keyof typeof CODES, text: string): string => (color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text)
}

function runLine (run: RunPlan, dryRun: DryRun | undefined): { status: string, text: string } {
  const on = run.target === null ? (run.entityId === '*' ? 'once for the problem' : `for ${run.entityId}`) : `on ${describeTarget(run.target)}`
  const head = `step ${run.step} ${run.action} ${on}`
  if (run.status !== 'planned') return { status: run.status, text: `${head}: ${run.status} — ${run.reason ?? ''}` }
  if (dryRun === undefined) return { status: 'planned', text: `${head}: planned` }
  if ('error' in dryRun) return { status: 'failed', text: `${head}: the dry run failed — ${dryRun.error.message}` }
  const o = dryRun.outcome
  return { status: o.status, text: `${head}: ${o.status === 'skipped' ? `would be skipped — ${o.reason}` : o.summary}` }
}

function gateLine (report: GateReport): string {
  if (report.decision === 'run') {
    if (!report.dryRun) return 'gates: all pass — it would run now'
    return report.notes.length === 0 ? 'gates: all pass — it would dry-run (no change)' : `gates: it would dry-run; ${report.notes.join('; ')}`
  }
  if (report.decision === 'wait') return `gates: it would wait — ${report.notes.join('; ')}`
  if (report.decision === 'approval') return `gates: it would wait for approval — ${report.notes.join('; ')}`
  return `gates: it would be ${report.notes.join('; ')}`
}

export function renderPlan (plan: NotificationPlan, dryRuns: Readonly<Record<string, DryRun>>, options: RenderOptions & { readonly gates?: GateSummary | undefined }): string {
  const paint = painter(options.color)
  const p = plan.problem
  const lines: string[] = []
  const what = kindTitle(p.kind)
  lines.push(paint('bold', `${what} ${p.displayId ?? p.id}${p.displayId === undefined ? '' : ` (${p.id})`}${p.title === undefined ? '' : `: ${p.title}`}`))
  const facts = [p.severity === undefined ? undefined : `severity ${p.severity}`, p.impact === undefined ? undefined : `impact ${p.impact}`, p.startTime === undefined ? undefined : `started ${new Date(p.startTime).toISOString()}`].filter((x) => x !== undefined)
  if (facts.length > 0) lines.push(`  ${facts.join(', ')}`)
  lines.push(`  enriched from ${plan.enrichment.source === 'dynatrace' ? `Dynatrace${options.dynatrace === undefined ? '' : ` (${options.dynatrace})`}` : 'the notification alone'}`)
  for (const note of plan.enrichment.notes) lines.push(paint('yellow', `  note: ${note}`))
  lines.push(`  mode: ${plan.mode} (${plan.modeSource === 'rules file' ? 'the rules file' : plan.modeSource}); simulate runs every action in dry-run`)
  lines.push('')

  const width = Math.max(0, ...plan.rules.map((r) => r.rule.length))
  for (const rule of plan.rules) {
    const mark = rule.matched ? paint('green', '✓') : paint('red', '✗')
    lines.push(`${mark} ${rule.rule.padEnd(width)}  ${rule.matched ? (rule.reason ?? 'matched') : paint('dim', rule.reason ?? 'did not match')}`)
    if (!rule.matched) continue
    const idWidth = Math.max(0, ...rule.entities.map((e) => e.entityId.length))
    for (const e of rule.entities) {
      const target = !e.matched
        ? paint('dim', `not matched: ${(e.reason ?? '').replace(`${e.entityId}: `, '')}`)
        : e.target === null
          ? (e.targetNote ?? 'no target')
          : `→ ${describeTarget(e.target)}  ${paint('dim', `(${e.targetNote ?? e.targetSource ?? ''})`)}`
      lines.push(`    ${e.entityId.padEnd(idWidth)}  ${e.type} ${e.name}  ${target}`)
      if (e.matched && e.deploymentEvent !== undefined && p.startTime !== undefined) {
        lines.push(paint('dim', `    ${''.padEnd(idWidth)}  deployment event ${e.deploymentEvent.eventId} "${e.deploymentEvent.title}", ${formatDuration(Math.max(0, Math.round((p.startTime - e.deploymentEvent.startTime) / 60_000)) * 60_000)} before the problem`))
      }
    }
    for (const run of rule.runs) {
      const line = runLine(run, dryRuns[run.runKey])
      const colour = line.status === 'failed' ? 'red' : line.status === 'skipped' ? 'yellow' : 'green'
      lines.push(`    ${paint(colour, line.text)}`)
      const gates = options.gates?.runs[run.runKey]
      if (gates !== undefined) lines.push(`      ${paint(gates.decision === 'run' ? 'green' : 'yellow', gateLine(gates))}`)
      lines.push(paint('dim', `      run ${run.runKey}`))
    }
  }
  lines.push('')
  lines.push(`targets: ${plan.targets.length} distinct${plan.targets.length === 0 ? '' : ` (${plan.targets.map(describeTarget).join(', ')})`}; maxTargetsPerProblem ${plan.maxTargetsPerProblem}`)
  if (options.gates !== undefined) lines.push(paint('dim', `gates read from ${options.gates.source}`))
  return `${lines.join('\n')}\n`
}
