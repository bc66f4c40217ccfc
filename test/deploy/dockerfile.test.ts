/**
 * What can be known about the image without Docker: the Dockerfile copies only files that exist
 * and that .dockerignore lets into the build context, builds with dev dependencies and ships only
 * production ones, runs the package's bin as a numeric non-root user on an LTS Node, and agrees
 * with deploy/kubernetes/deployment.yaml on the user, the port and the data directory.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config.js'
import { dockerignore, inherited, lineage, parseCopy, parseDockerfile, workdir, type Stage } from '../helpers/dockerfile.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string): string => readFileSync(join(root, path), 'utf8')

function filesUnder (path: string): string[] {
  if (!statSync(join(root, path)).isDirectory()) return [path]
  return readdirSync(join(root, path)).flatMap((entry) => filesUnder(posix.join(path, entry)))
}

const stages = parseDockerfile(read('Dockerfile'))
const runtime = stages.at(-1) as Stage
const isExcluded = dockerignore(read('.dockerignore'))
const contextCopies = stages.flatMap((stage) => stage.instructions
  .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
  .map((i) => ({ stage, copy: parseCopy(i.args), keyword: i.keyword }))
  .filter(({ copy }) => copy.from === undefined))

t.test('the .dockerignore model follows Docker\'s rules', async (t) => {
  const allowList = dockerignore('*\n!src/\n!package.json\nsrc/**/*.tmp')
  t.equal(allowList('README.md'), true, '* excludes a top-level file')
  t.equal(allowList('data/dt-remediator.db'), true, '* excludes everything under a top-level directory')
  t.equal(allowList('src/store/migrations/001_intake.sql'), false, '!src/ re-includes what is below src')
  t.equal(allowList('src/a/b.tmp'), true, 'the last matching pattern wins')
  t.equal(allowList('package.json'), false)
  const plain = dockerignore('node_modules\n**/*.log\n!keep.log')
  t.equal(plain('node_modules/yaml/package.json'), true)
  t.equal(plain('src/node_modules/x'), false, 'a plain pattern is anchored at the context root')
  t.equal(plain('a/b/c.log'), true, '**/ spans directories')
  t.equal(plain('keep.log'), false)
})

t.test('every COPY from the build context names an existing path that .dockerignore lets through', async (t) => {
  t.ok(contextCopies.length >= 3, 'the Dockerfile copies from the build context')
  for (const { copy, keyword } of contextCopies) {
    t.equal(keyword, 'COPY', 'COPY, not ADD: no remote URLs or archive extraction')
    for (const source of copy.sources) {
      const path = posix.normalize(source).replace(/\/$/, '')
      t.notMatch(path, /[*?[]/, `${source}: a plain path, so that this test can check it`)
      t.notOk(path.startsWith('..') || path.startsWith('/'), `${source} is inside the context`)
      if (path === 'dist' || path.startsWith('dist/')) continue // produced by npm run build
      t.ok(existsSync(join(root, path)), `${source} exists in the repository`)
      if (!existsSync(join(root, path))) continue
      const blocked = filesUnder(path).filter(isExcluded)
      t.same(blocked, [], `.dockerignore lets all of ${source} into the build context`)
    }
  }
})

t.test('.dockerignore keeps local state, secrets and host builds out of the context', async (t) => {
  for (const path of ['data/dt-remediator.db', 'data/dt-remediator.db-wal', 'data/owner.lock', 'data/owner.json', '.env', 'node_modules/yaml/package.json',
    'dist/src/cli.js', '.git/HEAD', 'coverage/lcov.info', '.tap/processinfo/x.json', 'test/config.test.ts']) {
    t.equal(isExcluded(path), true, `${path} is not sent to the builder`)
  }
})

t.test('the build stage compiles with dev dependencies and copies what npm run build reads', async (t) => {
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> }
  const build = stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args)))
  if (build === undefined) return t.fail('a stage runs npm run build')
  const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)
  t.ok(runs.some((r) => /\bnpm ci\b/.test(r) && !/--omit[= ]dev|--production/.test(r)), 'installs the dev dependencies (typescript)')
  const buildIndex = build.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args))
  const copied = build.instructions.slice(0, buildIndex).filter((i) => i.keyword === 'COPY')
    .flatMap((i) => parseCopy(i.args).sources.map((s) => posix.normalize(s).replace(/\/$/, '')))
  const isCopied = (path: string): boolean => copied.some((c) => path === c || path.startsWith(`${c}/`))
  // Every path the build script names (tsconfig.build.json, …), what the
  // build tsconfig extends, the sources, and the lock file npm ci needs.
  const named = (pkg.scripts.build ?? '').split(/\s+/).filter((w) => /[./]/.test(w) && !w.startsWith('dist') && existsSync(join(root, w)))
  t.ok(named.length > 0, 'the build script names files of the repository')
  const buildTsconfig = JSON.parse(read('tsconfig.build.json')) as { extends?: string }
  const extended = buildTsconfig.extends === undefined ? [] : [posix.normalize(buildTsconfig.extends)]
  for (const path of [...named, ...extended, 'src', 'package.json', 'package-lock.json']) {
    t.ok(isCopied(path), `${path} is copied before npm run build`)
  }
})

