/**
 * Reads a service's log from stdin, as a log shipper would, in a process of its own so that the
 * process making the load does not pay for it. Passes on the first line that announces a URL
 * (how the bench learns where the service listens) and, at the end, how many lines it read.
 */
import { createInterface } from 'node:readline'

let lines = 0
let announced = false
createInterface({ input: process.stdin }).on('line', (line) => {
  lines++
  if (!announced && line.includes('"url"')) {
    announced = true
    process.stdout.write(`${line}\n`)
  }
}).on('close', () => {
  process.stdout.write(`${JSON.stringify({ lines })}\n`)
})
