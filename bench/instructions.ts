/**
 * `npm run bench:instructions`: the CPU instructions one webhook request costs, counted by
 * valgrind's callgrind, for the service's answer to Dynatrace's test notification, the bare
 * Fastify route and, with `--peer-dir DIR`, the seed's reference template.
 *
 * Why: on a shared 2-core machine the same throughput run differs by 30–50% from one minute to
 * the next, which hides any change smaller than that. Instructions depend far less on the load of
 * the machine: in four runs each here, the bare route's count moved by ~5% (106.6k–111.5k) and
 * the template's by ~3% (153.7k–157.9k). The
 * service's moves more: its timers run during the count, and do more per request the longer the
 * count takes (with CI running beside it, five counts of its main thread read 183k–222k); the
 * `idle` column below is that share. Instructions are not time
 * (a cache miss costs more than an add, and a system call's kernel side is not counted), so
 * `npm run bench` stays the measure of the goals; this is the measure of a change.
 *
 * How it counts, per server:
 * - the server runs under `valgrind --tool=callgrind --instr-atstart=no`: it starts and warms up
 *   (W requests, so that V8 has optimised the request path) with counting off;
 * - `callgrind_control -i on` at the W-th answer, off after N more, from the same autocannon run
 *   on the same `--connections` connections (autocannon runs in this process, which valgrind
 *   does not count), then a dump;
 * - every thread of the server is counted (V8's compiler and GC threads): the count is all the
 *   CPU work the requests caused, divided by N; and the main thread's alone, which repeats
 *   better, since the other threads' work (V8 compiling and collecting) comes in bursts that do
 *   or do not fall in the count;
 * - and, before the load, what the server does idle (its timers and pollers), counted for 10 s:
 *   that rate, times how long the count took, is the share of the count that is not the
 *   requests'. Under valgrind a request takes ~50× its time, so for the service it is ~17k
 *   instructions per request on the main thread (~2.8M a second idle), where the bare route and
 *   the template have none. The ratios are of the counts net of it.
 * Even so the service's main thread reads one of two levels: of twelve counts at one commit on a
 * quiet machine, nine read 164k–170k and three 194k–199k, for a reason not found (no major GC
 * fell in the counts traced with --trace-gc). Compare a change by several runs.
 * New durable notifications are not counted here: each one is also work for the runner, and how
 * far the runner has got through the warm-up's notifications under valgrind decides what falls
 * in the count (13.2M instructions per request in a first try, counted in two autocannon runs).
 * Test notifications store nothing, and are the figure the template compares with.
 * Under valgrind every turn of the event loop is ~50× slower, so the service's shedding by
 * event-loop delay would answer 503s; a preload (valgrind-preload.ts) makes the delay read as it
 * reads on a machine that keeps up, and the run fails if any answer is not the expected one.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import autocannon, { type Result } from 'autocannon'
import { docsTest } from './bodies.js'
import { freePort } from './free-port.js'

const { values: flags } = parseArgs({
  options: {
    'peer-dir': { type: 'string' },
    requests: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '12000' },
    connections: { type: 'string', default: '2' },
  },
})
const REQUESTS = Number(flags.requests)
const WARMUP = Number(flags.warmup)
const CONNECTIONS = Number(flags.connections)
const TOKEN = 'bench-token-0123456789'
const here = fileURLToPath(new URL('.', import.meta.url))
const cli = join(here, '../src/cli.js')
const preload = pathToFileURL(join(here, 'valgrind-preload.js')).href

interface Scenario {
  readonly name: string
  /** The server's command line after `node`, its working directory and environment. */
  readonly args: string[]
  readonly cwd: string
  readonly env: Record<string, string>
  /** The port given to a server that says nothing (the template); without it, the URL is the JSON line the server prints. */
  readonly port?: number
  readonly path: string
  readonly body: string
  readonly status: number
}

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
/** After a server listens, before its idle work is counted; and how long that is counted. */
const SETTLE_MS = 10_000
const IDLE_MS = 10_000

/**
 * One autocannon run of WARMUP + REQUESTS requests on the same connections, with counting turned
 * on at the WARMUP-th answer and off at the last. One run, not two: a new run's new connections
 * make V8 deoptimise Node's HTTP code and compile it again, and a count that starts with new
 * connections counted that compilation more than the requests (the bare route read 320k
 * instructions per request that way, 108k this way).
 */
