/**
 * The report's chart, drawn on the server as SVG (no chart library, no script): per rule and
 * action, time to resolve as p50 and p90 bars, live next to dry-run, with the numbers written on
 * the bars and the same figures in a table beside it for screen readers.
 */
import type { VNode } from 'preact'
import type { ReportRow } from './data.js'

const fmt = (s: number | null): string => s === null ? 'no data' : s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`

/** Pure: the SVG for one rule and action's rows (live and dry-run). */
export function ResolveChart ({ title, rows }: { title: string, rows: readonly ReportRow[] }): VNode {
  const bars = rows.flatMap((r) => (['p50', 'p90'] as const).map((p) => ({ label: `${r.mode} ${p}`, mode: r.mode, value: r.timeToResolveSeconds[p], n: r.timeToResolveSeconds.n })))
  const max = Math.max(1, ...bars.map((b) => b.value ?? 0))
  const rowH = 28
  const left = 110
  const width = 560
  const height = bars.length * rowH + 24
  const summary = bars.map((b) => `${b.label}: ${fmt(b.value)} (n=${b.n})`).join('; ')
  return (
    <figure class='chart'>
      <svg viewBox={`0 0 ${width} ${height}`} role='img' aria-label={`Time to resolve for ${title}: ${summary}`} xmlns='http://www.w3.org/2000/svg'>
        <title>{`Time to resolve, ${title}`}</title>
        {bars.map((b, i) => {
          const y = 8 + i * rowH
          const w = b.value === null ? 0 : Math.max(2, Math.round((b.value / max) * (width - left - 90)))
          return (
            <g key={b.label}>
              <text x={0} y={y + 15} font-size='13' fill='#1b1f24'>{b.label}</text>
              <rect x={left} y={y} width={w} height={rowH - 8} fill={b.mode === 'live' ? '#0550ae' : '#8c959f'} />
              <text x={left + w + 6} y={y + 15} font-size='13' fill='#1b1f24'>{fmt(b.value)}</text>
            </g>
          )
        })}
      </svg>
      <figcaption>{`Time to resolve, ${title}: live in blue, dry-run in grey. ${summary}.`}</figcaption>
    </figure>
  )
}
