/**
 * Runs the service's start-up bundle (dist/src/bundle/server.cjs, scripts/bundle.mjs) with V8's
 * code cache: compiling the 3.6 MB file, and the functions the start then calls, was the largest
 * part of `serve`'s start, and Node 20 has no compile cache of its own. The cache
 * (`server.cjs.cache`) is made by dist/src/cli/code-cache.js, which starts the service once and
 * keeps what V8 compiled; `npm run build` makes it for the image's NODE_OPTIONS, and the image's
 * build makes it again with the image's node.
 *
 * A cache is only ever a shortcut. It is used when it was made from these very bytes (its first
 * 32 bytes are the SHA-256 of the file it was made from) and V8 accepts it (same V8, same flags);
 * otherwise the file is compiled as without one, and `serve` says why in its listening line. It is
 * read, never written, by `serve`: the image's code is not writable by the process that runs it.
 *
 * Under `node --enable-source-maps` the bundle is required as any CommonJS file instead (Node maps
 * stack traces only for the files it loads itself), without the cache.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'

/** The service's entry points, as dist/src/server.js exports them. */
export type ServerModule = typeof import('../server.js')

/** What became of the code cache when the bundle was compiled. */
export type CodeCacheUse =
  /** V8 took it: the bundle was not compiled again. */
  | 'used'
  /** There is none beside the bundle (made by `npm run build` and the image's build). */
  | 'absent'
  /** It was made from other bytes than the bundle's (a bundle replaced without a build). */
  | 'stale'
  /** V8 refused it: another node, or other V8 flags (NODE_OPTIONS) than the build's. */
  | 'rejected'
  /** Source maps were asked for (--enable-source-maps): the bundle was required, uncached. */
  | 'off'

export interface LoadedBundle {
  readonly server: ServerModule
  readonly codeCache: CodeCacheUse
  /** What V8 holds compiled of the bundle now, as the cache file's bytes (after a start). */
  cacheData(): Buffer
}

/** The bundle beside the compiled modules, when the build made one. */
export const BUNDLE_FILE = fileURLToPath(new URL('../bundle/server.cjs', import.meta.url))
export const cacheFileOf = (bundle: string): string => `${bundle}.cache`

/**
 * The compiled modules the bundle leaves out and is handed, each under
 * globalThis[Symbol.for(key)] (scripts/bundle.mjs, SHARED): errors.js, whose TerminalError a
 * custom action imports from the package and the runner recognises with instanceof (one class,
 * not a copy), and imports.js, the bundle's import() (src/imports.ts).
 */
async function handShared (): Promise<void> {
  const shared = globalThis as Record<symbol, unknown>
  const [errors, imports] = await Promise.all([import('../errors.js'), import('../imports.js')])
  shared[Symbol.for('dt-remediator:errors')] ??= errors
  shared[Symbol.for('dt-remediator:imports')] ??= imports
}

/** The cache file's header: the SHA-256 of the bundle it was made from. */
const DIGEST_BYTES = 32

const digestOf = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest()

/**
 * The bundle's code as one function of CommonJS's five arguments, on the file's own first line so
 * that a stack trace's line numbers are the file's.
 */
const wrap = (source: string): string => `(function (exports, require, module, __filename, __dirname) {${source}\n})`

export interface LoadBundleOptions {
  /** Whether to read the cache beside the file (code-cache.ts compiles afresh, to make one). */
  readonly readCache?: boolean
}

/**
 * Whether the process was started with --enable-source-maps (on its command line or in
 * NODE_OPTIONS, where Node lets an option be quoted): the operator's choice. Not
 * `process.sourceMapsEnabled`, which a preloaded module may turn on for its own ends (tap's does,
 * in every process a test starts).
 */
const sourceMapsAsked = (): boolean =>
  [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/).map((option) => option.replace(/^"(.*)"$/, '$1'))].includes('--enable-source-maps')

/** Compiles and runs the bundle: its exports, and what became of its code cache. */
export async function loadBundle (file: string = BUNDLE_FILE, options: LoadBundleOptions = {}): Promise<LoadedBundle> {
  await handShared()
  if (sourceMapsAsked()) {
    const server = createRequire(file)(file) as ServerModule
    return { server, codeCache: 'off', cacheData: () => { throw new Error('no code cache under --enable-source-maps') } }
  }
  // The build leaves the file ASCII (scripts/bundle.mjs): read as Latin-1, it is the same text.
  const bytes = readFileSync(file)
  const cacheFile = cacheFileOf(file)
  const cache = options.readCache !== false && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined
  const matches = cache !== undefined && cache.length > DIGEST_BYTES && cache.subarray(0, DIGEST_BYTES).equals(digestOf(bytes))
  const script = new vm.Script(wrap(bytes.toString('latin1')), {
    filename: file,
    ...(matches ? { cachedData: cache.subarray(DIGEST_BYTES) } : {}),
  })
  const codeCache: CodeCacheUse = cache === undefined ? 'absent' : !matches ? 'stale' : script.cachedDataRejected === true ? 'rejected' : 'used'
  const module = { exports: {} as ServerModule }
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void
  run(module.exports, createRequire(file), module, file, dirname(file))
  return {
    server: module.exports,
    codeCache,
    cacheData: () => Buffer.concat([digestOf(bytes), script.createCachedData()]),
  }
}

/** Writes a cache file whole or not at all: a start never reads half of one. */
export function writeCacheFile (file: string, data: Buffer): void {
  const partial = `${file}.${process.pid}.partial`
  writeFileSync(partial, data)
  renameSync(partial, file)
}