t.test('the runtime stage ships production dependencies and the build output only', async (t) => {
  const dir = workdir(stages, runtime)
  const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args))
  const resolveDest = (dest: string, source: string): string => {
    const target = posix.resolve(dir, dest)
    return dest.endsWith('/') || dest === '.' ? posix.join(target, posix.basename(source)) : target
  }
  const modules = copies.find((c) => c.sources.some((s) => /node_modules\/?$/.test(s)))
  if (modules?.from === undefined) return t.fail('node_modules come from an install stage')
  const depsStage = stages.find((s) => s.name === modules.from)
  if (depsStage === undefined) return t.fail(`stage ${modules.from} exists`)
  const installs = lineage(stages, depsStage).flatMap((s) => s.instructions).filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args))
  t.ok(installs.length > 0, `stage ${modules.from} installs dependencies`)
  for (const install of installs) t.match(install.args, /--omit[= ]dev/, `production dependencies only: ${install.args}`)
  t.equal(resolveDest(modules.dest, 'node_modules'), `${dir}/node_modules`)

  // The compiled tree keeps its layout: CMD runs dist/src/cli.js, and the store reads its
  // migrations next to the compiled code (dist/src/store/migrations). The operator console is
  // compiled with it (TSX to dist/src/routes/ui/*.js, its stylesheet a string in style.js):
  // nothing else to build or copy, and what it renders with is a production dependency.
  const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string, jsx?: string, jsxImportSource?: string } }
  t.equal(tsconfig.compilerOptions.jsx, 'react-jsx', 'tsc compiles the console\'s TSX itself: no bundler step')
  const deps = (JSON.parse(read('package.json')) as { dependencies: Record<string, string> }).dependencies
  for (const dep of [tsconfig.compilerOptions.jsxImportSource ?? 'preact', 'preact-render-to-string', '@fastify/cookie', '@fastify/csrf-protection', '@fastify/formbody', '@fastify/helmet']) t.ok(deps[dep], `${dep} is a production dependency (installed by npm ci --omit=dev)`)
  const outDir = posix.normalize(tsconfig.compilerOptions.outDir)
  for (const file of ['dist/src/cli.js', 'dist/src/store/migrations', 'dist/src/routes/ui/index.js']) {
    const shipped = copies.some((c) => {
      const buildStage = stages.find((s) => s.name === c.from)
      if (buildStage === undefined) return false
      const buildDir = workdir(stages, buildStage)
      return c.sources.some((source) => {
        const from = posix.relative(buildDir, posix.resolve(buildDir, source))
        const to = posix.relative(dir, posix.resolve(dir, c.dest))
        return (from === outDir || from.startsWith(`${outDir}/`)) && from === to &&
          (file === from || file.startsWith(`${from}/`))
      })
    })
    t.ok(shipped, `${dir}/${file} comes from the build stage's ${outDir}/ at the same place`)
  }
  const pkgCopy = copies.find((c) => c.sources.includes('package.json'))
  // Without it Node would not know that dist/**/*.js are ES modules ("type": "module").
  t.ok(pkgCopy !== undefined && resolveDest(pkgCopy.dest, 'package.json') === `${dir}/package.json`, 'package.json is next to dist')
  t.notOk(runtime.instructions.some((i) => i.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args)), 'nothing is installed in the runtime stage')
})

