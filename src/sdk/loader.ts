/**
 * The custom-action loader (SPEC 7): the rules file's `plugins:` list, each entry a path relative
 * to the rules file or a package name, resolved from the rules file's directory and then from the
 * service's own installation — in the container the rules file is a ConfigMap mount with no
 * node_modules beside it, and ESM ignores NODE_PATH, so a package installed into the image is
 * found through the second root.
 *
 * A module's default export is an action, an array of actions, or a function that receives
 * `{ defineAction, z, TerminalError, skip }` and returns them (possibly async): a single `.mjs`
 * mounted from a ConfigMap cannot import `dt-remediator` or `zod`, so it is handed them (`skip`
 * too, beyond SPEC 7's three, so that such a file can skip at plan time like any action). Every action goes
 * through the same contract check as the built-ins (the registry's), and every failure names the
 * module and what is wrong; the caller stops start-up (or refuses a reload) when any is listed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { importFile } from '../imports.js'
import { skip } from './contract.js'
import { contractProblems, defineAction } from './define.js'
import type { RegisteredAction } from './registry.js'

export interface LoadCustomActionsOptions {
  /** The rules file's directory: paths are relative to it; packages are looked for from it first. */
  readonly baseDir: string
  /** The service's installation, where packages are looked for second. Default: this package's root. */
  readonly serviceDir?: string
  /** Import file modules afresh when they changed since the last import (a reload). */
  readonly fresh?: boolean
}

export interface CustomActionError {
  /** The entry's position in `plugins:`. */
  readonly index: number
  readonly spec: string
  /** What is wrong, in a sentence that names the module: `plugins[0] ./x.mjs: …`. */
  readonly message: string
}

export interface LoadedCustomActions {
  readonly actions: RegisteredAction[]
  /** Empty when all loaded. */
  readonly errors: CustomActionError[]
}

/** What a factory default export receives. */
export interface CustomActionKit {
  readonly defineAction: typeof defineAction
  readonly z: typeof z
  readonly TerminalError: typeof TerminalError
  /** A plan-time skip (nothing to do): the run is skipped and the ladder moves on at once. */
  readonly skip: typeof skip
}

const KIT: CustomActionKit = Object.freeze({ defineAction, z, TerminalError, skip })

/** This package's root: src/sdk in a clone, dist/src/sdk when built. */
function packageRoot (): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      try {
        if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'dt-remediator') return dir
      } catch {
        // not ours; go up
      }
    }
    if (dirname(dir) === dir) return process.cwd()
  }
}

const isPathLike = (spec: string): boolean => spec.startsWith('./') || spec.startsWith('../') || isAbsolute(spec) || spec.startsWith('file:')

/** The entry of an `exports` value: a string, or conditions (import, node, default, require). */
function exportTarget (value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(exportTarget).find((v) => v !== undefined)
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>
    for (const condition of ['import', 'node', 'default', 'require']) {
      const hit = exportTarget(o[condition])
      if (hit !== undefined) return hit
    }
  }
  return undefined
}

/**
 * Pure but for reading package.json files: the file a package specifier names, looking in
 * node_modules from `fromDir` up. ESM resolution of a bare name without import.meta.resolve's
 * parent argument (behind a flag on Node 20): exports (`.` or a subpath, import conditions first),
 * else main, else index.js.
 */
export function resolvePackage (spec: string, fromDir: string): string | undefined {
  const parts = spec.split('/')
  const nameLength = spec.startsWith('@') ? 2 : 1
  const name = parts.slice(0, nameLength).join('/')
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.'
  for (let dir = resolve(fromDir); ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name)
    const manifest = join(pkgDir, 'package.json')
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown, main?: string }
      let entry: string | undefined
      if (pkg.exports !== undefined) {
        const exp = pkg.exports
        const map = typeof exp === 'object' && exp !== null && !Array.isArray(exp) && Object.keys(exp).some((k) => k.startsWith('.'))
          ? exp as Record<string, unknown>
          : { '.': exp }
        entry = exportTarget(map[subpath])
      } else {
        entry = subpath === '.' ? pkg.main ?? 'index.js' : subpath
      }
      return entry === undefined ? undefined : join(pkgDir, entry)
    }
    if (dirname(dir) === dir) return undefined
  }
}

function describe (value: unknown): string {
  const name = (value as { name?: unknown } | null)?.name
  return typeof name === 'string' && name !== '' ? `action ${name}` : 'an action'
}

/** Loads every `plugins:` entry; never throws for a bad module, it lists it in `errors`. */
export async function loadCustomActions (specs: readonly string[], options: LoadCustomActionsOptions): Promise<LoadedCustomActions> {
  const actions: RegisteredAction[] = []
  const errors: CustomActionError[] = []
  const serviceDir = options.serviceDir ?? packageRoot()
  // Every path and package is found before any is imported: a list with one bad entry runs no module's code.
  const files: string[] = []
  for (const [i, spec] of specs.entries()) {
    const fail = (message: string): void => { errors.push({ index: i, spec, message: `plugins[${i}] ${spec}: ${message}` }) }
    if (isPathLike(spec)) {
      const file = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(options.baseDir, spec)
      if (!existsSync(file)) fail(`${file} does not exist (paths are relative to the rules file's directory, ${options.baseDir})`)
      files.push(file)
    } else {
      const file = resolvePackage(spec, options.baseDir) ?? resolvePackage(spec, serviceDir)
      if (file === undefined) fail(`package not found from the rules file's directory (${options.baseDir}) nor from the service's installation (${serviceDir})`)
      files.push(file ?? '')
    }
  }
  if (errors.length > 0) return { actions, errors }
  for (const [i, spec] of specs.entries()) {
    const label = `plugins[${i}] ${spec}`
    const fail = (message: string): void => { errors.push({ index: i, spec, message: `${label}: ${message}` }) }
    const file = files[i] as string
    let exported: unknown
    try {
      const url = pathToFileURL(file)
      if (options.fresh === true) url.search = `?mtime=${statSync(file).mtimeMs}`
      const mod = await importFile(url.href) as { default?: unknown }
      exported = mod.default
    } catch (err) {
      fail(`cannot be imported: ${(err as Error).message.split('\n')[0] ?? String(err)}`)
      continue
    }
    if (exported === undefined) {
      fail('has no default export; export an action, an array of actions, or a function ({ defineAction, z, TerminalError }) => actions')
      continue
    }
    // An action is an object with a run function; a function default export is a factory.
    if (typeof exported === 'function') {
      try {
        exported = await (exported as (kit: CustomActionKit) => unknown)(KIT)
      } catch (err) {
        fail(`its default export threw: ${(err as Error).message}`)
        continue
      }
    }
    const list = Array.isArray(exported) ? exported : [exported]
    if (list.length === 0) fail('exports no action (an empty array)')
    for (const [j, candidate] of list.entries()) {
      const problems = contractProblems(candidate)
      const which = list.length === 1 ? describe(candidate) : `${describe(candidate)} (item ${j})`
      if (problems.length > 0) fail(`${which} does not satisfy the action contract: ${problems.join('; ')}`)
      else actions.push({ action: candidate, source: spec })
    }
  }
  return { actions, errors }
}
