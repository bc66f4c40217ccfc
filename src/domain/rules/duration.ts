/**
 * Rules-file durations (SPEC 5): a whole number and one unit, `0s`, `30s`, `10m`, `2h`, `1d`.
 * Nothing else (`10x`, `1.5h`, `90`, `1h30m`) — a rules file that acts on production should not
 * leave room for a reader to guess what a value means.
 */

const UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
export const DURATION_PATTERN = /^(\d{1,9})([smhd])$/

/** Pure: milliseconds, or undefined when `text` is not a duration. */
export function parseDuration (text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text)
  if (match === null) return undefined
  return Number(match[1]) * UNITS[match[2] as keyof typeof UNITS]
}

/** Pure: the shortest exact form, `90m` → `90m`, 7 200 000 → `2h`, for summaries and reasons. */
export function formatDuration (ms: number): string {
  for (const [unit, size] of [['d', UNITS.d], ['h', UNITS.h], ['m', UNITS.m]] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`
  }
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

export const DURATION_HINT = 'a whole number and a unit s, m, h or d (30s, 10m, 2h, 1d)'

/**
 * Pure: a duration for a person reading a comment (`12 min`), where formatDuration gives the exact
 * rules-file form (`12m`): `340 ms`, `1.4 s`, `45 s`, `12 min`, `2 h 5 min`, `1 d 3 h`. The
 * Kubernetes simulator keeps kubectl's own HumanDuration (`12m`, `2h5m`), which it must match.
 */
export function humanDuration (ms: number): string {
  if (ms > 0 && ms < 1000) return `${Math.round(ms)} ms`
  if (ms >= 1000 && ms < 9_950) return `${Number((ms / 1000).toFixed(1))} s`
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 90) return `${s} s`
  const min = Math.round(s / 60)
  if (min < 120) return `${min} min`
  const h = Math.floor(min / 60)
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`
  const d = Math.floor(h / 24)
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`
}
