/**
 * Runs the real server (src/cli.ts serve) in a child process, the way it runs in production,
 * and resolves once it logs that it is listening.
 */
import { spawn, type ChildProcess } from 'node:child_process'
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
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>
}

/**
 * The environment a child running src/*.ts needs besides its own variables: PATH, and the
 * TypeScript loader's transpile-only switch that tap sets for its test processes. Without the
 * latter, ts-node type-checks the whole program in every child, which makes each start take tens
 * of seconds on a busy machine (and longer with every file the service gains).
 */
export function childTsEnv (): Record<string, string> {
  return { PATH: process.env.PATH ?? '', TS_NODE_TRANSPILE_ONLY: process.env.TS_NODE_TRANSPILE_ONLY ?? '1' }
}

export async function startServer (t: Test, env: Record<string, string>, args: readonly string[] = ['serve']): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...process.execArgv, 'src/cli.ts', ...args], {
    cwd: root,
    env: { ...childTsEnv(), DTR_PORT: '0', DTR_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = once(child, 'exit').then(([code, signal]) => (code as number | null) ?? (signal as string))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: Array<Record<string, unknown>> = []
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
      if (typeof entry.url === 'string') resolve(entry.url)
    })
    exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)), reject)
  })
  return { child, url: await listening, logs, exited }
}
