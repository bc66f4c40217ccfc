/**
 * The real kubectl, run against a simulator: found on PATH (tests skip with a clear message where
 * it is absent), with HOME and KUBECACHEDIR in a temporary directory so nothing is written
 * outside it, and a timeout on every run as a safety net (never as synchronisation).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** The kubectl on PATH, or undefined. */
export function findKubectl (): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch { /* not here */ }
  }
  return undefined
}

export const KUBECTL_MISSING = 'kubectl is not on PATH (these tests run the real kubectl 1.32 against the simulator)'

export interface KubectlResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface Kubectl {
  readonly kubeconfig: string
  readonly dir: string
  /** Runs kubectl to completion. */
  run(...args: string[]): Promise<KubectlResult>
  /** Starts kubectl and collects its output; `exited` settles when it ends. */
  start(...args: string[]): { child: ChildProcess, output: () => string, exited: Promise<KubectlResult> }
}

const TIMEOUT_MS = 60_000

/** A kubectl bound to `kubeconfig` (a path, or the YAML text to write into the temporary directory). */
export function kubectlFor (t: Teardown, binary: string, kubeconfig: { path: string } | { yaml: string }): Kubectl {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-kubectl-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let path: string
  if ('path' in kubeconfig) {
    path = kubeconfig.path
  } else {
    path = join(dir, 'kubeconfig')
    writeFileSync(path, kubeconfig.yaml, { mode: 0o600 })
  }
  const env = { PATH: process.env.PATH ?? '', HOME: dir, KUBECACHEDIR: join(dir, 'cache'), KUBECONFIG: path }
  const argv = (args: string[]): string[] => ['--kubeconfig', path, ...args]
  return {
    kubeconfig: path,
    dir,
    run: async (...args) => await new Promise<KubectlResult>((resolve) => {
      execFile(binary, argv(args), { env, timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null
        resolve({ code, stdout, stderr })
      })
    }),
    start: (...args) => {
      const child = spawn(binary, argv(args), { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8') })
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
      const exited = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }))
      t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
      return { child, output: () => stdout + stderr, exited }
    },
  }
}
