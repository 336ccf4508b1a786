/**
 * A FIFO queue of values on a growable ring (the buffer of a memory channel).
 *
 * `push` and `shift` are O(1) amortised and allocate nothing except when the
 * ring grows (doubling). `Array.prototype.shift` is O(n) on large arrays, which
 * an unbounded channel with a slow consumer would pay per value.
 *
 * Invariants:
 *  - `slots.length` is a power of two, so `(head + i) & mask` indexes the ring.
 *  - `0 <= length <= slots.length`; the values are `slots[head]`,
 *    `slots[(head + 1) & mask]`, … `length` of them, oldest first.
 *  - every slot outside those `length` holds `undefined` (shifted values are
 *    not kept alive by the ring).
 */

const INITIAL_SLOTS = 8
/** An emptied ring larger than this goes back to INITIAL_SLOTS (a burst does not pin memory). */
const SHRINK_ABOVE = 1024

export class RingDeque<T> {
  /** The ring; written only by this class. */
  private slots: (T | undefined)[] = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined)
  /** `slots.length - 1`. */
  private mask = INITIAL_SLOTS - 1
  /** Index of the oldest value. */
  private head = 0
  /** How many values are queued. */
  length = 0

  /** Appends `value` as the newest. */
  push(value: T): void {
    if (this.length === this.slots.length) this.grow()
    this.slots[(this.head + this.length) & this.mask] = value
    this.length++
  }

  /** Removes and returns the oldest value. The caller checks `length > 0` first. */
  shift(): T {
    const i = this.head
    const value = this.slots[i] as T
    this.slots[i] = undefined
    this.head = (i + 1) & this.mask
    if (--this.length === 0 && this.slots.length > SHRINK_ABOVE) this.clear()
    return value
  }

  /** Drops every value. */
  clear(): void {
    this.slots = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined)
    this.mask = INITIAL_SLOTS - 1
    this.head = 0
    this.length = 0
  }

  /** Doubles the ring, unrolling it so that the oldest value lands at index 0. */
  private grow(): void {
    const old = this.slots
    const n = old.length
    const next = new Array<T | undefined>(n * 2).fill(undefined)
    for (let i = 0; i < n; i++) next[i] = old[(this.head + i) & this.mask]
    this.slots = next
    this.mask = n * 2 - 1
    this.head = 0
  }
}
