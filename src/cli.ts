#!/usr/bin/env node
/**
 * The `dt-remediator` executable. Sets the exit code rather than calling process.exit, so pending
 * output is flushed; `serve` keeps the process alive until a signal stops it.
 */
import { runCli } from './cli/index.js'

process.exitCode = await runCli(process.argv.slice(2))
