/**
 * Preloaded into a process (`--import`) that must show which modules it loaded: every file
 * loaded through the ES module loader (a load hook) and every CommonJS module in require.cache
 * are written, one path a line, to $LOADED_MODULES_FILE when the process exits. Plain JavaScript,
 * so it loads before any TypeScript loader.
 */
import { writeFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'

const out = process.env.LOADED_MODULES_FILE
if (out !== undefined && out !== '') {
  const esm = new Set()
  const { port1, port2 } = new MessageChannel()
  port1.on('message', (url) => { esm.add(url) })
  port1.unref()
  register(`data:text/javascript,${encodeURIComponent(`
    let port
    export function initialize (data) { port = data.port }
    export async function load (url, context, next) {
      const result = await next(url, context)
      port.postMessage(url)
      return result
    }
  `)}`, { data: { port: port2 }, transferList: [port2] })
  const cache = createRequire(import.meta.url).cache
  process.once('exit', () => {
    const files = [...esm].filter((url) => url.startsWith('file:')).map((url) => decodeURIComponent(new URL(url).pathname))
    writeFileSync(out, [...new Set([...files, ...Object.keys(cache)])].join('\n') + '\n')
  })
}

// $FUNCTION_CALLS_FILE: how many times each function of the scripts whose URL ends with
// $FUNCTION_CALLS_SCRIPT was called, by name (V8's precise coverage through an in-process
// inspector session, whose messages are answered at once, so that they can be read at exit).
// NODE_V8_COVERAGE would do, but tap takes that variable over in the processes a test starts.
const calls = process.env.FUNCTION_CALLS_FILE
if (calls !== undefined && calls !== '') {
  const { Session } = await import('node:inspector')
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false })
  process.once('exit', () => {
    session.post('Profiler.takePreciseCoverage', (err, coverage) => {
      if (err) throw err
      const counts = {}
      for (const script of coverage.result.filter((s) => s.url.endsWith(process.env.FUNCTION_CALLS_SCRIPT ?? ''))) {
        for (const fn of script.functions) counts[fn.functionName] = (counts[fn.functionName] ?? 0) + (fn.ranges[0]?.count ?? 0)
      }
      writeFileSync(calls, JSON.stringify(counts))
    })
  })
}
