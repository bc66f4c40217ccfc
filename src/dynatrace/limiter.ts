/**
 * A counting semaphore: at most `max` requests to one Dynatrace environment at a time. Dynatrace
 * serves each environment from a fixed thread pool and answers 429 when its queue is full, so a
 * storm of notifications must queue here, in our process, rather than there.
 */
export class Limiter {
  #active = 0
  readonly #waiting: Array<() => void> = []

  constructor (readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxConcurrency must be a positive integer, got ${max}`)
  }

  get active (): number { return this.#active }
  get queued (): number { return this.#waiting.length }

  /** Resolves when a slot is free; rejects with the signal's reason if it aborts while queued. */
  async acquire (signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (this.#active < this.max) {
      this.#active++
      return
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(grant)
        if (i >= 0) this.#waiting.splice(i, 1)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiting.push(grant)
    })
  }

  /** Hands the slot straight to the next waiter, so the count never dips below a queue. */
  release (): void {
    const next = this.#waiting.shift()
    if (next !== undefined) next()
    else this.#active--
  }
}
