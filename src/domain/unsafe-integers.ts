/**
 * A number in a webhook body beyond 2^53 has already lost digits when JSON.parse gave it: an
 * unquoted `{PID}` of 20 digits reads as a neighbour's id, and two problems merge. Such a body is
 * refused (400) naming the field and saying to quote the placeholder, so nothing accepted is
 * lost. Only integer literals count (`12345678901234567891`): a `1e300` or `1.5` was written as
 * a float and means what it parses to. Pure.
 */

/** Pure: the integer literals (digits only) of a JSON text whose value is beyond Number.MAX_SAFE_INTEGER. */
function unsafeLiterals (text: string): Set<number> {
  const found = new Set<number>()
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34) { // a string: skip it, escapes included
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++
      continue
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1
      while (j < text.length && /[0-9eE.+-]/.test(text[j] as string)) j++
      const token = text.slice(i, j)
      if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) found.add(Number(token))
      i = j - 1
    }
  }
  return found
}

/** Pure: one message per field holding an integer literal beyond 2^53, naming where it is. */
export function unsafeIntegerFields (body: unknown, text: string): string[] {
  // 2^53 has 16 digits: a text without 16 digits in a row holds no such literal, and the hot path
  // (every notification) pays one native search instead of a walk of the body.
  if (!/\d{16}/.test(text)) return []
  const candidates: Array<{ path: string, value: number }> = []
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number') {
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) candidates.push({ path, value: v })
      return
    }
    if (Array.isArray(v)) v.forEach((x, i) => { walk(x, `${path}[${i}]`) })
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`)
  }
  walk(body, '')
  // The common case ends here; the text is scanned only when a parsed number could be one.
  if (candidates.length === 0) return []
  const literals = unsafeLiterals(text)
  return candidates.filter((c) => literals.has(c.value)).map(({ path, value }) => {
    const name = path === '' ? 'the body' : path
    const key = path.split('.').at(-1) ?? path
    return `${name} is a number beyond 2^53 that JSON cannot carry exactly (it arrived as ${String(value)}); quote its placeholder in the custom payload, e.g. "${key}":"{${key}}"`
  })
}
