/**
 * examples/action-drain-queue, a custom action package of its own, as a platform team ships it:
 * its own tests (node:test with dt-remediator/testing) pass against the built package imported by
 * name; its Dockerfile builds FROM the service's image and puts the package where the service
 * looks; and in that image's layout — rebuilt here from both Dockerfiles' COPY lines, without
 * Docker — a rules file naming the package passes check-config.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { ensureBuilt, root } from '../helpers/build.js'
import { inherited, parseCopy, parseDockerfile, workdir, type Stage } from '../helpers/dockerfile.js'

const run = promisify(execFile)
const example = join(root, 'examples/action-drain-queue')
const pkg = JSON.parse(readFileSync(join(example, 'package.json'), 'utf8')) as { name: string, version: string, files: string[], peerDependencies: Record<string, string>, exports: Record<string, string> }

const ours = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'))
const derived = parseDockerfile(readFileSync(join(example, 'Dockerfile'), 'utf8'))
const oursRuntime = ours.at(-1) as Stage
const derivedFinal = derived.at(-1) as Stage
const appDir = workdir(ours, oursRuntime)

/** The example's files as `npm pack` would put them in its tarball (package.json + `files`). */
function packTo (dir: string): void {
  mkdirSync(dir, { recursive: true })
  for (const file of ['package.json', ...pkg.files]) cpSync(join(example, file), join(dir, file), { recursive: true })
}

/**
 * The service image's /app, made of this checkout as the runtime stage copies it: package.json,
 * dist/{src,plugins,actions}, config, node_modules (links to this checkout's) and the
 * node_modules/dt-remediator link the deps stage makes.
 */
function imageApp (base: string, options: { selfLink: boolean }): string {
  const app = join(base, 'app')
  mkdirSync(join(app, 'node_modules'), { recursive: true })
  for (const file of ['package.json', 'package-lock.json', 'config']) cpSync(join(root, file), join(app, file), { recursive: true })
  for (const dir of ['dist/src', 'dist/plugins', 'dist/actions']) cpSync(join(root, dir), join(app, dir), { recursive: true })
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (!entry.startsWith('.')) symlinkSync(join(root, 'node_modules', entry), join(app, 'node_modules', entry))
  }
  if (options.selfLink) symlinkSync('..', join(app, 'node_modules/dt-remediator'))
  return app
}

/** The derived image: the package where its Dockerfile's last COPY puts it. */
function installPackage (app: string): void {
  const copy = derivedFinal.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args)).at(-1)
  if (copy === undefined) throw new Error('the example Dockerfile copies nothing into the image')
  packTo(join(app, posix.relative(appDir, copy.dest)))
}

/** A rules file as the ConfigMap mounts it: a directory of its own, no node_modules near it. */
function mountedRules (base: string): string {
  const dir = join(base, 'etc/dt-remediator/rules')
  mkdirSync(dir, { recursive: true })
  cpSync(join(example, 'remediation.yaml'), join(dir, 'remediation.yaml'))
  return join(dir, 'remediation.yaml')
}

async function checkConfig (app: string, rules: string): Promise<{ code: number, out: string }> {
  const env = { PATH: process.env.PATH ?? '', DTR_HTTP_ALLOWED_HOSTS: 'queue-admin.messaging.svc', DTR_LOG_LEVEL: 'silent' }
  try {
    const { stdout } = await run(process.execPath, [join(app, 'dist/src/cli.js'), 'check-config', '--strict', rules], { cwd: app, env })
    return { code: 0, out: stdout }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, out: `${e.stdout}${e.stderr}` }
  }
}

t.before(ensureBuilt)

