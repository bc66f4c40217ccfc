/**
 * A map of at most `size` entries that forgets the one set longest ago (setting a key again makes
 * it the newest), in constant time per call.
 *
 * The obvious way, a Map whose oldest key is `keys().next()`, is not constant time in V8: a
 * deleted entry stays in the table as a hole until the next rehash, and an iterator walks every
 * hole in front of the first live entry. Deleting from the front each time piles them up there:
 * ~6.8 µs a call at 10,000 entries, measured, most of what intake's resend cache cost a durable
 * notification. Here the order is kept beside the Map, in an array read from a moving head, and
 * an entry set again leaves a stale place in it that is skipped when reached (its sequence number
 * no longer matches).
 */
export class RecentMap<V> {
  readonly #size: number
  readonly #entries = new Map<string, { value: V, seq: number }>()
  /** Keys in the order they were set, oldest from #head; a place whose seq is not its entry's is stale. */
  #order: Array<{ readonly key: string, readonly seq: number }> = []
  #head = 0
  #seq = 0

  constructor (size: number) {
    this.#size = Math.max(0, Math.floor(size))
  }

  get size (): number { return this.#entries.size }

  get (key: string): V | undefined {
    return this.#entries.get(key)?.value
  }

  delete (key: string): void {
    this.#entries.delete(key)
  }

  set (key: string, value: V): void {
    if (this.#size === 0) return
    const seq = ++this.#seq
    this.#entries.set(key, { value, seq })
    this.#order.push({ key, seq })
    while (this.#entries.size > this.#size) {
      const oldest = this.#order[this.#head++] as { key: string, seq: number }
      if (this.#entries.get(oldest.key)?.seq === oldest.seq) this.#entries.delete(oldest.key)
    }
    // The places behind the head, and the stale ones, are let go of once they outnumber the
    // entries: each is then copied at most once per `size` calls.
    const held = this.#order.length - this.#head
    if (this.#head > this.#size || held > 2 * this.#size + 16) {
      this.#order = this.#live()
      this.#head = 0
    }
  }

  /** The places the order holds, stale ones included (tests). */
  placesHeld (): number { return this.#order.length - this.#head }

  /** The keys, oldest first (tests). */
  keys (): string[] {
    return this.#live().map((place) => place.key)
  }

  /** The places from the head that are still their entry's, oldest first. */
  #live (): Array<{ readonly key: string, readonly seq: number }> {
    return this.#order.slice(this.#head).filter((place) => this.#entries.get(place.key)?.seq === place.seq)
  }
}
