/**
 * How a verb joins the `dt-remediator` program: it declares its command (arguments, options,
 * help) on the commander program and reports its exit code through `done`, so that nothing
 * below the executable calls process.exit. Verbs load what they need inside their action, so
 * `send-test` does not pay for the store or the Kubernetes client, nor `--help` for anything.
 */
import type { Command } from 'commander'

/** 0 done, 1 failed, 2 usage (SPEC 2; the README lists them). */
export type ExitCode = 0 | 1 | 2

export type RegisterVerb = (program: Command, done: (code: ExitCode) => void) => void
