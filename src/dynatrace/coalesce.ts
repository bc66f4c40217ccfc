/**
 * Reads that Dynatrace answers for many ids in one request (an `entityId("a","b",…)` selector),
 * gathered across callers that do not know of each other: the enrichments of a hundred problems
 * notified in the same second each want their service, process group and host, and would
 * otherwise ask for them one request each.
 *
 * A group's keys (one entity type's ids) leave at once while fewer than `maxInFlight` of its
 * requests are in flight, so nothing waits when Dynatrace keeps up. While they are, keys queue and
 * leave together in the next request, as many as fit one (a selector's 2,000 characters): the
 * slower Dynatrace answers — a busy limiter, a 429's Retry-After — the fuller each request. No
 * timer: no latency is added to an idle service. A key asked again while it still queues joins it.
 * Every caller of a request gets its whole answer and takes its own part; a caller's abort stops
 * its own wait, not the request, which is shared.
 */

export interface CoalescerOptions<Ask, Answer> {
  /** Requests of one group in flight at once. */
  readonly maxInFlight: number
  /** What one key takes of a request (its quoted id and a comma, in a selector). */
  readonly weight: (key: string) => number
  /** What one request of the group holds (a selector's 2,000 characters less its fixed part). */
  readonly capacity: (group: string) => number
  /** One request for the keys, each with what its callers asked (their time windows, say). */
  readonly read: (group: string, asks: ReadonlyMap<string, readonly Ask[]>) => Promise<Answer>
}

interface Queued<Ask, Answer> {
  readonly asks: Ask[]
  readonly answer: Promise<Answer>
  readonly resolve: (answer: Answer) => void
  readonly reject: (err: unknown) => void
}

interface Group<Ask, Answer> {
  readonly queued: Map<string, Queued<Ask, Answer>>
  inFlight: number
  scheduled: boolean
}

export class Coalescer<Ask, Answer> {
  readonly #o: CoalescerOptions<Ask, Answer>
  readonly #groups = new Map<string, Group<Ask, Answer>>()

  constructor (options: CoalescerOptions<Ask, Answer>) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${options.maxInFlight}`)
    this.#o = options
  }

  /** Requests of every group in flight now. */
  get inFlight (): number {
    let n = 0
    for (const g of this.#groups.values()) n += g.inFlight
    return n
  }

  /** The answer of the request that carries `key`. */
  async get (group: string, key: string, ask: Ask, signal?: AbortSignal): Promise<Answer> {
    signal?.throwIfAborted()
    let g = this.#groups.get(group)
    if (g === undefined) {
      g = { queued: new Map(), inFlight: 0, scheduled: false }
      this.#groups.set(group, g)
    }
    let q = g.queued.get(key)
    if (q === undefined) {
      let settle!: Pick<Queued<Ask, Answer>, 'resolve' | 'reject'>
      const answer = new Promise<Answer>((resolve, reject) => { settle = { resolve, reject } })
      q = { asks: [], answer, ...settle }
      g.queued.set(key, q)
    }
    q.asks.push(ask)
    this.#schedule(group, g)
    const answer = q.answer
    if (signal === undefined) return answer
    return new Promise<Answer>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      answer.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** Sends once the caller's synchronous burst is queued (one level of a walk asks for all its ids at once). */
  #schedule (name: string, g: Group<Ask, Answer>): void {
    if (g.scheduled || g.inFlight >= this.#o.maxInFlight) return
    g.scheduled = true
    queueMicrotask(() => {
      g.scheduled = false
      this.#send(name, g)
    })
  }

  #send (name: string, g: Group<Ask, Answer>): void {
    const capacity = this.#o.capacity(name)
    while (g.queued.size > 0 && g.inFlight < this.#o.maxInFlight) {
      const batch = new Map<string, Queued<Ask, Answer>>()
      let used = 0
      for (const [key, q] of g.queued) {
        const w = this.#o.weight(key)
        // The first key always goes (one too long for any request fails on its own).
        if (batch.size > 0 && used + w > capacity) break
        batch.set(key, q)
        used += w
      }
      for (const key of batch.keys()) g.queued.delete(key)
      g.inFlight++
      const asks = new Map([...batch].map(([key, q]) => [key, q.asks] as const))
      Promise.resolve().then(async () => this.#o.read(name, asks)).then(
        (answer) => { for (const q of batch.values()) q.resolve(answer) },
        (err: unknown) => { for (const q of batch.values()) q.reject(err) }
      ).finally(() => {
        g.inFlight--
        if (g.queued.size > 0) this.#send(name, g)
        else if (g.inFlight === 0 && !g.scheduled && this.#groups.get(name) === g) this.#groups.delete(name)
      })
    }
  }
}
