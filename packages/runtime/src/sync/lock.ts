/**
 * `Lock` (Trio's `trio.Lock`, which is also its `StrictFIFOLock`): a mutex
 * owned by a task, fair: `release()` hands the lock directly to the
 * longest-waiting task, so no task can barge in ahead of one that waits.
 * Single thread (see `openSharedLock` in @gotrio/channels across threads).
 *
 * Invariants:
 *  - L1 `#owner === undefined` ⇒ no task waits (release hands off directly).
 *  - L2 `#holding` is the Acquisition of the current holding, defined exactly
 *       while `#owner` is; disposing an Acquisition that is no longer the
 *       current one does nothing.
 *  - L3 a queued record is unsettled: it leaves the queue when granted (woken
 *       in the same step) or aborted.
 *
 * The queue also holds `Condition.wait` records moved here by `notify`: they
 * get the lock back with the Acquisition they gave up, so the caller's
 * `using _ = await cond.acquire()` still releases the lock at the end.
 */
import { current, park } from '../context.ts'
import { Cancelled } from '../errors.ts'
import type { TaskInfo } from '../status.ts'
import { WouldBlock } from '../would-block.ts'
import { Acquisition, Waiter, WaiterQueue, completed, enter } from './common.ts'

/** A record waiting for the lock: a `Lock.acquire` or a notified `Condition.wait`. */
export abstract class LockWaiter<T> extends Waiter<T> {
  readonly owner: TaskInfo
  /** The holding to resume (a Condition.wait), or undefined for a fresh one. */
  readonly resume: Acquisition | undefined
  constructor(owner: TaskInfo, resume: Acquisition | undefined) {
    super()
    this.owner = owner
    this.resume = resume
  }
  /** The lock is now this record's: wake the task. */
  abstract granted(holding: Acquisition): void
}

class AcquireWaiter extends LockWaiter<Disposable> {
  readonly waitsOn = 'Lock.acquire'
  granted(holding: Acquisition): void {
    this.wake(holding)
  }
}

export class Lock {
  /** The task holding the lock (L1, L2). */
  #owner: TaskInfo | undefined
  /** The current holding's Acquisition (L2). */
  #holding: Acquisition | undefined
  readonly #waiters = new WaiterQueue<LockWaiter<unknown>>()
  readonly #releaseHolding = (a: Acquisition): void => {
    if (this.#holding === a) this.#unlock()
  }

  /**
   * Acquires the lock, waiting (FIFO) while another task holds it. Resolves
   * with a `Disposable` that releases it. A checkpoint; a cancelled acquire
   * acquired nothing. Acquiring a lock the task already holds is an `Error`
   * (it would wait for itself forever).
   */
  acquire(): Promise<Disposable> {
    return this._acquire('Lock.acquire', undefined)
  }

  /** @internal acquire, resuming `resume` (Condition.wait) instead of making a new holding. */
  _acquire(what: string, resume: Acquisition | undefined): Promise<Disposable> {
    const ctx = enter()
    if (ctx instanceof Cancelled) return Promise.reject(ctx)
    if (this.#owner === ctx.task) return Promise.reject(alreadyHeld(what))
    if (this.#owner === undefined) return completed(this.#take(ctx.task, resume))
    const w = new AcquireWaiter(ctx.task, resume)
    this.#waiters.push(w)
    return park(w, ctx)
  }

  /** Acquires the lock if it is free and nobody waits; otherwise throws `WouldBlock`. Not a checkpoint. */
  acquireNowait(): Disposable {
    const task = current().task
    if (this.#owner === task) throw alreadyHeld('Lock.acquireNowait')
    if (this.#owner !== undefined) throw new WouldBlock('Lock.acquireNowait: the lock is held by another task')
    return this.#take(task, undefined)
  }

  /** Releases the lock; the longest-waiting task gets it. Only the holding task may release (an `Error` otherwise). */
  release(): void {
    this._releaseBy(current().task, 'Lock.release')
  }

  /** @internal release on behalf of `task`, which must hold the lock; returns the holding it ends. */
  _releaseBy(task: TaskInfo, what: string): Acquisition {
    if (this.#owner !== task) {
      throw new Error(
        this.#owner === undefined
          ? `${what}: the lock is not held; release only a lock your task acquired`
          : `${what}: the lock is held by task '${this.#owner.name}', not by this task ('${task.name}'); only the task that acquired a Lock may release it`,
      )
    }
    const holding = this.#holding!
    this.#unlock()
    return holding
  }

  /** @internal queues a record (Condition.notify moves waiters here while the lock is held). */
  _enqueue(w: LockWaiter<unknown>): void {
    this.#waiters.push(w)
  }

  /** @internal the holding task (Condition's owner checks). */
  _owner(): TaskInfo | undefined {
    return this.#owner
  }

  /** True while some task holds the lock. */
  locked(): boolean {
    return this.#owner !== undefined
  }

  /** `owner` is the holding task's name (diagnostics). */
  statistics(): { locked: boolean; owner: string | undefined; tasksWaiting: number } {
    return { locked: this.#owner !== undefined, owner: this.#owner?.name, tasksWaiting: this.#waiters.length }
  }

  #take(task: TaskInfo, resume: Acquisition | undefined): Acquisition {
    this.#owner = task
    this.#holding = resume ?? new Acquisition(this.#releaseHolding)
    return this.#holding
  }

  /** Ends the current holding: hands the lock to the longest-waiting record (L1), or frees it. */
  #unlock(): void {
    const next = this.#waiters.shift()
    if (next === undefined) {
      this.#owner = this.#holding = undefined
      return
    }
    next.granted(this.#take(next.owner, next.resume))
  }
}

function alreadyHeld(what: string): Error {
  return new Error(`${what}: this task already holds the lock; acquiring it again would wait for itself forever (a Lock is not re-entrant)`)
}
