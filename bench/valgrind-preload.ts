/**
 * Loaded with `--import` into the service that bench/instructions.ts runs under valgrind, and
 * nowhere else. Under valgrind every turn of the event loop is ~50× slower than on the machine,
 * so the shedding by event-loop delay (plugins/under-pressure.ts) would answer 503s, which cost
 * fewer instructions than the requests being measured. The delay histogram is made to read as
 * empty, as it reads on a machine that keeps up; everything else is the service's own.
 */
import { createRequire } from 'node:module'

const perfHooks = createRequire(import.meta.url)('node:perf_hooks') as typeof import('node:perf_hooks')
const monitor = perfHooks.monitorEventLoopDelay
perfHooks.monitorEventLoopDelay = (options) => {
  const histogram = monitor(options)
  return new Proxy(histogram, {
    get: (target, key) => {
      if (key === 'count') return 0
      const value = Reflect.get(target, key, target) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}
