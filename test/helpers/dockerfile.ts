/**
 * A model of Dockerfiles for tests that cannot run Docker (test/deploy/dockerfile.test.ts for the
 * service's image, test/examples for a platform team's image built FROM it): stages and their
 * instructions, COPY arguments, what a stage inherits from the stages it is built on, and
 * .dockerignore's matching.
 */
import { posix } from 'node:path'

export interface Instruction {
  readonly keyword: string
  /** The text after the keyword, continuation lines joined. */
  readonly args: string
}

export interface Stage {
  readonly image: string
  readonly name: string | undefined
  readonly instructions: readonly Instruction[]
}

/** Pure: splits a Dockerfile into stages of instructions (comments dropped, `\` continuations joined). */
export function parseDockerfile (text: string): Stage[] {
  const instructions: Instruction[] = []
  let pending = ''
  for (const line of text.split('\n')) {
    if (pending === '' && /^\s*(#|$)/.test(line)) continue
    if (/^\s*#/.test(line)) continue // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' '
      continue
    }
    const full = (pending + line).trim()
    pending = ''
    const match = /^(\S+)\s+([\s\S]*)$/.exec(full)
    if (match === null) throw new Error(`Cannot parse Dockerfile line: ${full}`)
    instructions.push({ keyword: (match[1] as string).toUpperCase(), args: (match[2] as string).trim() })
  }
  const stages: Array<{ image: string, name: string | undefined, instructions: Instruction[] }> = []
  // ARGs before the first FROM may be used in FROM lines (their defaults are what a plain
  // `docker build` uses).
  const globalArgs = new Map<string, string>()
  for (const instruction of instructions) {
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = instruction.args.split('=', 2) as [string, string?]
      globalArgs.set(name.trim(), value.trim().replace(/^"|"$/g, ''))
    } else if (instruction.keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args)
      if (from === null) throw new Error(`Cannot parse FROM ${instruction.args}`)
      const image = (from[1] as string).replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced?: string, bare?: string) => {
        const name = braced ?? bare ?? ''
        const value = globalArgs.get(name)
        if (value === undefined || value === '') throw new Error(`FROM uses $${name}, which has no default`)
        return value
      })
      stages.push({ image, name: from[2]?.toLowerCase(), instructions: [] })
    } else {
      const stage = stages.at(-1)
      if (stage === undefined) throw new Error(`${instruction.keyword} before the first FROM`)
      stage.instructions.push(instruction)
    }
  }
  return stages
}

export interface Copy {
  readonly from: string | undefined
  readonly sources: readonly string[]
  readonly dest: string
}

export function parseCopy (args: string): Copy {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/)
  const flags = words.filter((w) => w.startsWith('--'))
  const paths = words.filter((w) => !w.startsWith('--'))
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length)
  if (paths.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`)
  return { from: from?.toLowerCase(), sources: paths.slice(0, -1), dest: paths.at(-1) as string }
}

/** The stage and every stage it is built FROM, nearest first. */
export function lineage (stages: readonly Stage[], stage: Stage): Stage[] {
  const chain = [stage]
  let current = stage
  for (;;) {
    const parent = stages.find((s) => s.name === current.image.toLowerCase())
    if (parent === undefined || chain.includes(parent)) return chain
    chain.push(parent)
    current = parent
  }
}

/** The value an instruction last set in this stage or the stages it builds on. */
export function inherited (stages: readonly Stage[], stage: Stage, keyword: string): Instruction | undefined {
  for (const s of lineage(stages, stage)) {
    const found = s.instructions.filter((i) => i.keyword === keyword).at(-1)
    if (found !== undefined) return found
  }
  return undefined
}

export function workdir (stages: readonly Stage[], stage: Stage): string {
  const dir = inherited(stages, stage, 'WORKDIR')?.args
  if (dir === undefined) throw new Error(`stage ${stage.name ?? stage.image} has no WORKDIR`)
  return dir
}

/**
 * Pure: Docker's .dockerignore semantics (moby/patternmatcher): patterns are cleaned paths with
 * `*`, `?` and `**`; `!` re-includes; the last matching pattern wins; a pattern that matches a
 * parent directory matches everything below it.
 */
export function dockerignore (text: string): (path: string) => boolean {
  const patterns = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((line) => {
    const negated = line.startsWith('!')
    const pattern = posix.normalize((negated ? line.slice(1) : line).trim()).replace(/^\/+|\/+$/g, '')
    if (/[[\]\\]/.test(pattern)) throw new Error(`.dockerignore pattern "${line}" uses syntax this test does not model`)
    let source = ''
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i] as string
      if (c === '*' && pattern[i + 1] === '*') {
        // `**/` matches any number of directories, including none; a trailing `**` matches all.
        source += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*'
        i += pattern[i + 2] === '/' ? 2 : 1
      } else if (c === '*') source += '[^/]*'
      else if (c === '?') source += '[^/]'
      else source += c.replace(/[.+^${}()|]/g, '\\$&')
    }
    return { negated, regex: new RegExp(`^${source}$`), depth: pattern.split('/').length }
  })
  return (path: string): boolean => {
    const parts = posix.normalize(path).split('/')
    let excluded = false
    for (const { negated, regex, depth } of patterns) {
      let match = regex.test(parts.join('/'))
      if (!match && parts.length > 1 && depth <= parts.length - 1) match = regex.test(parts.slice(0, depth).join('/'))
      if (match) excluded = !negated
    }
    return excluded
  }
}
