/**
 * The console's one stylesheet, served from /ui/console.css (the CSP allows styles from 'self'
 * only, no inline ones). Plain CSS: readable on a phone (tables scroll sideways, forms stack),
 * a visible focus ring for keyboard users, colours with enough contrast, and states told by words
 * as well as colour.
 */
export const CONSOLE_CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --soft: #f6f8fa; --accent: #0550ae; --ok: #116329; --bad: #a40e26; --warn: #7d4e00; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; }
.skip:focus { left: .5rem; }
header.top { background: #0d1117; color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; }
header.top a { color: #fff; text-decoration: none; padding: .25rem .1rem; }
header.top a[aria-current="page"] { border-bottom: 2px solid #f59e0b; }
header.top .brand { font-weight: 700; margin-right: .5rem; }
header.top nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
header.top .who { margin-left: auto; display: flex; gap: .5rem; align-items: center; font-size: .9rem; }
header.top .who button { background: transparent; color: #fff; border: 1px solid #8b949e; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; word-break: break-word; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.banner { padding: .75rem 1rem; border-radius: 6px; border: 1px solid var(--line); background: var(--soft); margin: .5rem 0 1rem; }
.banner.paused, .banner.error { border-color: var(--bad); background: #ffebe9; }
.banner.ok { border-color: var(--ok); background: #dafbe1; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: .75rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; }
.nowrap { white-space: nowrap; }
.card h2 { margin-top: 0; }
.card .big { font-size: 1.6rem; font-weight: 700; display: block; }
.card .label { color: var(--muted); font-size: .9rem; }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); }
caption { text-align: left; color: var(--muted); padding: .25rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-word; }
.state { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .85rem; border: 1px solid currentColor; white-space: nowrap; }
.state-succeeded, .state-resolved { color: var(--ok); }
.state-failed, .state-cancelled, .state-expired, .state-unresolved { color: var(--bad); }
.state-awaiting_approval, .state-queued, .state-running, .state-planned { color: var(--warn); }
.state-skipped, .state-dry_run, .state-unknown { color: var(--muted); }
form.inline { display: inline; }
form.stack { display: grid; gap: .5rem; max-width: 32rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
form.filters label, form.stack label { display: grid; gap: .15rem; font-size: .9rem; }
form.decide { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .5rem 0; }
input, select, textarea, button { font: inherit; padding: .4rem .6rem; border: 1px solid #8c959f; border-radius: 6px; background: var(--bg); color: var(--fg); min-height: 2.5rem; }
button { cursor: pointer; background: var(--soft); }
button.primary { background: var(--ok); color: #fff; border-color: var(--ok); }
button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
pre { background: var(--soft); padding: .75rem; overflow-x: auto; border-radius: 6px; white-space: pre-wrap; word-break: break-word; }
ol.timeline { padding-left: 1.25rem; }
ol.timeline li { margin: .25rem 0; }
.muted { color: var(--muted); }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
figure.chart { margin: .5rem 0 1.5rem; max-width: 40rem; }
figure.chart svg { width: 100%; height: auto; }
figure.chart figcaption { color: var(--muted); font-size: .9rem; }
@media (max-width: 40rem) { main { padding: .75rem; } h1 { font-size: 1.3rem; } dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .5rem; } }
`

/** A small icon, so that browsers do not ask for /favicon.ico outside the console. */
export const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0d1117"/><path d="M4 8h8M8 4v8" stroke="#f59e0b" stroke-width="2"/></svg>'