t.test('better-sqlite3\'s native addon is built where node_modules are installed, and shipped', async (t) => {
  const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args))
  const modules = copies.find((c) => c.sources.some((s) => /node_modules\/?$/.test(s)))
  const depsStage = stages.find((s) => s.name === modules?.from)
  if (depsStage === undefined) return t.fail('node_modules come from an install stage')
  for (const stage of [depsStage, stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args)))]) {
    if (stage === undefined) continue
    const runs = lineage(stages, stage).flatMap((s) => s.instructions).filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n')
    for (const tool of ['python3', 'make', 'g++']) {
      t.match(runs, new RegExp(`apt-get install[^\\n]*\\s${tool.replace('+', '\\+')}(\\s|$)`), `stage ${stage.name ?? stage.image} has ${tool} to compile the addon when no prebuilt binary can be had`)
    }
    t.match(runs, /npm rebuild better-sqlite3/, `stage ${stage.name ?? stage.image} runs better-sqlite3's install script (the others stay off)`)
  }
  const installs = lineage(stages, depsStage).flatMap((s) => s.instructions).filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n')
  t.match(installs, /better_sqlite3\.node/, 'the install stage checks that the addon was built')
  t.notOk(runtime.instructions.some((i) => i.keyword === 'RUN' && /apt-get install/.test(i.args)), 'the runtime stage has no compiler')
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> }
  t.match(pkg.dependencies['better-sqlite3'], /^\^12\./, 'better-sqlite3 12 (13 needs Node 22)')
})

t.test('the runtime stage runs as a numeric non-root user', async (t) => {
  const user = inherited(stages, runtime, 'USER')?.args
  if (user === undefined) return t.fail('the runtime stage sets USER')
  const match = /^(\d+)(?::(\d+))?$/.exec(user)
  t.ok(match, `USER ${user} is numeric, so Kubernetes can verify runAsNonRoot`)
  t.not(Number(match?.[1]), 0, 'not root')
  t.not(Number(match?.[2] ?? 1), 0, 'not the root group')
})

t.test('the runtime stage makes the bundle\'s code cache with its own node, under its NODE_OPTIONS, as root', async (t) => {
  const at = (match: (i: { keyword: string, args: string }) => boolean): number => runtime.instructions.findIndex(match)
  const made = at((i) => i.keyword === 'RUN' && /\bnode dist\/src\/cli\/code-cache\.js\b/.test(i.args))
  t.ok(made >= 0, 'a RUN makes it')
  t.ok(made > at((i) => i.keyword === 'ENV' && /\bNODE_OPTIONS=/.test(i.args)), 'after NODE_OPTIONS is set: V8 takes a cache only under the flags it was made with')
  t.ok(made > at((i) => i.keyword === 'COPY' && /\bconfig\b/.test(i.args)), 'after the shipped rules it starts with are there')
  const user = at((i) => i.keyword === 'USER')
  t.ok(user === -1 || made < user, 'before USER: written as root, not writable by the process that reads it')
  t.ok(existsSync(join(root, 'src/cli/code-cache.ts')), 'from src/cli/code-cache.ts')
})

