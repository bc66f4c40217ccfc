/**
 * A local HTTP server that records what http.request and notify.slack send, and an undici Agent
 * that routes every origin to it (http and https alike, as plain HTTP on loopback), so actions can
 * be run with their real URLs — https://hooks.slack.com/services/… — against a world the test
 * observes. Answers come from `reply` (default 200 "ok"); a queue of answers can be pushed first.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { Agent } from 'undici'

export interface SinkRequest {
  readonly method: string
  readonly host: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: string
}

export interface SinkAnswer {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string
}

export interface HttpSink {
  readonly url: string
  readonly port: number
  readonly requests: SinkRequest[]
  /** Routes every origin to the sink. */
  readonly dispatcher: Agent
  /** Answers for the next requests, in order; then `reply`. */
  readonly queue: SinkAnswer[]
  reply: (req: SinkRequest) => SinkAnswer
}

export async function startHttpSink (t: Test): Promise<HttpSink> {
  const requests: SinkRequest[] = []
  const queue: SinkAnswer[] = []
  const sink: { reply: (req: SinkRequest) => SinkAnswer } = { reply: () => ({ status: 200, body: 'ok' }) }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const recorded: SinkRequest = { method: req.method ?? '', host: req.headers.host ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      requests.push(recorded)
      const answer = queue.shift() ?? sink.reply(recorded)
      res.writeHead(answer.status, answer.headers ?? {})
      res.end(answer.body ?? '')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const dispatcher = new Agent({
    connect: (_options, callback) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => callback(null, socket))
      socket.once('error', (err) => callback(err, null))
      return socket
    }
  })
  t.teardown(async () => {
    await dispatcher.close()
    server.closeAllConnections()
    server.close()
  })
  return Object.assign(sink, { url: `http://127.0.0.1:${port}`, port, requests, dispatcher, queue })
}
