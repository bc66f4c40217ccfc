/**
 * The frame every console page shares, and the small pieces pages repeat. Preact renders it to a
 * string on the server: every value is escaped by the renderer (a problem title carrying
 * `<script>` is text), and no page carries a script. The one exception to escaping would be
 * dangerouslySetInnerHTML, which the console never uses.
 */
import type { ComponentChildren, VNode } from 'preact'
import { renderToString } from 'preact-render-to-string'

export type Section = 'overview' | 'runs' | 'approvals' | 'pause' | 'report' | 'problem' | 'login' | 'error'

export interface PageContext {
  /** Who is signed in (the admin token's name); undefined on the sign-in page. */
  readonly who: string | undefined
  /** This request's CSRF token, for every form. */
  readonly csrf: string
  /** ms epoch, to say "3 min ago". */
  readonly now: number
}

const NAV: ReadonlyArray<readonly [Section, string, string]> = [
  ['overview', 'Overview', '/ui/'],
  ['runs', 'Runs', '/ui/runs'],
  ['approvals', 'Approvals', '/ui/approvals'],
  ['pause', 'Kill switch', '/ui/pause'],
  ['report', 'Report', '/ui/report'],
]

/** The whole document as a string. */
export function page (ctx: PageContext, section: Section, title: string, body: ComponentChildren): string {
  const doc: VNode = (
    <html lang='en'>
      <head>
        <meta charset='utf-8' />
        <meta name='viewport' content='width=device-width, initial-scale=1' />
        <meta name='referrer' content='same-origin' />
        <title>{`${title} · dt-remediator`}</title>
        <link rel='stylesheet' href='/ui/console.css' />
        <link rel='icon' href='/ui/favicon.svg' type='image/svg+xml' />
      </head>
      <body>
        <a class='skip' href='#main'>Skip to content</a>
        <header class='top'>
          <span class='brand'>dt-remediator</span>
          {ctx.who === undefined
            ? null
            : (
              <nav aria-label='Console'>
                <ul>
                  {NAV.map(([key, label, href]) => <li key={key}><a href={href} aria-current={key === section ? 'page' : undefined}>{label}</a></li>)}
                </ul>
              </nav>
              )}
          {ctx.who === undefined
            ? null
            : (
              <div class='who'>
                <span>Signed in as <strong>{ctx.who}</strong></span>
                <form class='inline' method='post' action='/ui/logout'>
                  <Csrf token={ctx.csrf} />
                  <button type='submit'>Sign out</button>
                </form>
              </div>
              )}
        </header>
        <main id='main' tabindex={-1}>
          <h1>{title}</h1>
          {body}
        </main>
      </body>
    </html>
  )
  return `<!doctype html>${renderToString(doc)}`
}

export const Csrf = ({ token }: { token: string }): VNode => <input type='hidden' name='_csrf' value={token} />

export const iso = (ms: number): string => new Date(ms).toISOString()

/** "2024-05-01 10:15:42 UTC (3 min ago)" */
export function when (at: string | number, now: number): string {
  const ms = typeof at === 'number' ? at : Date.parse(at)
  if (!Number.isFinite(ms)) return String(at)
  const ago = Math.round((now - ms) / 1000)
  const rel = ago < 0 ? 'in the future' : ago < 60 ? `${ago} s ago` : ago < 3600 ? `${Math.round(ago / 60)} min ago` : ago < 172_800 ? `${Math.round(ago / 3600)} h ago` : `${Math.round(ago / 86_400)} days ago`
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (${rel})`
}

export const Time = ({ at, now }: { at: string | number, now: number }): VNode => <time datetime={typeof at === 'number' ? iso(at) : at}>{when(at, now)}</time>

/** A state in words, coloured as well (never colour alone). */
export const State = ({ state }: { state: string }): VNode => <span class={`state state-${state.replace(/[^a-z_]/g, '')}`}>{state.replaceAll('_', ' ')}</span>

/** A link with its query built by URLSearchParams, so no value can break out of its parameter. */
export function href (path: string, query: Readonly<Record<string, string | undefined>>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v)
  const s = q.toString()
  return s === '' ? path : `${path}?${s}`
}

export const runHref = (id: string): string => `/ui/runs/${encodeURIComponent(id)}`
export const problemHref = (pid: string): string => `/ui/problems/${encodeURIComponent(pid)}`
