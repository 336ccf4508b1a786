/**
 * `Event` (Trio's `trio.Event`): a flag that starts unset and, once `set()`,
 * stays set; `wait()` blocks until it is set. Single thread.
 *
 * Invariant: `#flag` ⇒ no task waits (set() wakes every waiter at once).
 */
import { park } from '../context.ts'
import { Cancelled } from '../errors.ts'
import { Waiter, WaiterQueue, completed, enter } from './common.ts'

class EventWaiter extends Waiter<void> {
  readonly waitsOn = 'Event.wait'
}

export class Event {
  #flag = false
  readonly #waiters = new WaiterQueue<EventWaiter>()

  /** True once `set()` was called. */
  isSet(): boolean {
    return this.#flag
  }

  /** Sets the flag and wakes every waiting task. Idempotent. */
  set(): void {
    if (this.#flag) return
    this.#flag = true
    for (let w = this.#waiters.shift(); w !== undefined; w = this.#waiters.shift()) w.wake()
  }

  /**
   * Waits until the event is set. A checkpoint: rejects with `Cancelled` if the
   * scope is cancelled, even when the event is already set.
   */
  wait(): Promise<void> {
    const ctx = enter()
    if (ctx instanceof Cancelled) return Promise.reject(ctx)
    if (this.#flag) return completed(undefined)
    const w = new EventWaiter()
    this.#waiters.push(w)
    return park(w, ctx)
  }

  statistics(): { tasksWaiting: number } {
    return { tasksWaiting: this.#waiters.length }
  }
}