async function load (url: string, scenario: Scenario, counting: { on(): void, off(): void }): Promise<void> {
  const amount = WARMUP + REQUESTS
  let answers = 0
  const result = await new Promise<Result>((resolve, reject) => {
    const instance = autocannon({
      url,
      method: 'POST',
      connections: CONNECTIONS,
      amount,
      timeout: 120,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-source': 'dynatrace' },
      body: scenario.body,
    }, (err, finished) => { if (err === null || err === undefined) resolve(finished); else reject(err instanceof Error ? err : new Error(String(err))) })
    instance.on('response', () => {
      answers++
      if (answers === WARMUP) counting.on()
      else if (answers === amount) counting.off()
    })
  })
  const expected = (result.statusCodeStats as Record<string, { count: number }>)[String(scenario.status)]?.count ?? 0
  if (result.errors > 0 || expected !== amount) {
    throw new Error(`${scenario.name}: ${expected} of ${amount} answers were ${scenario.status} (${result.errors} errors, status codes ${JSON.stringify(result.statusCodeStats)})`)
  }
}

/**
 * Instructions per request of one scenario: every thread's, and the main thread's alone; and
 * `idle`, what the server does idle (its timers, its pollers) for as long as the count took.
 */
interface Counted { readonly all: number, readonly main: number, readonly idleAll: number, readonly idleMain: number }

/** The totals of the dump files in `dir` not yet in `seen` (which it then holds): all threads', and the main thread's (`-01`). */
function dumped (dir: string, seen: Set<string>): { all: number, main: number } {
  let all = 0
  let main = 0
  for (const file of readdirSync(dir).filter((f) => f.startsWith('callgrind.out') && !seen.has(f))) {
    seen.add(file)
    const totals = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))
    if (totals === null) continue
    all += Number(totals[1])
    if (file.endsWith('-01')) main += Number(totals[1])
  }
  return { all, main }
}

async function count (scenario: Scenario): Promise<Counted> {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-instructions-'))
  try {
    const out = join(dir, 'callgrind.out')
    const child: ChildProcess = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`, process.execPath, ...scenario.args], {
      cwd: scenario.cwd,
      env: { PATH: process.env.PATH ?? '', ...scenario.env, DTR_DATA_DIR: join(dir, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => { if (stdout.length < 65_536) stdout += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { if (stderr.length < 65_536) stderr += chunk.toString() })
    const exited = once(child, 'exit')
    let counted = { all: 0, main: 0 }
    let idle = { all: 0, main: 0 }
    try {
      let url: string | undefined
      for (let waited = 0; url === undefined; waited += 100) {
        if (child.exitCode !== null) throw new Error(`${scenario.name} exited before it listened: ${stderr.slice(-2000)}`)
        if (waited > 300_000) throw new Error(`${scenario.name} did not listen within 5 minutes under valgrind`)
        if (scenario.port !== undefined) {
          const answered = await fetch(`http://127.0.0.1:${scenario.port}${scenario.path}`, { method: 'POST', headers: { 'x-source': 'dynatrace' }, body: docsTest }).then(() => true, () => false)
          if (answered) url = `http://127.0.0.1:${scenario.port}`
        } else {
          const line = stdout.split('\n').find((l) => l.includes('"url"'))
          if (line !== undefined) url = (JSON.parse(line) as { url: string }).url
        }
        if (url === undefined) await sleep(100)
      }
      const target = `${url}${scenario.path}`
      const control = (...args: string[]): void => { execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' }) }
      // A dump holds what was counted since the last, a file per thread (`-01` is the main one).
      const seen = new Set<string>()
      // First the server idle, once its start-up is over (the service gives its start-up memory
      // back a second after it is ready): under valgrind a request takes ~50× its time, so a
      // server's timers (the service's log flush, its load sampler, its runner's polls) do ~50×
      // their share of work per request. Their rate, times how long the count took, is that share.
      await sleep(SETTLE_MS)
      control('-i', 'on')
      const idleFrom = performance.now()
      await sleep(IDLE_MS)
      control('-i', 'off')
      const idleMs = performance.now() - idleFrom
      control('-d')
      const idleRate = dumped(dir, seen)
      let from = 0
      let to = 0
      await load(target, scenario, { on: () => { control('-i', 'on'); from = performance.now() }, off: () => { control('-i', 'off'); to = performance.now() } })
      control('-d')
      counted = dumped(dir, seen)
      idle = { all: idleRate.all * (to - from) / idleMs, main: idleRate.main * (to - from) / idleMs }
    } finally {
      child.kill('SIGTERM')
      await exited
    }
    if (counted.all === 0 || counted.main === 0) throw new Error(`${scenario.name}: callgrind counted nothing${counted.all === 0 ? '' : ' on the main thread'}`)
    return { all: counted.all / REQUESTS, main: counted.main / REQUESTS, idleAll: idle.all / REQUESTS, idleMain: idle.main / REQUESTS }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const valgrind = spawnSync('valgrind', ['--version']).status === 0 && spawnSync('callgrind_control', ['--version']).status === 0
