/**
 * `Semaphore` (Trio's `trio.Semaphore`): a counter of tokens; `acquire` takes
 * one, waiting while none is left, `release` gives one back. Tokens have no
 * owner (any task may release). Fair: a release hands its token directly to
 * the longest-waiting task. Single thread.
 *
 * Invariants:
 *  - S1 `#value > 0` ⇒ no task waits (a release with waiters hands off).
 *  - S2 `0 <= #value <= maxValue` when `maxValue` is set.
 */
import { park } from '../context.ts'
import { Cancelled } from '../errors.ts'
import { checkOptionKeys } from '../validate.ts'
import { WouldBlock } from '../would-block.ts'
import { Acquisition, Waiter, WaiterQueue, checkCount, completed, enter } from './common.ts'

class SemaphoreWaiter extends Waiter<Disposable> {
  readonly waitsOn = 'Semaphore.acquire'
}

export class Semaphore {
  #value: number
  readonly #max: number | undefined
  readonly #waiters = new WaiterQueue<SemaphoreWaiter>()
  readonly #releaseOnce = (): void => this.release()

  /** `initialValue` and `maxValue` are non-negative integers, `initialValue <= maxValue`. */
  constructor(initialValue: number, options: { maxValue?: number } = {}) {
    this.#value = checkCount('new Semaphore(initialValue): initialValue', initialValue, 0)
    if (typeof options !== 'object' || options === null)
      throw new TypeError('new Semaphore(initialValue, options): options must be an object like { maxValue }')
    checkOptionKeys('new Semaphore(initialValue, options)', options, ['maxValue'])
    if (options.maxValue !== undefined) {
      this.#max = checkCount('new Semaphore(initialValue, { maxValue }): maxValue', options.maxValue, 0)
      if (initialValue > this.#max) {
        throw new RangeError(`new Semaphore(${initialValue}, { maxValue: ${this.#max} }): initialValue must not exceed maxValue`)
      }
    }
  }

  /** Tokens available now. */
  get value(): number {
    return this.#value
  }

  get maxValue(): number | undefined {
    return this.#max
  }

  /** Takes a token, waiting (FIFO) while none is left. Resolves with a `Disposable` that releases it. A checkpoint. */
  acquire(): Promise<Disposable> {
    const ctx = enter()
    if (ctx instanceof Cancelled) return Promise.reject(ctx)
    if (this.#value > 0) {
      this.#value--
      return completed(new Acquisition(this.#releaseOnce))
    }
    const w = new SemaphoreWaiter()
    this.#waiters.push(w)
    return park(w, ctx)
  }

  /** Takes a token if one is available; otherwise throws `WouldBlock`. Not a checkpoint. */
  acquireNowait(): Disposable {
    if (this.#value === 0) throw new WouldBlock('Semaphore.acquireNowait: no token is available')
    this.#value--
    return new Acquisition(this.#releaseOnce)
  }

  /** Gives a token back: to the longest-waiting task, if any. Past `maxValue` it is a `RangeError` (nothing changes). */
  release(): void {
    const w = this.#waiters.shift()
    if (w !== undefined) {
      w.wake(new Acquisition(this.#releaseOnce))
      return
    }
    if (this.#max !== undefined && this.#value >= this.#max) {
      throw new RangeError(`Semaphore.release: the value would exceed maxValue (${this.#max}); release only tokens that were acquired`)
    }
    this.#value++
  }

  statistics(): { tasksWaiting: number } {
    return { tasksWaiting: this.#waiters.length }
  }
}
