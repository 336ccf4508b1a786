/**
 * `Condition` (Trio's `trio.Condition`): a lock plus a queue of tasks waiting
 * to be notified. `wait()` releases the lock and sleeps; `notify(n)` moves up
 * to `n` sleepers into the lock's queue, so each wakes holding the lock again,
 * in FIFO order. Single thread.
 *
 * Invariant: a sleeping record is in this condition's queue or (notified) in
 * the lock's queue, never both; either way cancelling it unlinks it, and the
 * waiting task takes the lock back (shielded) before `Cancelled` propagates,
 * so `wait()` always returns or throws holding the lock, as in Trio.
 */
import { CancelScope } from '../cancel-scope.ts'
import { current, park } from '../context.ts'
import type { TaskInfo } from '../status.ts'
import { WaiterQueue, checkCount } from './common.ts'
import { Lock, LockWaiter } from './lock.ts'

class ConditionWaiter extends LockWaiter<void> {
  readonly waitsOn = 'Condition.wait'
  granted(): void {
    this.wake()
  }
}

export class Condition {
  readonly #lock: Lock
  readonly #waiters = new WaiterQueue<ConditionWaiter>()

  /** `lock`: the `Lock` to use (default: a new one). */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(
        `new Condition(lock): lock must be a Lock (or omitted for a new one), got ${lock === null ? 'null' : typeof lock}`,
      )
    }
    this.#lock = lock ?? new Lock()
  }

  /** Acquires the underlying lock (see `Lock.acquire`). */
  acquire(): Promise<Disposable> {
    return this.#lock._acquire('Condition.acquire', undefined)
  }

  acquireNowait(): Disposable {
    return this.#lock.acquireNowait()
  }

  release(): void {
    this.#lock._releaseBy(current().task, 'Condition.release')
  }

  locked(): boolean {
    return this.#lock.locked()
  }

  /**
   * Releases the lock, waits for a `notify`, and takes the lock back before
   * returning. Must be called holding the lock. Cancelled while waiting, it
   * still takes the lock back (shielded) and then throws `Cancelled`.
   */
  async wait(): Promise<void> {
    const task = current().task
    this.#checkHeld('Condition.wait', task)
    const holding = this.#lock._releaseBy(task, 'Condition.wait')
    const w = new ConditionWaiter(task, holding)
    this.#waiters.push(w)
    try {
      await park(w)
    } catch (e) {
      await new CancelScope({ shield: true }).run(() => this.#lock._acquire('Condition.wait', holding))
      throw e
    }
  }

  /** Wakes up to `n` (default 1) waiting tasks, oldest first; each resumes once it gets the lock. Must hold the lock. */
  notify(n = 1): void {
    checkCount('Condition.notify(n): n', n, 0, true)
    this.#checkHeld('Condition.notify', current().task)
    for (let k = 0; k < n; k++) {
      const w = this.#waiters.shift()
      if (w === undefined) return
      this.#lock._enqueue(w)
    }
  }

  /** Wakes every waiting task. Must hold the lock. */
  notifyAll(): void {
    this.notify(Infinity)
  }

  statistics(): { tasksWaiting: number; lockStatistics: ReturnType<Lock['statistics']> } {
    return { tasksWaiting: this.#waiters.length, lockStatistics: this.#lock.statistics() }
  }

  #checkHeld(what: string, task: TaskInfo): void {
    if (this.#lock._owner() !== task) {
      throw new Error(`${what}: the calling task must hold the condition's lock (await cond.acquire() first)`)
    }
  }
}
