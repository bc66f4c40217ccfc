/**
 * The console's pages (SPEC 11, issue 22), one pure function each: given what the route read,
 * returns the document. Values from Dynatrace and from requests reach the page only through
 * Preact's escaping renderer, and links only through encodeURIComponent/URLSearchParams.
 */
import type { VNode } from 'preact'
import { outcomeLine } from '../../domain/outcome.js'
import { RUN_STATES, type Run } from '../../domain/runs.js'
import { describeTarget } from '../../domain/target.js'
import { ResolveChart } from './chart.js'
import type { Explanation, Report, ReportRow } from './data.js'
import { Csrf, href, page, problemHref, runHref, State, Time, type PageContext } from './layout.js'

export function loginPage (ctx: PageContext, next: string, error: string | undefined): string {
  return page(ctx, 'login', 'Sign in', (
    <>
      <p>Paste one of the admin tokens from <code>DTR_ADMIN_TOKENS</code>. The console remembers its name, not the token, for 12 hours; what you approve or pause is recorded under that name.</p>
      {error === undefined ? null : <p class='banner error' role='alert'>{error}</p>}
      <form class='stack' method='post' action='/ui/login'>
        <Csrf token={ctx.csrf} />
        <input type='hidden' name='next' value={next} />
        {/* Password managers (and Chrome) expect a user name beside a password: the token has none. */}
        <input type='text' name='username' autocomplete='username' value='dt-remediator' hidden />
        <label>Admin token
          <input type='password' name='token' autocomplete='current-password' required autofocus />
        </label>
        <button class='primary' type='submit'>Sign in</button>
      </form>
    </>
  ))
}

export function errorPage (ctx: PageContext, status: number, message: string): string {
  return page(ctx, 'error', status === 404 ? 'Not found' : status === 403 ? 'Refused' : status === 409 ? 'Already decided' : 'Something went wrong', (
    <>
      <p class='banner error' role='alert'>{message}</p>
      <p><a href='/ui/'>Back to the overview</a></p>
    </>
  ))
}

const Target = ({ run }: { run: Pick<Run, 'target' | 'entityId'> }): VNode => run.target === null ? <span class='muted'>no target ({run.entityId})</span> : <span>{describeTarget(run.target)}</span>

