// The service's start-up bundle (`npm run build`, after tsc): `serve` loads ~800 modules before it
// is ready, and on Node 20 resolving, reading and linking them one by one was most of its start.
// esbuild joins dist/src/server.js and what it imports into one CommonJS file,
// dist/src/bundle/server.cjs. A module the service imports with import() is joined too, but runs
// only when first imported (esbuild wraps it), so what `serve` needs only later (the admin API and
// console, PostgreSQL's store) is in the file without running at start.
//
// One CommonJS file, rather than ES modules, so that V8 can start it from a code cache: Node 20
// has no compile cache (module.enableCompileCache came in 22), and compiling the bundle was the
// largest part of the start left. dist/src/cli/bundle.js compiles the file with vm.Script and the
// cache that dist/src/cli/code-cache.js makes by starting the service once (made here below for
// the image's NODE_OPTIONS, as the image's own build makes it again with its node: V8 refuses a
// cache made by another version or under other flags, and the file is then compiled as before).
//
// Kept out of the bundle, loaded from where they are:
// - dist/src/errors.js: a custom action throws TerminalError imported from the package
//   (dist/src/index.js), and the runner recognises it with instanceof; a second copy of the class
//   inside the bundle would not be the same class. The loader imports the module and hands it to
//   the bundle (SHARED below), the same instance the package gives a custom action; and
//   dist/src/imports.js, through which the bundle imports what Node must load (src/imports.ts).
// - better-sqlite3 (a native addon), pg and @kubernetes/client-node (loaded only when configured)
//   and undici (the first outbound call): loaded by Node when first needed, so their code is not
//   in the file the start reads.
//
// zod is joined: a custom action's params schema is made with the package's `z` (node_modules'
// zod), and the bundle's copy parses it and reads its issues. zod 4 is made to be loaded twice: it
// keeps its registry and its configuration on globalThis and recognises a schema by its traits,
// not by its class (the bundle's test has a custom action's `with` refused, by field). Of its 60
// locales only English is joined, the one zod configures itself with: the others were 354 KB of
// the 928 KB the start parsed. (The kit a single-file custom action receives carries this zod, so
// its `z.locales` has `en` alone; docs/custom-actions.md says so.)
//
// The file is ASCII: esbuild escapes every other character in the code, and the few left in
// comments are replaced with '?' here (one UTF-16 unit for one, so the source map's columns hold),
// so that the loader reads it as Latin-1: a third of the time of decoding UTF-8, and a string of
// one byte a character, where a single em dash would make V8 keep 3.6 MB as two bytes each.
//
// The bundle sits in dist/src/bundle/, two levels below dist/ as dist/src/cli/ is, so that a path
// a module makes from import.meta.url (the package root, node_modules) resolves as it did. Its
// inputs are written to dist/bundle-meta.json, which the bundle's test reads.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { build, transform } from 'esbuild'

const OUT = 'dist/src/bundle/server.cjs'
// The compiled modules the bundle leaves to Node and is handed by dist/src/cli/bundle.js, each
// under globalThis[Symbol.for(key)]: the loader and this list must agree.
const SHARED = new Map([
  [resolve('dist/src/errors.js'), 'dt-remediator:errors'],
  [resolve('dist/src/imports.js'), 'dt-remediator:imports'],
])

const result = await build({
  entryPoints: { server: 'dist/src/server.js' },
  outdir: 'dist/src/bundle',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.18',
  charset: 'ascii',
  // A module's import.meta.url is the bundle's file, as it was for each chunk of the ES bundle.
  define: { 'import.meta.url': '__dtrImportMetaUrl' },
  banner: { js: "var __dtrImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  external: ['better-sqlite3', 'pg', '@kubernetes/client-node', 'undici'],
  // Stack traces name the bundle's file and its lines; under node --enable-source-maps the loader
  // requires the file instead of using the code cache, and this map leads back to dist's files.
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
  plugins: [{
    name: 'shared-modules',
    setup (b) {
      b.onResolve({ filter: /\.js$/ }, (args) => {
        const key = SHARED.get(resolve(args.resolveDir, args.path))
        return key === undefined ? undefined : { path: key, namespace: 'dtr-shared' }
      })
      b.onLoad({ filter: /.*/, namespace: 'dtr-shared' }, (args) => ({
        contents: `const shared = globalThis[Symbol.for(${JSON.stringify(args.path)})]
if (shared === undefined) throw new Error(${JSON.stringify(`${args.path} was not handed to the bundle: run it through dist/src/cli/serve.js`)})
module.exports = shared
`,
        loader: 'js',
      }))
    },
  }, {
    name: 'zod-english-only',
    setup (b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: "export { default as en } from './en.js'\n", loader: 'js' }))
    },
  }],
})

const text = readFileSync(OUT, 'utf8')
// An import() in the bundle would fail at run time (src/imports.ts says why). Looked for in the
// code without its comments (many mention import() in types).
const code = (await transform(text, { minifyWhitespace: true, loader: 'js', logLevel: 'silent' })).code
const dynamic = code.match(/\bimport\([^)]{0,80}/g) ?? []
if (dynamic.length > 0) {
  process.stderr.write(`scripts/bundle.mjs: the bundle has import() calls; load these through src/imports.ts:\n${dynamic.join('\n')}\n`)
  process.exit(1)
}
writeFileSync(OUT, text.replace(/[\u0080-\uffff]/g, '?'), 'latin1')

const inputs = Object.fromEntries(Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.cjs'))
  .map(([file, output]) => [file, { inputs: Object.keys(output.inputs) }]))

// The code cache, for the flags the image runs with (its ENV NODE_OPTIONS; the bench and
// `npm start` use the same). Without the Dockerfile (the image's build stage) there is none here:
// the image's runtime stage makes it with its own node (Dockerfile).
const dockerfile = existsSync('Dockerfile') ? readFileSync('Dockerfile', 'utf8') : ''
const nodeOptions = /^ENV NODE_OPTIONS=(.*)$/m.exec(dockerfile)?.[1]?.replace(/^"|"$/g, '')
if (nodeOptions !== undefined) {
  const made = spawnSync(process.execPath, [...nodeOptions.split(' ').filter((o) => o !== ''), 'dist/src/cli/code-cache.js'], { stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: process.env.PATH ?? '' }, timeout: 120_000 })
  if (made.status !== 0) {
    process.stderr.write(`scripts/bundle.mjs: the start-up code cache was not made (exit ${String(made.status ?? made.signal)}); the service starts without it\n`)
  }
}
// Last: ensureBuilt (test/helpers/build.ts) takes this file as the mark of a finished build.
writeFileSync('dist/bundle-meta.json', JSON.stringify(inputs, null, 1) + '\n')
