/**
 * Runs the real server (src/cli.ts serve) in a child process, the way it runs in production,
 * and resolves once it logs that it is listening.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

const root = fileURLToPath(new URL('../../', import.meta.url))

export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  /** Every JSON log line so far. */
  readonly logs: Array<Record<string, unknown>>
  /** Resolves with the exit code (or the signal's name) once the process and its output are done. */
  readonly exited: Promise<number | string>
  /** Resolves with the first log line (seen so far or to come) that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>
}

export interface StartOptions {
  /** A command the server runs under, e.g. ['unshare', '--pid', '--fork', '--kill-child']. */
  readonly wrap?: readonly string[]
  /** The CLI's arguments; default `serve`. */
  readonly args?: readonly string[]
  /** Run the built executable (dist/src/cli.js, as the image does) instead of the sources. */
  readonly built?: boolean
}

/**
 * The environment the TypeScript loader reads (tap sets TS_NODE_TRANSPILE_ONLY): without it the
 * child type-checks the whole tree on start, which takes seconds.
 */
export const loaderEnv = (): Record<string, string> => Object.fromEntries(Object.entries(process.env)
  .filter((e): e is [string, string] => /^(TS_NODE_|TAP_TYPE_STRIP)/.test(e[0]) && e[1] !== undefined))

/** The server's command line, for a wrapper such as strace or unshare. */
export const serverCommand = (args: readonly string[] = ['serve']): string[] => [process.execPath, ...process.execArgv, 'src/cli.ts', ...args]

/** The sources' command line, or the built executable's (dist/src/cli.js, as the image runs it). */
const cliCommand = (args: readonly string[] | undefined, options: Pick<StartOptions, 'built'>): string[] =>
  options.built === true ? [process.execPath, 'dist/src/cli.js', ...(args ?? ['serve'])] : serverCommand(args)

export interface CliExit { readonly code: number | null, readonly stdout: string, readonly stderr: string }

/**
 * Runs `dt-remediator <args>` from the sources as a process of its own, with only PATH, the
 * loader's settings and `env` in its environment; resolves with its exit code and everything it
 * printed (after both streams closed).
 */
export async function runCliProcess (args: readonly string[], env: Record<string, string> = {}, options: Pick<StartOptions, 'built'> = {}): Promise<CliExit> {
  const [file, ...rest] = cliCommand(args, options) as [string, ...string[]]
  const child = spawn(file, rest, { cwd: root, env: { PATH: process.env.PATH ?? '', ...(options.built === true ? {} : loaderEnv()), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}

/** Whether `unshare --pid --fork` works here (it needs privileges or user namespaces). */
export const canUnsharePid = (): boolean => spawnSync('unshare', ['--pid', '--fork', '--kill-child', 'true']).status === 0

export async function startServer (t: Test, env: Record<string, string>, options: StartOptions = {}): Promise<ServerProcess> {
  const [command, ...args] = [...(options.wrap ?? []), ...cliCommand(options.args, options)] as [string, ...string[]]
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...(options.built === true ? {} : loaderEnv()), DTR_PORT: '0', DTR_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // 'close', not 'exit': by then every line the process wrote has been read.
  const exited = once(child, 'close').then(([code, signal]) => (code as number | null) ?? (signal as string))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: Array<Record<string, unknown>> = []
  const waiters: Array<{ match: (line: Record<string, unknown>) => boolean, resolve: (line: Record<string, unknown>) => void }> = []
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let entry: Record<string, unknown>
      try {
        entry = JSON.parse(line) as Record<string, unknown>
      } catch {
        return
      }
      logs.push(entry)
      for (const w of waiters.filter((w) => w.match(entry))) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(entry)
      }
      if (typeof entry.url === 'string') resolve(entry.url)
    })
    exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)), reject)
  })
  const waitForLog = async (match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    const seen = logs.find(match)
    if (seen !== undefined) return seen
    return new Promise((resolve, reject) => {
      waiters.push({ match, resolve })
      exited.then((code) => reject(new Error(`server exited (${code}) before logging what was awaited`)), reject)
    })
  }
  return { child, url: await listening, logs, exited, waitForLog }
}
