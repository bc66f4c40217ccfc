/**
 * `dt-remediator <verb>`: a registry of verbs, each in its own module, loaded on demand so that
 * `send-test` does not pay for the store or the Kubernetes client.
 */
export interface Verb {
  readonly summary: string
  /** Returns the process exit code. */
  run(args: readonly string[]): Promise<number>
}

export const verbs: Record<string, () => Promise<Verb>> = {
  serve: async () => (await import('./serve.js')).default,
  'send-test': async () => (await import('./send-test.js')).default,
  sim: async () => (await import('./sim.js')).default,
}
