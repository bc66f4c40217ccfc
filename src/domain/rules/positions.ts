/**
 * Where a path of the rules file is written: the YAML document is parsed with its source ranges
 * and a LineCounter, so an error found on the parsed value (by zod or by a later check) can name
 * the line and column of the key or value it is about. Pure.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml'

export type PathSegment = string | number

export interface Located {
  readonly line: number
  readonly column: number
}

export interface SourceMap {
  readonly doc: Document
  /** The line and column of the value at `path` (or of its key with `key: true`), else of the nearest ancestor written. */
  locate(path: readonly PathSegment[], options?: { key?: boolean }): Located
}

/** Pure: `rules[0].when.deployedWithin`. */
export function formatPath (path: readonly PathSegment[]): string {
  let out = ''
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : (out === '' ? part : `.${part}`)
  return out
}

/** A rules file's text parsed once, for each reader of it (the YAML parse is the costly part). */
export interface ParsedYaml { readonly doc: Document, readonly lines: LineCounter }

export function parseYaml (text: string): ParsedYaml {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true })
  return { doc, lines }
}

/** At most this many alias expansions: a "billion laughs" file is refused, not expanded. */
const MAX_ALIAS_COUNT = 100

export type YamlData =
  | { readonly ok: true, readonly data: unknown }
  | { readonly ok: false, readonly line: number, readonly column: number, readonly message: string }

/**
 * Pure: the document as plain data. The yaml library resolves aliases only here, and throws for
 * one whose anchor is missing (`*x` with no `&x` before it) or for too many expansions; those
 * become an error placed at the first alias, never an exception for the caller.
 */
export function yamlData (doc: Document, lines: LineCounter): YamlData {
  if (doc.contents === null) return { ok: true, data: {} }
  // A list or a map as a key (`? [a, b]`) has no place in a rules file: the yaml library would
  // make it the text "[ a, b ]" (a header's name, a param's) and warn on the process's stderr.
  let complexKey: number | undefined
  visit(doc, {
    Pair (_key, pair) {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key
      if (!isCollection(key)) return undefined
      complexKey = (pair.key as Node).range?.[0]
      return visit.BREAK
    },
  })
  if (complexKey !== undefined) {
    const pos = lines.linePos(complexKey)
    return { ok: false, line: pos.line, column: pos.col, message: 'a mapping key must be a plain value, not a list or a map' }
  }
  try {
    return { ok: true, data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) }
  } catch (err) {
    let offset: number | undefined
    let name = ''
    visit(doc, {
      Alias (_key, node) {
        offset = node.range?.[0]
        name = node.source
        return visit.BREAK
      },
    })
    const pos = offset === undefined ? { line: 0, col: 0 } : lines.linePos(offset)
    const reason = (err as Error).message.split('\n')[0] ?? String(err)
    return { ok: false, line: pos.line, column: pos.col, message: `YAML alias${name === '' ? '' : ` *${name}`}: ${reason}` }
  }
}

export function sourceMap (doc: Document, lines: LineCounter): SourceMap {
  const position = (offset: number | undefined): Located => {
    if (offset === undefined) return { line: 1, column: 1 }
    const p = lines.linePos(offset)
    return { line: p.line, column: p.col }
  }
  return {
    doc,
    locate (path, options = {}) {
      let node: unknown = doc.contents
      let last: Node | undefined = isMap(node) || isSeq(node) || isScalar(node) ? node : undefined
      let keyNode: Node | undefined
      for (const [i, segment] of path.entries()) {
        keyNode = undefined
        let next: unknown
        if (isMap(node)) {
          const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment))
          if (pair !== undefined) {
            keyNode = isScalar(pair.key) ? pair.key : undefined
            next = pair.value ?? undefined
            // A key written without a value (`cooldown:`) has no value node: point at the key.
            if (next === null || next === undefined) return position((keyNode ?? last)?.range?.[0])
          }
        } else if (isSeq(node) && typeof segment === 'number') {
          next = node.items[segment]
        }
        if (next === undefined) return position(last?.range?.[0])
        node = next
        if (isMap(node) || isSeq(node) || isScalar(node)) last = node
        if (i === path.length - 1 && options.key === true && keyNode !== undefined) return position(keyNode.range?.[0])
      }
      return position(last?.range?.[0])
    },
  }
}