function RunTable ({ runs, now, caption }: { runs: readonly Run[], now: number, caption: string }): VNode {
  if (runs.length === 0) return <p class='muted'>{`No ${caption.toLowerCase()}.`}</p>
  return (
    <div class='table'>
      <table>
        <caption>{caption}</caption>
        <thead><tr><th scope='col'>Run</th><th scope='col'>State</th><th scope='col'>Action on target</th><th scope='col'>Rule</th><th scope='col'>Problem</th><th scope='col'>Created</th></tr></thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <td><a href={runHref(r.id)} title={r.id}><code>{r.id.slice(0, 8)}</code></a></td>
              <td><State state={r.state} />{r.dryRun ? <span class='muted'> (dry run)</span> : null}</td>
              <td>{r.action} on <Target run={r} /></td>
              <td>{r.rule}</td>
              <td class='nowrap'><a href={problemHref(r.problemId)}>{r.displayId ?? r.problemId}</a></td>
              <td><Time at={r.createdAt} now={now} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export interface Overview {
  readonly mode: string
  readonly pause: { readonly paused: boolean, readonly reason?: string | undefined, readonly since?: number | undefined, readonly by?: string | undefined }
  readonly awaiting: readonly Run[]
  readonly backlog: { readonly pending: number, readonly oldestAt: number | null }
  readonly reconcile: string
  readonly rules: { readonly count: number, readonly loadedAt: number, readonly lastReload: string }
}

export function overviewPage (ctx: PageContext, o: Overview): string {
  return page(ctx, 'overview', 'Overview', (
    <>
      {o.pause.paused
        ? <p class='banner paused' role='status'><strong>Paused</strong>{` by ${o.pause.by ?? 'admin'}`}{o.pause.since === undefined ? null : <> since <Time at={o.pause.since} now={ctx.now} /></>}{`: ${o.pause.reason ?? 'no reason given'}. No new execution starts. `}<a href='/ui/pause'>Resume…</a></p>
        : <p class='banner ok' role='status'>Running: executions start as the gates allow. <a href='/ui/pause'>Kill switch…</a></p>}
      <div class='cards'>
        <div class='card'><span class='big'>{o.mode}</span><span class='label'>Mode{o.mode === 'dry-run' ? ': nothing is changed, runs say what they would do' : ': runs change targets'}</span></div>
        <div class='card'><span class='big'><a href='/ui/approvals'>{o.awaiting.length}</a></span><span class='label'>Runs awaiting approval</span></div>
        <div class='card'><span class='big'>{o.backlog.pending}</span><span class='label'>Write-backs to Dynatrace pending{o.backlog.oldestAt === null ? '' : ', the oldest '}{o.backlog.oldestAt === null ? null : <Time at={o.backlog.oldestAt} now={ctx.now} />}</span></div>
        <div class='card'><span class='big'>{o.rules.count}</span><span class='label'>Rules loaded <Time at={o.rules.loadedAt} now={ctx.now} />; last reload: {o.rules.lastReload}</span></div>
      </div>
      <h2>Reconciliation</h2>
      <p>{o.reconcile}</p>
      <h2>Awaiting approval</h2>
      <RunTable runs={o.awaiting} now={ctx.now} caption='Runs awaiting approval' />
    </>
  ))
}

export interface RunFilters { readonly limit?: string | undefined, readonly state?: string | undefined, readonly rule?: string | undefined, readonly action?: string | undefined, readonly problemId?: string | undefined, readonly since?: string | undefined, readonly until?: string | undefined }

export function runsPage (ctx: PageContext, o: { runs: readonly Run[], nextCursor: string | null, filters: RunFilters, rules: readonly string[], actions: readonly string[], error?: string | undefined }): string {
  const f = o.filters
  return page(ctx, 'runs', 'Runs', (
    <>
      <form class='filters' method='get' action='/ui/runs' role='search' aria-label='Filter runs'>
        <label>State
          <select name='state'>
            <option value=''>any</option>
            {RUN_STATES.map((s) => <option key={s} value={s} selected={f.state === s}>{s.replaceAll('_', ' ')}</option>)}
          </select>
        </label>
        <label>Rule
          <select name='rule'>
            <option value=''>any</option>
            {o.rules.map((r) => <option key={r} value={r} selected={f.rule === r}>{r}</option>)}
          </select>
        </label>
        <label>Action
          <select name='action'>
            <option value=''>any</option>
            {o.actions.map((a) => <option key={a} value={a} selected={f.action === a}>{a}</option>)}
          </select>
        </label>
        <label>Problem (PID or P-id)<input name='problemId' value={f.problemId ?? ''} size={14} /></label>
        <label>From (UTC)<input type='datetime-local' name='since' value={f.since ?? ''} /></label>
        <label>Until (UTC)<input type='datetime-local' name='until' value={f.until ?? ''} /></label>
        <button type='submit'>Filter</button>
        <a href='/ui/runs'>Clear</a>
      </form>
      {o.error === undefined ? null : <p class='banner error' role='alert'>{o.error}</p>}
      <RunTable runs={o.runs} now={ctx.now} caption='Runs, newest first' />
      <nav class='pager' aria-label='Pages'>
        {o.nextCursor === null ? <span class='muted'>No older runs.</span> : <a href={href('/ui/runs', { ...f, cursor: o.nextCursor })}>Older runs →</a>}
      </nav>
    </>
  ))
}

function DecisionForms ({ run, csrf, next }: { run: Run, csrf: string, next: string }): VNode {
  const label = `${run.action} on ${run.target === null ? run.entityId : describeTarget(run.target)}`
  return (
    <form class='decide' method='post' action={`${runHref(run.id)}/decide`} aria-label={`Decide on ${label}`}>
      <Csrf token={csrf} />
      <input type='hidden' name='next' value={next} />
      <label>Reason <input name='reason' maxlength={500} size={28} /></label>
      <button class='primary' type='submit' name='decision' value='approve'>Approve</button>
      <button class='danger' type='submit' name='decision' value='reject'>Reject</button>
    </form>
  )
}

/** Who decided and when, read from the timeline the approval functions wrote. */
function decisionOf (run: Run): { note: string, at: string } | undefined {
  const e = run.timeline.find((t) => /^(approved by|rejected by)/.test(t.note))
  if (e !== undefined) return { note: e.note, at: e.at }
  if (run.state === 'expired') {
    const x = run.timeline.find((t) => t.state === 'expired')
    return x === undefined ? undefined : { note: x.note, at: x.at }
  }
  return undefined
}

export interface RunDetail {
  readonly run: Run
  readonly plan: unknown
  /** Each admission's gate results, oldest first. */
  readonly gates: ReadonlyArray<{ readonly at: number, readonly decision: string, readonly results: ReadonlyArray<{ readonly gate: string, readonly result: string, readonly reason?: string }> }>
  readonly comments: ReadonlyArray<{ readonly kind: string, readonly text: string, readonly state: string, readonly at: number, readonly deliveredAt: number | null }>
  readonly dynatraceLink: string | undefined
  /** The problem's title as Dynatrace gave it (hostile: escaped like everything). */
  readonly problemTitle: string | undefined
  /** Set when a decision arrived after the run had moved on (another person, a timeout). */
  readonly alreadyState?: string | undefined
}

export function runPage (ctx: PageContext, d: RunDetail): string {
  const { run } = d
  const decided = decisionOf(run)
  return page(ctx, 'runs', `Run ${run.id}`, (
    <>
      {d.alreadyState === undefined ? null : <p class='banner error' role='alert'>Your decision changed nothing: the run was already {d.alreadyState.replaceAll('_', ' ')} when it arrived.</p>}
      <dl class='facts'>
        <dt>State</dt><dd><State state={run.state} />{run.reason === null ? null : <> — {run.reason}</>}</dd>
        <dt>Action</dt><dd>{run.action} (step {run.step + 1}) {run.dryRun ? '— dry run, changes nothing' : '— live'}</dd>
        <dt>Target</dt><dd><Target run={run} /></dd>
        <dt>Rule</dt><dd>{run.rule}</dd>
        <dt>Problem</dt><dd><a href={problemHref(run.problemId)}>{run.displayId ?? run.problemId}</a>{d.problemTitle === undefined ? null : <> “{d.problemTitle}”</>} (occurrence {run.occurrence}){d.dynatraceLink === undefined ? null : <> · <a href={d.dynatraceLink} rel='noreferrer noopener'>open in Dynatrace</a></>}</dd>
        <dt>Created</dt><dd><Time at={run.createdAt} now={ctx.now} /></dd>
        <dt>Approved by</dt><dd>{run.approvedBy ?? <span class='muted'>nobody</span>}</dd>
      </dl>
      {run.state === 'awaiting_approval'
        ? (
          <section aria-labelledby='decide'>
            <h2 id='decide'>Approve or reject</h2>
            <p>The rule asks a person before it acts. Approving queues it: the gates are checked again when it runs.</p>
            <DecisionForms run={run} csrf={ctx.csrf} next={runHref(run.id)} />
          </section>
          )
        : decided === undefined ? null : <p class='banner'>Decided: {decided.note}, <Time at={decided.at} now={ctx.now} /></p>}
      <h2>Timeline</h2>
      <ol class='timeline'>
        {run.timeline.map((e, i) => <li key={i}><Time at={e.at} now={ctx.now} /> <State state={e.state} /> {e.note}</li>)}
      </ol>
      <h2>Plan</h2>
      <PlanView plan={d.plan} />
      <h2>Gates</h2>
      {d.gates.length === 0
        ? <p class='muted'>{run.state === 'planned' || run.state === 'queued' ? 'Not admitted yet: the gates are asked when the run is due.' : 'No gate results were stored with this run (it was decided before the gates, or by an older version); the timeline says what happened.'}</p>
        : d.gates.map((a, i) => (
          <section key={i} aria-label={`Admission ${i + 1}`}>
            <p><Time at={a.at} now={ctx.now} />: {a.decision === 'run' ? 'admitted' : a.decision === 'approval' ? 'waiting for approval' : a.decision === 'skip' ? 'skipped' : 'waited for the lock'}</p>
            <ul>{a.results.map((g) => <li key={g.gate}><strong>{g.gate}</strong>: {g.result}{g.reason === undefined ? null : ` — ${g.reason}`}</li>)}</ul>
          </section>
        ))}
      <h2>Outcome</h2>
      {run.outcome === null ? <p class='muted'>Not finished.</p> : <p><State state={run.outcome.status} /> {outcomeLine(run.outcome)}</p>}
      <h2>Verdict</h2>
      {run.verification === null ? <p class='muted'>Not verified yet.</p> : <p><State state={run.verification.verdict} /> <Time at={run.verification.at} now={ctx.now} />: {run.verification.note}</p>}
      <h2>Comments written to Dynatrace</h2>
      {d.comments.length === 0
        ? <p class='muted'>None.</p>
        : d.comments.map((c, i) => (
          <article key={i} aria-label={`${c.kind} ${c.state}`}>
            <p class='muted'>{c.kind === 'event' ? 'Event' : 'Comment'}{c.deliveredAt === null ? `, ${c.state}` : null}{c.deliveredAt === null ? null : <>, delivered <Time at={c.deliveredAt} now={ctx.now} /></>}</p>
            <pre>{c.text}</pre>
          </article>
        ))}
    </>
  ))
}

/** The plan: an image change reads `checkout:1.4.2 → 1.4.1`; anything else as its JSON. */
function PlanView ({ plan }: { plan: unknown }): VNode {
  if (plan === null || plan === undefined) return <p class='muted'>No plan recorded.</p>
  const p = plan as { summary?: unknown, from?: unknown, to?: unknown, toRevision?: unknown, fromRevision?: unknown, chosenBy?: unknown }
  // A rollback's plan names revisions; the images they carry are in its outcome (`checkout:1.4.2 → checkout:1.4.1`).
  const line = typeof p.summary === 'string'
    ? p.summary
    : typeof p.from === 'string' && typeof p.to === 'string'
      ? `${p.from} → ${p.to}`
      : typeof p.toRevision === 'number'
        ? `revision ${typeof p.fromRevision === 'number' ? p.fromRevision : '?'} → revision ${p.toRevision}${typeof p.chosenBy === 'string' ? ` (chosen by ${p.chosenBy})` : ''}`
        : undefined
  return (
    <>
      {line === undefined ? null : <p><strong>{line}</strong></p>}
      <pre>{JSON.stringify(plan, null, 2)}</pre>
    </>
  )
}

export function approvalsPage (ctx: PageContext, o: { awaiting: readonly Run[], decided: readonly Run[] }): string {
  return page(ctx, 'approvals', 'Approvals', (
    <>
      {o.awaiting.length === 0 ? <p>Nothing is awaiting approval.</p> : null}
      {o.awaiting.map((r) => (
        <section key={r.id} class='card' aria-labelledby={`h-${r.id}`}>
          <h2 id={`h-${r.id}`}>{r.action} on <Target run={r} /></h2>
          <p>Rule {r.rule}, problem <a href={problemHref(r.problemId)}>{r.displayId ?? r.problemId}</a>, asked <Time at={r.createdAt} now={ctx.now} />. <a href={runHref(r.id)}>Run {r.id}</a></p>
          <DecisionForms run={r} csrf={ctx.csrf} next='/ui/approvals' />
        </section>
      ))}
      <h2>Recently decided</h2>
      {o.decided.length === 0
        ? <p class='muted'>None.</p>
        : <ul>{o.decided.map((r) => { const d = decisionOf(r); return <li key={r.id}><a href={runHref(r.id)}>{r.id}</a> {r.action}: <State state={r.state} /> {d === undefined ? null : <>— {d.note}, <Time at={d.at} now={ctx.now} /></>}</li> })}</ul>}
    </>
  ))
}

export interface ProblemDetail {
  readonly problemId: string
  readonly status: string | null
  readonly occurrence: number | null
  readonly notifications: ReadonlyArray<{ readonly id: string, readonly state: string, readonly receivedAt: number, readonly source: string, readonly displayId: string | null }>
  readonly runs: readonly Run[]
  readonly explanations: ReadonlyMap<string, Explanation> | undefined
  readonly dynatraceLink: string | undefined
  readonly title: string | undefined
}

export function problemPage (ctx: PageContext, p: ProblemDetail): string {
  const occurrences = [...new Set(p.runs.map((r) => r.occurrence))].sort((a, b) => a - b)
  return page(ctx, 'problem', `Problem ${p.notifications[0]?.displayId ?? p.runs[0]?.displayId ?? p.problemId}`, (
    <>
      <dl class='facts'>
        <dt>Title</dt><dd>{p.title ?? <span class='muted'>not known</span>}</dd>
        <dt>PID</dt><dd>{p.problemId}{p.dynatraceLink === undefined ? null : <> · <a href={p.dynatraceLink} rel='noreferrer noopener'>open in Dynatrace</a></>}</dd>
        <dt>Status</dt><dd>{p.status ?? 'not tracked'}</dd>
        <dt>Occurrence</dt><dd>{p.occurrence ?? '—'}{occurrences.length > 1 ? ` (runs in occurrences ${occurrences.join(', ')})` : ''}</dd>
      </dl>
      <h2>Notifications</h2>
      {p.notifications.length === 0
        ? <p class='muted'>None kept.</p>
        : (
          <ol>
            {p.notifications.map((n) => {
              const e = p.explanations?.get(n.id)
              return (
                <li key={n.id}>
                  <p><State state={n.state.toLowerCase()} /> via {n.source}, <Time at={n.receivedAt} now={ctx.now} /> <span class='muted'>({n.id})</span></p>
                  {e === undefined
                    ? <p class='muted'>{p.explanations === undefined ? 'This version keeps no explanation of what each rule matched.' : 'No explanation kept for this notification.'}</p>
                    : (
                      <ul>
                        {e.rules.map((r) => <li key={r.rule}>Rule <strong>{r.rule}</strong>: {r.matched ? 'matched' : `did not match — ${r.failed ?? 'a condition failed'}`}</li>)}
                        {e.entities.map((x) => <li key={x.entityId}>Entity {x.entityId}: {x.target === undefined ? `no target (${x.tried ?? 'nothing found'})` : `${x.target}${x.source === undefined ? '' : ` from ${x.source}`}`}</li>)}
                        {e.read === undefined ? null : <li>Read {e.read.source === 'dynatrace' ? "from Dynatrace's APIs" : 'from the notification alone'}{e.read.notes.length === 0 ? '' : `: ${e.read.notes.join('; ')}`}</li>}
                      </ul>
                      )}
                </li>
              )
            })}
          </ol>
          )}
      <h2>Runs</h2>
      <RunTable runs={p.runs} now={ctx.now} caption='Runs of this problem' />
    </>
  ))
}

export function pausePage (ctx: PageContext, pause: Overview['pause']): string {
  return page(ctx, 'pause', 'Kill switch', pause.paused
    ? (
      <>
        <p class='banner paused' role='status'><strong>Paused</strong>{` by ${pause.by ?? 'admin'}`}{pause.since === undefined ? null : <> since <Time at={pause.since} now={ctx.now} /></>}{`: ${pause.reason ?? 'no reason given'}`}</p>
        <p>No new execution starts on any replica. Resuming does not run what the pause skipped.</p>
        <form class='stack' method='post' action='/ui/pause'>
          <Csrf token={ctx.csrf} />
          <input type='hidden' name='paused' value='false' />
          <button class='primary' type='submit'>Resume</button>
        </form>
      </>
      )
    : (
      <>
        <p class='banner ok' role='status'>Not paused: runs start as the gates allow.</p>
        <form class='stack' method='post' action='/ui/pause'>
          <Csrf token={ctx.csrf} />
          <input type='hidden' name='paused' value='true' />
          <label>Why pause (shown to everyone and in the log)
            <input name='reason' required maxlength={500} />
          </label>
          <button class='danger' type='submit'>Pause all remediation</button>
        </form>
      </>
      ))
}

export function reportPage (ctx: PageContext, report: Report | undefined, since: string): string {
  const groups = new Map<string, ReportRow[]>()
  for (const r of report?.rows ?? []) {
    const key = `${r.rule} · ${r.action}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  return page(ctx, 'report', 'Effectiveness report', (
    <>
      <form class='filters' method='get' action='/ui/report'>
        <label>Since
          <select name='since'>
            {['24h', '7d', '30d', '90d'].map((s) => <option key={s} value={s} selected={s === since}>{s}</option>)}
          </select>
        </label>
        <button type='submit'>Show</button>
      </form>
      {report === undefined
        ? <p class='banner'>No report is available in this version of dt-remediator.</p>
        : groups.size === 0
          ? <p>No runs started since {since}.</p>
          : [...groups].map(([key, rows]) => (
            <section key={key} aria-label={key}>
              <h2>{key}</h2>
              <ResolveChart title={key} rows={rows} />
              <div class='table'>
                <table>
                  <thead><tr><th scope='col'>Mode</th><th scope='col'>Runs</th><th scope='col'>Verdicts</th><th scope='col'>Resolved (n, p50, p90 s)</th></tr></thead>
                  <tbody>
                    {rows.map((r) => (
                      <tr key={r.mode}>
                        <td>{r.mode}</td>
                        <td>{Object.entries(r.runs).map(([s, n]) => `${s} ${n}`).join(', ')}</td>
                        <td>{`resolved ${r.verdicts.resolved}, unresolved ${r.verdicts.unresolved}, unknown ${r.verdicts.unknown}`}</td>
                        <td>{`${r.timeToResolveSeconds.n}, ${r.timeToResolveSeconds.p50 ?? '—'}, ${r.timeToResolveSeconds.p90 ?? '—'}`}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
            ))}
    </>
  ))
}
