/**
 * Argument parsing shared by the foreground verbs: string options plus a validated `--port`
 * (default 0, an ephemeral port). Problems are written to stderr with the verb's usage line.
 */
import { parseArgs } from 'node:util'

export interface ParsedVerbArgs<Name extends string> {
  readonly values: Partial<Record<Name | 'port', string>>
  readonly port: number
}

/** Returns undefined (after printing why) when the arguments are invalid: exit code 2. */
export function parseVerbArgs<Name extends string> (args: readonly string[], names: readonly Name[], usage: string): ParsedVerbArgs<Name> | undefined {
  const options = Object.fromEntries([...names, 'port'].map((n) => [n, { type: 'string' as const }]))
  let values: Partial<Record<Name | 'port', string>>
  try {
    values = parseArgs({ args: [...args], options, strict: true }).values as Partial<Record<Name | 'port', string>>
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`)
    return undefined
  }
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number, got ${values.port ?? ''}\n`)
    return undefined
  }
  return { values, port }
}
