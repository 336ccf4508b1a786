/**
 * `SharedSemaphore` and `SharedCapacityLimiter` (`openSharedSemaphore`,
 * `openSharedCapacityLimiter`): `Semaphore`'s and `CapacityLimiter`'s
 * interfaces and semantics across threads, FIFO among registered waiters of
 * all threads, plus `acquireSync()` for worker CPU loops. Tokens of a thread
 * that dies are given back (a semaphore: the tokens it acquired and did not
 * release, capped at maxValue; a limiter: the tokens its tasks held).
 */
import { Cancelled, WouldBlock } from '@gotrio/runtime'
import { checkCancelledSync, current, macrotask, park, yieldDue, type TaskInfo } from '@gotrio/runtime/lowlevel'
import { ACQUIRED, OVER_MAX, QUEUED } from './cell.ts'
import { SharedSyncHandle, enter } from './handle-base.ts'
import { LIMIT_INFINITE, NO_MAX, S_LIMIT, S_STATE, S_WAITING } from './layout.ts'
import { Acquisition, giveNode, takeNode, NodeOp, TID1, refuseMainThread, waitGrantedSync, type LocalSync } from './local.ts'

function completed<T>(v: T): Promise<T> {
  return yieldDue() ? macrotask().then(() => v) : Promise.resolve(v)
}

/** Acquire through the guard: fast when free, else a node in the FIFO. */
abstract class TokenHandle extends SharedSyncHandle {
  protected abstract readonly limiter: boolean

  /** Checks before an acquire (limiter: one token per task); throws. */
  protected abstract checkAcquire(l: LocalSync, task: TaskInfo, what: string): void
  /** Records the holding of `task` and returns its Disposable. */
  protected abstract holding(l: LocalSync, task: TaskInfo): Disposable

  acquire(): Promise<Disposable> {
    const ctx = enter()
    if (ctx instanceof Cancelled) return Promise.reject(ctx)
    const task = ctx.task
    let l: LocalSync
    try {
      l = this.open()
      this.checkAcquire(l, task, `${this.kind}.acquire`)
    } catch (e) {
      return Promise.reject(e)
    }
    if (l.cell.acquireToken(TID1, 0, this.limiter) === ACQUIRED) return completed(this.holding(l, task))
    const node = takeNode()
    if (l.cell.acquireToken(TID1, node, this.limiter) === ACQUIRED) {
      giveNode(node)
      return Promise.resolve(this.holding(l, task))
    }
    l.pending.add(task)
    const op = new NodeOp(`${this.kind}.acquire`, l, this, node, false, () => (l.pending.delete(task), this.holding(l, task)))
    return park(op, ctx).catch((e: unknown) => {
      l.pending.delete(task)
      throw e
    })
  }

  acquireNowait(): Disposable {
    const task = current().task
    const l = this.open()
    this.checkAcquire(l, task, `${this.kind}.acquireNowait`)
    if (l.cell.acquireToken(TID1, 0, this.limiter) !== ACQUIRED) throw new WouldBlock(`${this.kind}.acquireNowait: no token is free`)
    return this.holding(l, task)
  }

  /** Worker threads: acquires, blocking the thread while no token is free. Throws `Cancelled` having acquired nothing. */
  acquireSync(): Disposable {
    refuseMainThread(`${this.kind}.acquireSync()`, 'await acquire() (or acquireNowait())')
    checkCancelledSync()
    const task = current().task
    const l = this.open()
    this.checkAcquire(l, task, `${this.kind}.acquireSync`)
    if (l.cell.acquireToken(TID1, 0, this.limiter) === ACQUIRED) return this.holding(l, task)
    const node = takeNode()
    if (l.cell.acquireToken(TID1, node, this.limiter) === QUEUED) waitGrantedSync(l.cell, node, false)
    giveNode(node)
    return this.holding(l, task)
  }

  statistics(): { tasksWaiting: number } {
    return { tasksWaiting: Atomics.load(this.open().cell.i, S_WAITING) }
  }
}

export class SharedSemaphore extends TokenHandle {
  protected readonly kind = 'SharedSemaphore'
  protected readonly limiter = false

  /** @internal use openSharedSemaphore() or clone() */
  constructor(local: LocalSync, gen: number) {
    super(local, gen)
  }