t.test('the example\'s own tests pass against the built package, imported by name', async (t) => {
  const dir = join(t.testdir(), 'repo')
  packTo(dir)
  cpSync(join(example, 'test'), join(dir, 'test'), { recursive: true })
  mkdirSync(join(dir, 'node_modules'))
  // What `npm install` makes of the devDependency "file:../..": a link to this checkout.
  symlinkSync(root, join(dir, 'node_modules/dt-remediator'), 'dir')
  const { stdout } = await run(process.execPath, ['--test', '--test-reporter=tap', 'test/'], { cwd: dir })
  t.match(stdout, /^# pass [1-9]\d*$/m, 'tests ran')
  t.match(stdout, /^# fail 0$/m, 'and none failed')
})

t.test('the package declares dt-remediator as a peer and exports one entry the loader resolves', async (t) => {
  t.ok(pkg.peerDependencies['dt-remediator'], 'the image provides dt-remediator; the package does not bring its own')
  t.equal(pkg.exports['.'], './index.js')
  t.ok(pkg.files.includes('index.js'))
})

t.test('the example Dockerfile builds FROM the service image and installs the package where the service looks', async (t) => {
  t.match(derivedFinal.image, /^dt-remediator:/, 'the final stage is the service image (DTR_IMAGE)')
  t.notOk(derivedFinal.instructions.some((i) => i.keyword === 'USER'), 'it keeps the base image\'s non-root USER')
  t.notOk(derivedFinal.instructions.some((i) => i.keyword === 'RUN'), 'nothing runs in the final stage: the service image has no npm')
  t.notOk(derivedFinal.instructions.some((i) => ['CMD', 'ENTRYPOINT'].includes(i.keyword)), 'CMD stays the service\'s')
  const copies = derivedFinal.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args))
  t.equal(copies.length, 1, 'one COPY: the package folder')
  t.equal(copies[0]?.dest, posix.join(appDir, 'node_modules', pkg.name), `into ${appDir}/node_modules/${pkg.name}, the service's installation`)
  t.notMatch(copies[0]?.sources.join(' ') ?? '', /--chown/, 'owned by root, like the rest of /app')

  const build = derived.find((s) => s.name === copies[0]?.from)
  if (build === undefined) return t.fail('the package comes from a build stage')
  t.match(build.image, /^node:24-/, 'built on the Node of the service image')
  t.equal(build.image, ours[0]?.image, 'the same base as the service image')
  const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n')
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: example })
  const [packed] = JSON.parse(stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  t.ok(runs.includes(`/tmp/${packed?.filename ?? '?'}`), `installs the tarball npm pack makes (${packed?.filename ?? '?'})`)
  t.match(runs, /--global --prefix \/opt\/actions/, 'globally under a prefix: the package\'s own dependencies nest in its folder')
  t.match(runs, /--omit=peer/, 'without the peer dependency, which the image provides')
  t.ok(copies[0]?.sources[0] === `/opt/actions/lib/node_modules/${pkg.name}`, 'and copies that folder')
  const contextFiles = build.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => parseCopy(i.args).sources)
  for (const file of packed?.files.map((f) => f.path) ?? []) t.ok(contextFiles.includes(file), `${file}, which npm pack packs, is copied in`)
})

t.test('the service image makes dt-remediator importable by name from its node_modules', async (t) => {
  const modules = oursRuntime.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args)).find((c) => c.sources.some((s) => /node_modules\/?$/.test(s)))
  const deps = ours.find((s) => s.name === modules?.from)
  if (deps === undefined) return t.fail('node_modules come from a stage')
  const runs = deps.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n')
  t.match(runs, /ln -s \.\. node_modules\/dt-remediator(\s|$)/, 'node_modules/dt-remediator links to /app')
  t.equal(workdir(ours, deps), appDir, 'in the stage whose /app is copied')
  t.equal(inherited(ours, oursRuntime, 'USER')?.args, '1000:1000')
})

t.test('in the derived image\'s layout the mounted rules file loads the package and passes check-config --strict', async (t) => {
  const base = t.testdir()
  const app = imageApp(base, { selfLink: true })
  installPackage(app)
  const result = await checkConfig(app, mountedRules(base))
  t.equal(result.code, 0, result.out)
  t.match(result.out, /custom actions loaded: acme\.drain-queue/)
  t.match(result.out, /actions used: acme\.drain-queue, kubernetes\.restart/)
})

t.test('the broker\'s host must be allowed, as for http.request', async (t) => {
  const base = t.testdir()
  const app = imageApp(base, { selfLink: true })
  installPackage(app)
  const rules = mountedRules(base)
  writeFileSync(rules, readFileSync(rules, 'utf8').replace('broker: "http://queue-admin.messaging.svc', 'broker: "http://evil.example.com'))
  const result = await checkConfig(app, rules)
  t.equal(result.code, 1)
  t.match(result.out, /evil\.example\.com/)
})

t.test('without the image\'s link a package that imports dt-remediator fails to load, naming itself', async (t) => {
  const base = t.testdir()
  const app = imageApp(base, { selfLink: false })
  installPackage(app)
  const result = await checkConfig(app, mountedRules(base))
  t.equal(result.code, 1)
  t.match(result.out, /plugins\[0\] @acme\/dtr-action-drain-queue: cannot be imported: .*dt-remediator/)
})
