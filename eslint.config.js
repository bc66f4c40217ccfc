// npm run lint: neostandard (the Fastify organisation's style) plus the layers of the tree
// (../shared/STYLE.md "Shape of the tree"), so an import that points up or sideways fails here
// rather than in review. Every arrow points down:
//
//   errors < domain < clock, memory, metrics, version < dynatrace, kubernetes, store < config < sdk < runner
//          < routes, plugins, actions < app (app.ts, server.ts, index.ts), cli
//
// sim/ may import the product; nothing in src/, plugins/ or actions/ imports sim/ (the CLI loads
// sim/verbs.js through one dynamic import of a computed URL, which no static rule sees).
import boundaries from 'eslint-plugin-boundaries'
import neostandard from 'neostandard'

const elements = [
  { type: 'errors', pattern: 'src/errors.ts', mode: 'full' },
  { type: 'domain', pattern: 'src/domain/**', mode: 'full' },
  { type: 'base', pattern: ['src/clock.ts', 'src/memory.ts', 'src/metrics.ts', 'src/version.ts'], mode: 'full' },
  { type: 'dynatrace', pattern: 'src/dynatrace/**', mode: 'full' },
  { type: 'kubernetes', pattern: 'src/kubernetes/**', mode: 'full' },
  { type: 'store', pattern: 'src/store/**', mode: 'full' },
  { type: 'config', pattern: 'src/config.ts', mode: 'full' },
  { type: 'sdk', pattern: 'src/sdk/**', mode: 'full' },
  { type: 'runner', pattern: 'src/runner/**', mode: 'full' },
  { type: 'routes', pattern: 'src/routes/**', mode: 'full' },
  { type: 'plugins', pattern: 'plugins/**', mode: 'full' },
  { type: 'actions', pattern: 'actions/**', mode: 'full' },
  { type: 'app', pattern: ['src/app.ts', 'src/server.ts', 'src/index.ts'], mode: 'full' },
  { type: 'cli', pattern: ['src/cli.ts', 'src/cli/**'], mode: 'full' },
  { type: 'sim', pattern: 'sim/**', mode: 'full' },
]

const below = {
  errors: [],
  domain: ['errors'],
  base: ['errors', 'domain'],
  dynatrace: ['errors', 'domain', 'base'],
  kubernetes: ['errors', 'domain', 'base'],
  store: ['errors', 'domain', 'base'],
  config: ['errors', 'domain', 'base', 'dynatrace'],
}
below.sdk = [...below.config, 'config', 'kubernetes', 'store']
below.runner = [...below.sdk, 'sdk']
below.routes = [...below.runner, 'runner']
below.plugins = below.routes
below.actions = below.runner
below.app = [...below.routes, 'routes', 'plugins', 'actions']
below.cli = [...below.app, 'app']
below.sim = [...below.cli, 'cli']

/** The ground floor imports no Fastify, SQL, network or file system. */
const notOnTheGroundFloor = [
  'fastify', 'fastify-*', '@fastify/*', 'pg', 'better-sqlite3', 'kysely', 'undici', '@kubernetes/*', 'prom-client',
  'node:fs', 'node:fs/*', 'node:http', 'node:https', 'node:net', 'node:child_process',
]

export default [
  { ignores: ['dist/**', 'coverage/**', '.tap/**', 'tap-snapshots/**', 'data/**', 'node_modules/**'] },
  ...neostandard({ ts: true }),
  // `${tag:…}`, `${env:…}` are the rules file's placeholder syntax (SPEC 5): strings holding them
  // are everywhere in the rules code and its tests, on purpose.
  { rules: { 'no-template-curly-in-string': 'off' } },
  {
    files: ['src/**/*.ts', 'plugins/**/*.ts', 'actions/**/*.ts', 'sim/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/include': ['src/**/*.ts', 'plugins/**/*.ts', 'actions/**/*.ts', 'sim/**/*.ts'],
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'boundaries/element-types': [2, {
        default: 'disallow',
        message: '${file.type} must not import ${dependency.type} (STYLE: every arrow points down; see eslint.config.js)',
        rules: Object.entries(below).map(([from, allow]) => ({ from, allow: [from, ...allow] })),
      }],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [2, { patterns: [{ group: notOnTheGroundFloor, message: 'src/domain is pure: no Fastify, SQL, network or file system' }] }],
    },
  },
]