  clone(): SharedSemaphore {
    return new SharedSemaphore(this.cloneLocal(), this.gen)
  }

  protected checkAcquire(): void {}

  protected holding(l: LocalSync): Disposable {
    return new Acquisition(() => this.#release(l))
  }

  /** Gives a token back (to the longest-waiting task of any thread). Past `maxValue`: `RangeError`, nothing changes. */
  release(): void {
    this.#release(this.open())
  }

  #release(l: LocalSync): void {
    if (l.cell.releaseToken(TID1, false) === OVER_MAX) {
      throw new RangeError(
        `SharedSemaphore.release: the value would exceed maxValue (${this.maxValue}); release only tokens that were acquired`,
      )
    }
  }

  get value(): number {
    return Atomics.load(this.open().cell.i, S_STATE)
  }

  get maxValue(): number | undefined {
    const m = this.open().cell.i[S_LIMIT]!
    return m === NO_MAX ? undefined : m
  }
}

export class SharedCapacityLimiter extends TokenHandle {
  protected readonly kind = 'SharedCapacityLimiter'
  protected readonly limiter = true

  /** @internal use openSharedCapacityLimiter() or clone() */
  constructor(local: LocalSync, gen: number) {
    super(local, gen)
  }

  clone(): SharedCapacityLimiter {
    return new SharedCapacityLimiter(this.cloneLocal(), this.gen)
  }

  protected checkAcquire(l: LocalSync, task: TaskInfo, what: string): void {
    if (l.borrowers.has(task) || l.pending.has(task)) {
      throw new Error(
        `${what}: task '${task.name}' is already borrowing a token of this limiter; a task holds at most one token (release it first)`,
      )
    }
  }

  protected holding(l: LocalSync, task: TaskInfo): Disposable {
    const a = new Acquisition(() => {
      if (l.borrowers.get(task) === a) this.#giveBack(l, task)
    })
    l.borrowers.set(task, a)
    return a
  }

  /** Gives back the calling task's token (an `Error` if it holds none). */
  release(): void {
    const l = this.open()
    const task = current().task
    if (!l.borrowers.has(task)) {
      throw new Error(
        `SharedCapacityLimiter.release: task '${task.name}' holds no token of this limiter; release only a token your task acquired`,
      )
    }
    this.#giveBack(l, task)
  }

  #giveBack(l: LocalSync, task: TaskInfo): void {
    l.borrowers.delete(task)
    l.cell.releaseToken(TID1, true)
  }

  get totalTokens(): number {
    const t = this.open().cell.i[S_LIMIT]!
    return t === LIMIT_INFINITE ? Infinity : t
  }

  /** Setting it hands new tokens to waiting tasks (of any thread) at once. */
  set totalTokens(n: number) {
    const l = this.open()
    l.cell.setLimit(checkTotal('SharedCapacityLimiter.totalTokens', n))
  }

  get borrowedTokens(): number {
    return Atomics.load(this.open().cell.i, S_STATE)
  }

  get availableTokens(): number {
    return Math.max(0, this.totalTokens - this.borrowedTokens)
  }

  override statistics(): { borrowedTokens: number; totalTokens: number; tasksWaiting: number } {
    return { borrowedTokens: this.borrowedTokens, totalTokens: this.totalTokens, tasksWaiting: super.statistics().tasksWaiting }
  }
}

const MAX_COUNT = LIMIT_INFINITE - 1

/** A count that fits the shared word: an integer in [min, 2^31-2]. */
export function checkSharedCount(what: string, n: unknown, min: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new TypeError(`${what} must be an integer >= ${min}, got ${typeof n === 'string' ? `'${n}'` : String(n)}`)
  if (n < min || n > MAX_COUNT)
    throw new RangeError(`${what} must be an integer from ${min} to ${MAX_COUNT} (shared memory holds 32-bit counts), got ${n}`)
  return n
}

/** totalTokens: an integer >= 1 or Infinity, stored as LIMIT_INFINITE. */
export function checkTotal(what: string, n: unknown): number {
  if (n === Infinity) return LIMIT_INFINITE
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new TypeError(`${what} must be an integer >= 1 or Infinity, got ${typeof n === 'string' ? `'${n}'` : String(n)}`)
  return checkSharedCount(what, n, 1)
}
