/** Where a verb writes: stdout, stderr, and whether colour is wanted. Tests pass their own. */

export interface Output {
  out(text: string): void
  err(text: string): void
  /** Colour is used only on a terminal (and never with NO_COLOR). */
  readonly color: boolean
}

export const processOutput = (): Output => ({
  out: (text) => { process.stdout.write(text) },
  err: (text) => { process.stderr.write(text) },
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
})
