/**
 * `CapacityLimiter` (Trio's `trio.CapacityLimiter`): at most `totalTokens`
 * tasks at once hold a token; a task holds at most one. Fair: freed tokens go
 * to the longest-waiting tasks. `totalTokens` may change at any time (raising
 * it hands the new tokens to waiters at once; lowering it makes newcomers wait
 * until enough tokens are back). Single thread.
 *
 * Invariants:
 *  - C1 `#borrowers.size < #total` ⇒ no task waits (tokens are handed out as
 *       soon as they are free).
 *  - C2 a task is in `#borrowers` at most once (one token per task), and a
 *       waiting task holds no token.
 */
import { park } from '../context.ts'
import { Cancelled } from '../errors.ts'
import type { TaskInfo } from '../status.ts'
import { current } from '../context.ts'
import { WouldBlock } from '../would-block.ts'
import { Acquisition, Waiter, WaiterQueue, checkCount, completed, enter } from './common.ts'

class LimiterWaiter extends Waiter<Disposable> {
  readonly waitsOn = 'CapacityLimiter.acquire'
  readonly borrower: TaskInfo
  constructor(borrower: TaskInfo) {
    super()
    this.borrower = borrower
  }
}

export class CapacityLimiter {
  #total: number
  /** Each borrowing task and the Acquisition of its token. */
  readonly #borrowers = new Map<TaskInfo, Acquisition>()
  readonly #waiters = new WaiterQueue<LimiterWaiter>()

  /** `totalTokens`: an integer >= 1, or Infinity. */
  constructor(totalTokens: number) {
    this.#total = checkCount('new CapacityLimiter(totalTokens): totalTokens', totalTokens, 1, true)
  }

  /** How many tasks may hold a token at once. Setting it hands new tokens to waiting tasks at once. */
  get totalTokens(): number {
    return this.#total
  }

  set totalTokens(n: number) {
    this.#total = checkCount('CapacityLimiter.totalTokens', n, 1, true)
    this.#handOut()
  }

  get borrowedTokens(): number {
    return this.#borrowers.size
  }

  /** `totalTokens - borrowedTokens`, never below 0 (after `totalTokens` was lowered). */
  get availableTokens(): number {
    return Math.max(0, this.#total - this.#borrowers.size)
  }

  /**
   * Takes a token for the calling task, waiting (FIFO) while none is free.
   * Resolves with a `Disposable` that gives it back. A checkpoint. A task that
   * already holds a token of this limiter gets an `Error`.
   */
  acquire(): Promise<Disposable> {
    const ctx = enter()
    if (ctx instanceof Cancelled) return Promise.reject(ctx)
    const task = ctx.task
    if (this.#holdsOrWaits(task)) return Promise.reject(alreadyBorrowing('CapacityLimiter.acquire', task))
    if (this.#borrowers.size < this.#total && this.#waiters.length === 0) return completed(this.#lend(task))
    const w = new LimiterWaiter(task)
    this.#waiters.push(w)
    return park(w, ctx)
  }

  /** Takes a token if one is free and nobody waits; otherwise throws `WouldBlock`. Not a checkpoint. */
  acquireNowait(): Disposable {
    const task = current().task
    if (this.#holdsOrWaits(task)) throw alreadyBorrowing('CapacityLimiter.acquireNowait', task)
    if (this.#borrowers.size < this.#total && this.#waiters.length === 0) return this.#lend(task)
    throw new WouldBlock('CapacityLimiter.acquireNowait: no token is free')
  }

  /** Gives back the calling task's token (an `Error` if it holds none). */
  release(): void {
    const task = current().task
    if (!this.#borrowers.has(task)) {
      throw new Error(
        `CapacityLimiter.release: task '${task.name}' holds no token of this limiter; release only a token your task acquired`,
      )
    }
    this.#giveBack(task)
  }

  statistics(): { borrowedTokens: number; totalTokens: number; tasksWaiting: number } {
    return { borrowedTokens: this.#borrowers.size, totalTokens: this.#total, tasksWaiting: this.#waiters.length }
  }

  #holdsOrWaits(task: TaskInfo): boolean {
    if (this.#borrowers.has(task)) return true
    for (let w = this.#waiters.head; w !== undefined; w = w.qNext as LimiterWaiter | undefined) if (w.borrower === task) return true
    return false
  }

  #lend(task: TaskInfo): Acquisition {
    const a = new Acquisition(() => {
      if (this.#borrowers.get(task) === a) this.#giveBack(task)
    })
    this.#borrowers.set(task, a)
    return a
  }

  #giveBack(task: TaskInfo): void {
    this.#borrowers.delete(task)
    this.#handOut()
  }

  /** C1: lends free tokens to the longest-waiting tasks. */
  #handOut(): void {
    while (this.#borrowers.size < this.#total) {
      const w = this.#waiters.shift()
      if (w === undefined) return
      w.wake(this.#lend(w.borrower))
    }
  }
}

function alreadyBorrowing(what: string, task: TaskInfo): Error {
  return new Error(
    `${what}: task '${task.name}' is already borrowing a token of this CapacityLimiter; a task holds at most one token (release it first)`,
  )
}