t.test('CMD runs the package bin with serve', async (t) => {
  const cmd = inherited(stages, runtime, 'CMD')?.args
  if (cmd === undefined) return t.fail('the runtime stage has a CMD')
  t.notOk(inherited(stages, runtime, 'ENTRYPOINT'), 'no ENTRYPOINT wraps it')
  t.match(cmd, /^\[/, 'exec form, so node is PID 1 and receives SIGTERM itself')
  t.same(JSON.parse(cmd), ['node', 'dist/src/cli.js', 'serve'])
  const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> }
  t.equal(pkg.bin['dt-remediator'], 'dist/src/cli.js', 'the same file package.json\'s bin points to')
  const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string, rootDir: string } }
  const emitted = posix.join(tsconfig.compilerOptions.outDir, posix.relative(tsconfig.compilerOptions.rootDir, 'src/cli.ts')).replace(/\.ts$/, '.js')
  t.equal(emitted, 'dist/src/cli.js', 'which tsc emits from src/cli.ts')
  t.ok(existsSync(join(root, 'src/cli.ts')))
  t.equal(inherited(stages, runtime, 'STOPSIGNAL')?.args, 'SIGTERM', 'docker stop sends the signal that drains the service')
})

t.test('every base image is Node on an LTS (even) major the package supports', async (t) => {
  const external = stages.filter((s) => !stages.some((other) => other.name === s.image.toLowerCase()))
  t.ok(external.length > 0)
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node
  const minimum = Number(/>=\s*(\d+)/.exec(engines)?.[1])
  for (const stage of external) {
    const match = /^(?:docker\.io\/(?:library\/)?)?node:(\d+)(?:[.-][^@]*)?(?:@sha256:[0-9a-f]{64})?$/.exec(stage.image)
    t.ok(match, `${stage.image} is the official node image with a major version tag`)
    const major = Number(match?.[1])
    t.equal(major % 2, 0, `Node ${major} is an LTS line`)
    t.ok(major >= 22, `Node ${major} is still supported (22 or later)`)
    t.ok(major >= minimum, `Node ${major} satisfies engines ${engines}`)
  }
})

t.test('the Deployment runs the image as its user, on its port, with its data directory', async (t) => {
  const env = Object.fromEntries((runtime.instructions.filter((i) => i.keyword === 'ENV'))
    .flatMap((i) => [...i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((m) => [m[1] as string, (m[2] as string).replace(/^"|"$/g, '')])))
  const dataDir = env.DTR_DATA_DIR
  if (dataDir === undefined) return t.fail('the image sets DTR_DATA_DIR (the default ./data is inside the read-only /app)')
  const user = inherited(stages, runtime, 'USER')?.args ?? ''
  const [uid, gid = uid] = user.split(':')
  const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n')
  t.match(runs, new RegExp(`mkdir -p ${dataDir}(\\s|$)`), 'the data directory exists in the image')
  t.match(runs, new RegExp(`chown ${uid}:${gid} ${dataDir}(\\s|$)`), 'and belongs to the runtime user')
  t.ok(runtime.instructions.some((i) => i.keyword === 'VOLUME' && i.args.includes(dataDir)), 'and is a volume')

  const deployment = parse(read('deploy/kubernetes/deployment.yaml'), { version: '1.1' }) as {
    spec: {
      template: {
        spec: {
          securityContext?: { runAsUser?: number, runAsGroup?: number }
          containers: Array<{ securityContext?: { runAsUser?: number, runAsGroup?: number }, ports: Array<{ containerPort: number }>, env: Array<{ name: string, value?: string }> }>
        }
      }
    }
  }
  const pod = deployment.spec.template.spec
  const container = pod.containers[0]
  if (container === undefined) return t.fail('the Deployment has a container')
  t.equal(container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser, Number(uid), 'runAsUser is the image\'s USER')
  t.equal(container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup, Number(gid), 'runAsGroup is the image\'s group')
  t.equal(container.env.find((e) => e.name === 'DTR_DATA_DIR')?.value, dataDir, 'DTR_DATA_DIR is the image\'s')
  const exposed = runtime.instructions.filter((i) => i.keyword === 'EXPOSE').map((i) => Number.parseInt(i.args, 10))
  const port = loadConfig({}, { readFile: () => { throw new Error('no secrets here') } }).port
  t.same(exposed, [port], `EXPOSE is the service's default port ${port}`)
  t.same(container.ports.map((p) => p.containerPort), exposed, 'the container port is the exposed one')
})
