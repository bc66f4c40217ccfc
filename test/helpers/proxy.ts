/**
 * An HTTP proxy in front of a simulator that can hold requests: a test sees a request arrive,
 * acts (kills the process that sent it, say), then lets it through — a request in flight, made
 * observable. Listens on port 0; closed at teardown.
 */
import { once } from 'node:events'
import { createServer, request as forward, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface HeldRequest {
  readonly method: string
  readonly url: string
  readonly body: string
  /** Sends it on to the target (its answer goes to a client that may be gone). */
  release(): void
}

export interface HoldingProxy {
  readonly url: string
  /** Requests matching `hold` wait here until released; the next one is awaited with `held()`. */
  held(): Promise<HeldRequest>
  /** Stop holding; let everything through. */
  open(): void
}

export async function holdingProxy (t: Test, target: string, hold: (method: string, url: string) => boolean): Promise<HoldingProxy> {
  let holding = true
  const arrived: HeldRequest[] = []
  const waiting: Array<(r: HeldRequest) => void> = []
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      const send = (): void => {
        const out = forward(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        })
        out.on('error', () => { res.destroy() })
        out.end(body)
      }
      if (!holding || !hold(req.method ?? 'GET', req.url ?? '/')) { send(); return }
      const held: HeldRequest = { method: req.method ?? 'GET', url: req.url ?? '/', body, release: send }
      const next = waiting.shift()
      if (next !== undefined) next(held)
      else arrived.push(held)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: async () => arrived.shift() ?? new Promise((resolve) => waiting.push(resolve)),
    open: () => { holding = false },
  }
}
