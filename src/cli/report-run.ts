/**
 * The report verb's work: the effectiveness report (SPEC 11) from a running service
 * (`GET /api/report`, with an admin token) or from the store opened read-only, printed as a
 * table a person reads at a glance — per rule and action, live beside dry-run — or as JSON.
 */
import { readFileSync } from 'node:fs'
import { loadConfig, type Config, type Env } from '../config.js'
import { MIN_RUNS_TO_COMPARE, type Report, type ReportRow } from '../domain/report.js'
import { DURATION_HINT, parseDuration } from '../domain/rules/duration.js'
import { isDtrError } from '../errors.js'
import { reportFrom } from '../routes/api/report.js'
import { openStoreReadOnly } from '../store/readonly.js'
import type { Output } from './output.js'
import type { ExitCode } from './verb.js'

export interface ReportOptions {
  readonly since: string
  readonly json?: boolean
  readonly url?: string
  readonly token?: string
}

const seconds = (s: number | null): string => {
  if (s === null) return '–'
  if (s < 90) return `${Math.round(s)} s`
  if (s < 5400) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}

const pad = (cells: readonly string[], widths: readonly number[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()

/** Pure: one side (live or dry-run) of a rule and action in a few words. */
function side (row: ReportRow | undefined): string[] {
  if (row === undefined) return ['–', '–', '–']
  const total = Object.values(row.runs).reduce((a, b) => a + b, 0)
  const states = Object.entries(row.runs).sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${n} ${s}`).join(', ')
  const v = row.verdicts
  const t = row.timeToResolveSeconds
  return [`${total} (${states})`, `${v.resolved}/${v.unresolved}/${v.unknown}`, t.n === 0 ? 'n=0' : `n=${t.n} p50 ${seconds(t.p50)} p90 ${seconds(t.p90)}`]
}

/** Pure: the report as a table, live beside dry-run per rule and action, with what it says. */
export function renderReport (report: Report): string {
  const lines = [`Runs started ${report.since} – ${report.until}`, '']
  if (report.rows.length === 0) return `${lines.join('\n')}No runs in this window.\n`
  const pairs = new Map<string, { rule: string, action: string, live?: ReportRow, dry?: ReportRow }>()
  for (const row of report.rows) {
    const key = JSON.stringify([row.rule, row.action])
    const pair = pairs.get(key) ?? { rule: row.rule, action: row.action }
    if (row.mode === 'live') pair.live = row
    else pair.dry = row
    pairs.set(key, pair)
  }
  const header = ['RULE', 'ACTION', 'LIVE RUNS', 'VERDICTS R/U/?', 'LIVE TIME TO RESOLVE', 'DRY-RUN RUNS', 'VERDICTS R/U/?', 'DRY-RUN TIME TO RESOLVE']
  const body = [...pairs.values()].map((p) => [p.rule, p.action, ...side(p.live), ...side(p.dry)])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)))
  lines.push(pad(header, widths), ...body.map((r) => pad(r, widths)), '')
  for (const p of pairs.values()) {
    const live = p.live?.timeToResolveSeconds
    const dry = p.dry?.timeToResolveSeconds
    let verdict: string
    if (live === undefined || dry === undefined) verdict = live === undefined ? 'too few runs to compare: no live runs yet' : 'too few runs to compare: no dry-run runs (a dryRun: true twin of the rule gives the baseline)'
    else if (live.n < MIN_RUNS_TO_COMPARE || dry.n < MIN_RUNS_TO_COMPARE) verdict = `too few runs to compare (live n=${live.n}, dry-run n=${dry.n}; ${MIN_RUNS_TO_COMPARE} each are needed)`
    else if (live.p50 !== null && dry.p50 !== null) verdict = live.p50 < dry.p50 ? `live resolves faster: median ${seconds(live.p50)} against ${seconds(dry.p50)} without the action` : `live is not faster: median ${seconds(live.p50)} against ${seconds(dry.p50)} without the action`
    else verdict = 'no resolution times yet'
    lines.push(`${p.rule} / ${p.action}: ${verdict}`)
  }
  lines.push('', 'Time to resolve: from the run\'s start (dry-run: its evaluation) to the problem\'s end, for runs that ended succeeded or dry_run; nearest-rank percentiles.')
  return `${lines.join('\n')}\n`
}

async function fromService (url: string, token: string, since: string): Promise<Report> {
  const { request } = await import('undici')
  const target = new URL('/api/report', url)
  target.searchParams.set('since', since)
  const res = await request(target, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, headersTimeout: 15_000, bodyTimeout: 15_000 })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${target.toString()} answered ${res.statusCode}: ${text.slice(0, 300)}`)
  return JSON.parse(text) as Report
}

async function fromStore (config: Config, sinceMs: number, now: number): Promise<Report> {
  const store = await openStoreReadOnly(config)
  if (store === undefined) throw new Error(`no store in DTR_DATA_DIR ${config.dataDir} yet: nothing has run`)
  try {
    return await reportFrom(store, sinceMs, now)
  } finally {
    await store.close()
  }
}

export async function report (options: ReportOptions, env: Env, io: Output, now: () => number = Date.now): Promise<ExitCode> {
  const sinceMs = parseDuration(options.since)
  if (sinceMs === undefined) {
    io.err(`report: --since ${JSON.stringify(options.since)} is not a duration: use ${DURATION_HINT}\n`)
    return 2
  }
  let result: Report
  try {
    if (options.url !== undefined) {
      let token = options.token
      if (token === undefined) token = loadConfig(env, { readFile: (path) => readFileSync(path, 'utf8') }).adminTokens?.[0]?.token
      if (token === undefined) {
        io.err('report: --url needs an admin token: --token, or DTR_ADMIN_TOKENS\n')
        return 2
      }
      result = await fromService(options.url, token, options.since)
    } else {
      result = await fromStore(loadConfig(env, { readFile: (path) => readFileSync(path, 'utf8') }), sinceMs, now())
    }
  } catch (err) {
    io.err(`report: ${isDtrError(err) ? err.message : (err as Error).message}\n`)
    return 1
  }
  io.out(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : renderReport(result))
  return 0
}
