// The service's start-up bundle (`npm run build`, after tsc): `serve` loads ~800 modules before it
// is ready, and on Node 20 resolving, reading and linking them one by one was most of its start.
// esbuild joins dist/src/server.js and what it imports into dist/src/bundle/, split at every
// dynamic import, so what `serve` loads only later (the admin API and console, PostgreSQL, the
// Kubernetes client) stays out of the start. dist/src/cli/serve.js runs the bundle when it is
// there; the tests run the sources, and test/cli/bundle.test.ts runs the built service.
//
// Kept out of the bundle, loaded from where they are:
// - dist/src/errors.js: a custom action throws TerminalError imported from the package
//   (dist/src/index.js), and the runner recognises it with instanceof; a second copy of the class
//   inside the bundle would not be the same class.
// - better-sqlite3 (a native addon), pg and @kubernetes/client-node (loaded only when configured).
// - the CommonJS packages the service imports with import(), when first needed: undici (the first
//   Dynatrace or outbound call), @fastify/sensible (the admin API) and cookie (@fastify/cookie
//   imports it so, for the console). In a split bundle such an import gives only the default
//   export, where Node gives the named ones too; the build stops if a package imported with
//   import() is not kept out.
//
// zod is joined: a custom action's params schema is made with the package's `z` (node_modules'
// zod), and the bundle's copy parses it and reads its issues. zod 4 is made to be loaded twice: it
// keeps its registry and its configuration on globalThis and recognises a schema by its traits,
// not by its class (the bundle's test has a custom action's `with` refused, by field). Of its 60
// locales only English is joined, the one zod configures itself with: the others were 354 KB of
// the 928 KB the start parsed. (The kit a single-file custom action receives carries this zod, so
// its `z.locales` has `en` alone; docs/custom-actions.md says so.)
//
// The bundle sits in dist/src/bundle/, two levels below dist/ as dist/src/cli/ is, so that a path
// a module makes from import.meta.url (the package root, node_modules) resolves as it did. Its
// inputs per output file are written to dist/bundle-meta.json, which the bundle's test reads.
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { build } from 'esbuild'

const shared = resolve('dist/src/errors.js')

const result = await build({
  entryPoints: { server: 'dist/src/server.js' },
  outdir: 'dist/src/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  // The dependencies written as CommonJS call require() for Node's own modules; an ES module has
  // no require of its own, so each output file makes one.
  banner: { js: "import { createRequire as __dtrCreateRequire } from 'node:module'; const require = __dtrCreateRequire(import.meta.url);" },
  external: ['better-sqlite3', 'pg', '@kubernetes/client-node', 'undici', '@fastify/sensible', 'cookie'],
  // Stack traces name the bundle's files; these maps lead back to dist's (node --enable-source-maps).
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
  plugins: [{
    name: 'shared-modules',
    setup (b) {
      b.onResolve({ filter: /errors\.js$/ }, (args) => resolve(args.resolveDir, args.path) === shared ? { path: '../errors.js', external: true } : undefined)
    },
  }, {
    name: 'zod-english-only',
    setup (b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: "export { default as en } from './en.js'\n", loader: 'js' }))
    },
  }],
})

const dynamic = Object.values(result.metafile.outputs).map((output) => output.entryPoint).filter((entry) => entry?.startsWith('node_modules/'))
if (dynamic.length > 0) {
  process.stderr.write(`scripts/bundle.mjs: these packages are imported with import(); add them to external (a CommonJS one would lose its named exports in the bundle): ${dynamic.join(', ')}\n`)
  process.exit(1)
}

const inputs = Object.fromEntries(Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .map(([file, output]) => [file, { inputs: Object.keys(output.inputs) }]))
writeFileSync('dist/bundle-meta.json', JSON.stringify(inputs, null, 1) + '\n')
