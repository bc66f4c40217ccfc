/**
 * What the simulator observes and disturbs: the request log tests assert on, the number of
 * requests in flight (and its maximum, for the client's concurrency bound), and injected faults.
 * A fault targets one operation (the OpenAPI operationId, or `*`), answers with a status (429 with
 * Retry-After / X-RateLimit-Reset, 500, 503…) and/or adds latency before or after the operation
 * runs, for a fraction of the matching requests and a limited count.
 */
export interface FaultSpec {
  /** operationId (getProblem, createComment, getEvents…) or `*` for every API operation. */
  readonly operation: string
  readonly status?: number | undefined
  /** Retry-After header: seconds, or an HTTP date string. */
  readonly retryAfter?: number | string | undefined
  /** Sends X-RateLimit-Reset (epoch microseconds) this many milliseconds in the future. */
  readonly rateLimitResetMs?: number | undefined
  readonly latencyMs?: number | undefined
  /**
   * `before`: the delay precedes the operation (a slow queue). `after`: the operation is applied
   * and then the answer is delayed (a write that lands although the client timed out).
   */
  readonly latencyPhase?: 'before' | 'after' | undefined
  /** Probability in [0, 1] that a matching request is affected. Default 1. */
  readonly fraction?: number | undefined
  /** How many requests to affect before the fault expires. Default unlimited. */
  readonly count?: number | undefined
  /** Error message in the Dynatrace envelope. */
  readonly message?: string | undefined
  /**
   * Held until this settles, in the phase `latencyPhase` says (programmatic faults only): a test
   * holds an answer exactly as long as an interleaving needs, not for a time that may be too short.
   */
  readonly hold?: Promise<unknown> | undefined
}

export interface Fault extends FaultSpec {
  readonly id: string
  remaining: number
  hits: number
}

export interface LoggedRequest {
  readonly seq: number
  /** Epoch ms when the request arrived. */
  readonly at: number
  readonly method: string
  readonly url: string
  readonly operation: string
  readonly headers: Record<string, string | string[] | undefined>
  body: unknown
  /** HTTP status sent, or undefined while in flight / when the client went away first. */
  status: number | undefined
  /** Epoch ms when the response finished or the connection closed. */
  endedAt: number | undefined
  fault: string | undefined
}

export class Traffic {
  readonly requests: LoggedRequest[] = []
  readonly faults: Fault[] = []
  inFlight = 0
  maxInFlight = 0
  #seq = 0
  #faultSeq = 0

  constructor (private readonly random: () => number) {}

  addFault (spec: FaultSpec): Fault {
    const fault: Fault = { ...spec, id: `fault-${++this.#faultSeq}`, remaining: spec.count ?? Number.POSITIVE_INFINITY, hits: 0 }
    this.faults.push(fault)
    return fault
  }

  removeFault (id: string): boolean {
    const i = this.faults.findIndex((f) => f.id === id)
    if (i < 0) return false
    this.faults.splice(i, 1)
    return true
  }

  /** Picks the first live fault that applies to this request and uses one of its count. */
  takeFault (operation: string): Fault | undefined {
    for (const f of this.faults) {
      if (f.operation !== '*' && f.operation !== operation) continue
      if (f.remaining <= 0) continue
      if (f.fraction !== undefined && this.random() >= f.fraction) continue
      f.remaining--
      f.hits++
      return f
    }
    return undefined
  }

  begin (entry: Omit<LoggedRequest, 'seq' | 'status' | 'endedAt' | 'fault'>): LoggedRequest {
    const logged: LoggedRequest = { ...entry, seq: ++this.#seq, status: undefined, endedAt: undefined, fault: undefined }
    this.requests.push(logged)
    this.inFlight++
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight
    return logged
  }

  end (entry: LoggedRequest, status: number | undefined, at: number): void {
    this.inFlight--
    entry.status = status
    entry.endedAt = at
  }

  find (filter: { operation?: string | undefined, method?: string | undefined }): LoggedRequest[] {
    return this.requests.filter((r) => (filter.operation === undefined || r.operation === filter.operation) && (filter.method === undefined || r.method === filter.method))
  }

  reset (): void {
    this.requests.length = 0
    this.faults.length = 0
    this.maxInFlight = this.inFlight
  }
}
