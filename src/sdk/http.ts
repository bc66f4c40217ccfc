/**
 * One outbound HTTP call for the actions that call URLs (http.request, notify.slack): the host
 * checked against DTR_HTTP_ALLOWED_HOSTS again just before sending, redirects never followed (a
 * 3xx is an answer like any other, so an allowed host cannot bounce us to one that is not), the
 * run's AbortSignal and a per-call timeout honoured, and at most BODY_EXCERPT_BYTES of the answer
 * read, for the outcome.
 */
import type { Dispatcher } from 'undici'
import { hostRefusal, type AllowedHost } from '../domain/hosts.js'
import { redactUrl } from '../domain/redact.js'
import { TerminalError } from '../errors.js'
import { importUndici } from '../imports.js'

export const BODY_EXCERPT_BYTES = 2048

export interface OutboundRequest {
  readonly url: string
  readonly method: string
  readonly headers: Readonly<Record<string, string>>
  /** Sent as given (already JSON text). */
  readonly body: string | undefined
  readonly timeoutMs: number
  readonly signal: AbortSignal
}

export interface OutboundResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The first BODY_EXCERPT_BYTES of the body, as text. */
  readonly excerpt: string
  readonly truncated: boolean
}

export interface OutboundOptions {
  readonly allowedHosts: readonly AllowedHost[]
  /** undici dispatcher (tests pass an Agent or a MockAgent); the global one by default. */
  readonly dispatcher?: Dispatcher | undefined
}

/** A refused host is terminal: retrying cannot make it allowed. */
export function assertHostAllowed (url: string, allowedHosts: readonly AllowedHost[]): void {
  const refusal = hostRefusal(url, allowedHosts)
  if (refusal !== undefined) throw new TerminalError(refusal)
}

export async function sendOutbound (req: OutboundRequest, options: OutboundOptions): Promise<OutboundResponse> {
  assertHostAllowed(req.url, options.allowedHosts)
  // undici is imported at the first call, not at start-up (most services never send one).
  const { request } = await importUndici()
  let res: Dispatcher.ResponseData
  try {
    res = await request(req.url, {
      method: req.method as Dispatcher.HttpMethod,
      headers: { 'user-agent': 'dt-remediator', ...req.headers },
      ...(req.body === undefined ? {} : { body: req.body }),
      signal: req.signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    })
  } catch (err) {
    // Retryable: the runner retries within the run's timeout. Names no secret (the URL is redacted).
    const code = (err as { code?: string }).code ?? (err as Error).name
    throw new Error(`${req.method} ${redactUrl(req.url)} failed: ${code}${req.signal.aborted ? ' (the run was aborted)' : ''}`, { cause: err })
  }
  const chunks: Buffer[] = []
  let size = 0
  let truncated = false
  try {
    for await (const chunk of res.body) {
      const buf = chunk as Buffer
      chunks.push(buf)
      size += buf.length
      if (size >= BODY_EXCERPT_BYTES) {
        truncated = size > BODY_EXCERPT_BYTES
        break
      }
    }
  } catch {
    // The status is what counts; a body cut short is only a shorter excerpt.
  } finally {
    res.body.destroy()
  }
  const excerpt = Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString('utf8')
  return { status: res.statusCode, headers: res.headers, excerpt, truncated }
}