if (!valgrind) {
  process.stdout.write('Instructions per request: not measured: valgrind (with callgrind_control) is not installed here (Debian: apt-get install valgrind).\n')
} else {
  const serviceEnv = { DTR_PORT: '0', DTR_HOST: '127.0.0.1', DTR_WEBHOOK_TOKENS: TOKEN }
  // The image's NODE_OPTIONS, on the command line: valgrind runs node itself.
  const service = ['--import', preload, '--max-semi-space-size=8', '--max-old-space-size=192', cli, 'serve']
  const scenarios: Scenario[] = [
    { name: 'bare Fastify route (same body)', args: [join(here, 'bare-server.js')], cwd: process.cwd(), env: {}, path: '/webhooks/problem', body: docsTest, status: 202 },
  ]
  const peerDir = flags['peer-dir']
  if (peerDir !== undefined) {
    if (!existsSync(join(peerDir, 'app.js'))) throw new Error(`--peer-dir ${peerDir}: no app.js there`)
    const port = await freePort()
    // The template writes its log file into its working directory.
    const cwd = mkdtempSync(join(tmpdir(), 'dtr-template-'))
    process.once('exit', () => { rmSync(cwd, { recursive: true, force: true }) })
    scenarios.push({ name: 'reference template (--peer-dir), test notifications', args: [join(peerDir, 'app.js')], cwd, env: { PORT: String(port) }, port, path: '/dthandler', body: docsTest, status: 200 })
  }
  scenarios.push({ name: 'test notifications', args: service, cwd: process.cwd(), env: serviceEnv, path: '/webhooks/problem', body: docsTest, status: 200 })
  const say = (line: string): void => { process.stdout.write(`${line}\n`) }
  say(`Instructions per request (valgrind callgrind, every thread of the server): ${REQUESTS.toLocaleString('en-US')} requests from ${CONNECTIONS} connections after ${WARMUP.toLocaleString('en-US')} uncounted, Node ${process.version}`)
  const counted = new Map<string, Counted>()
  for (const scenario of scenarios) {
    process.stderr.write(`bench: instructions: ${scenario.name}\n`)
    counted.set(scenario.name, await count(scenario))
  }
  const bare = counted.get('bare Fastify route (same body)')
  const template = counted.get('reference template (--peer-dir), test notifications')
  const k = (n: number): string => `${(n / 1000).toFixed(1)}k`
  const net = (n: Counted): { all: number, main: number } => ({ all: n.all - n.idleAll, main: n.main - n.idleMain })
  const ratio = (of: Counted | undefined, n: Counted): string => {
    if (of === undefined) return ''
    const [a, b] = [net(of), net(n)]
    return `${(a.all / b.all).toFixed(2)}× / ${(a.main / b.main).toFixed(2)}×`
  }
  say('All threads / the main thread alone (the other threads\' work, V8 compiling and collecting, comes in bursts that do or do not fall in the count);')
  say('"idle": what the server does idle (counted for 10 s before the load), for as long as the count took, per request; the ratios are of the counts net of it.')
  say(`${'scenario'.padEnd(54)}${'instructions'.padStart(20)}${'idle'.padStart(18)}${'bare ÷ it'.padStart(16)}${template === undefined ? '' : 'template ÷ it'.padStart(16)}`)
  for (const [name, n] of counted) {
    say(`${name.padEnd(54)}${`${k(n.all)} / ${k(n.main)}`.padStart(20)}${`${k(n.idleAll)} / ${k(n.idleMain)}`.padStart(18)}${ratio(bare, n).padStart(16)}${template === undefined ? '' : ratio(template, n).padStart(16)}`)
  }
}
