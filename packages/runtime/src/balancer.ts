/**
 * Which pool thread a new worker task goes to (Piscina's `loadBalancer`).
 *
 * Piscina's default gives a task to the thread with the fewest unfinished
 * tasks. With many tasks per thread that count is the wrong measure: a task
 * waiting on a channel costs its thread nothing, a CPU-bound one costs all of
 * it. After the waiting tasks of one thread finish, that thread has the fewest
 * and Piscina sends it every new task, CPU-bound ones included, one behind the
 * other, while the other threads idle under their waiting tasks.
 *
 * So each thread reports two hints on the pool's thread board (layout in
 * worker-protocol.ts): how many tasks it has between their start and their
 * end (`running`), and whether it is *busy*: it called a task's function and
 * has not come back to its event loop since (a task that computes before its
 * first `await`). With Piscina's count of the thread's unfinished tasks
 * (`usage`, from the moment a task is posted to it until its answer is
 * handled here), that gives:
 *
 *  - pending = usage - running: tasks posted to the thread that it has not
 *    taken up yet, because it is busy, or because they were posted in the
 *    same turn as this one (or, for a moment, a task that has ended and whose
 *    answer is on its way);
 *  - free = the thread has no task at all, or nothing pending and is not busy.
 *
 * A free thread is chosen first, the one with the fewest tasks among them
 * (Piscina's rule, now among threads that can start the task at once); if no
 * thread is free, the one with the fewest pending, then the fewest tasks. For
 * a burst of CPU-bound tasks that is round robin, as before; what changes is
 * that a thread running a CPU-bound task, or holding tasks it has not taken
 * up, is not chosen while another thread can start the task at once.
 *
 * The hints are current values read without a lock, and may be a moment out
 * of date; they only ever change which thread runs a task, never whether or
 * how it runs, so a stale read costs at most a worse placement. A thread with
 * no row on the board yet (every row held by threads that have not exited)
 * is treated as free; rows are offered again to such threads whenever a
 * thread appears. Not seen: CPU work after a task's first `await` (a task
 * that takes jobs from a channel and computes each) does not mark its thread
 * busy; such a thread counts as loaded only once a task sent to it waits.
 *
 * Blocked threads. A thread blocked in a sync wait (`sendSync`,
 * `receiveSync`, ...: it posts `blocked` on the board) runs nothing until the
 * wait ends, perhaps only once another task runs: it is chosen last, after
 * busy ones. When every thread is blocked, `pick` returns null if the pool
 * may grow (`canGrow`, which worker-pool.ts allows only then): Piscina then
 * starts one more thread and gives it the task. The pool also posts a task
 * only when some thread can start it at once (`canTakeNow`) and holds it
 * otherwise (worker-pool.ts, "Held tasks"), so a task never waits behind one
 * that blocks its thread.
 *
 * Piscina's `maximumUsage` (our `concurrentTasksPerWorker`, effectively
 * unbounded) and abortable tasks (we never pass an AbortSignal) are what its
 * own balancer also checks; neither can apply here, so they are not checked.
 */
import type { Piscina } from 'piscina'
import { BOARD_ROW_INTS, kRowBlocked, kRowBusy, kRowReady, kRowRunning, kRowThread } from './worker-protocol.ts'
import { notePoolThread } from './deadlock/local.ts'

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>
type PoolThread = Parameters<Balancer>[1][number]

export class ThreadBoard {
  readonly #cells: Int32Array
  /** The board row (its first Int32 index) of each thread that has one. */
  readonly #rowOf = new Map<number, number>()
  /** Piscina's live view of each thread (its `currentUsage`), remembered from `pick`. */
  readonly #threads = new Map<number, PoolThread>()
  /** Tasks Piscina has posted to a thread (`pick` chose one): with the tasks handed to it, how many wait in its own queue. */
  picked = 0
  readonly #canGrow: () => boolean

  constructor(board: SharedArrayBuffer, canGrow: () => boolean = () => false) {
    this.#cells = new Int32Array(board)
    this.#canGrow = canGrow
  }

  /**
   * A pool thread gets a row (if it has none and one is free). Called when
   * the thread appears: for the threads a pool starts with, in the same turn
   * as Piscina creates them, before any task is posted to them (the thread
   * looks its row up by its id and marks it ready once loaded); for later
   * ones, once Piscina says they are ready (`ready`).
   */
  add(threadId: number, ready = false): void {
    if (this.#rowOf.has(threadId)) return
    for (let base = 0; base < this.#cells.length; base += BOARD_ROW_INTS) {
      if (Atomics.load(this.#cells, base + kRowThread) !== 0) continue
      Atomics.store(this.#cells, base + kRowRunning, 0)
      Atomics.store(this.#cells, base + kRowBusy, 0)
      Atomics.store(this.#cells, base + kRowBlocked, 0)
      Atomics.store(this.#cells, base + kRowReady, ready ? 1 : 0)
      Atomics.store(this.#cells, base + kRowThread, threadId) // last: the thread looks for this
      this.#rowOf.set(threadId, base)
      return
    }
  }

  /** A thread has exited: nothing writes its row any more, so it can be given to a new thread. */
  remove(threadId: number): void {
    const base = this.#rowOf.get(threadId)
    if (base === undefined) return
    this.#rowOf.delete(threadId)
    this.#threads.delete(threadId)
    Atomics.store(this.#cells, base + kRowThread, 0)
  }

  /**
   * True if some thread can start a task at once: it is not blocked in a
   * sync wait, and has no task (a thread still loading the entry counts: it
   * starts the task as soon as it has loaded, so a burst on a new pool is
   * spread over every thread), or nothing posted but not yet taken up and is
   * not busy.
   */
  canTakeNow(): boolean {
    const c = this.#cells
    for (const [id, base] of this.#rowOf) {
      if (Atomics.load(c, base + kRowBlocked) !== 0) continue
      const t = this.#threads.get(id)
      if (t !== undefined && (t.terminating || t.destroyed)) continue
      const usage = t?.currentUsage ?? 0
      if (usage === 0) return true
      const pending = Math.max(0, usage - Atomics.load(c, base + kRowRunning))
      if (pending === 0 && Atomics.load(c, base + kRowBusy) === 0) return true
    }
    return false
  }

  /** True if there are threads and every one has loaded the entry and is blocked in a sync wait. */
  allBlocked(): boolean {
    const c = this.#cells
    let n = 0
    for (const base of this.#rowOf.values()) {
      if (Atomics.load(c, base + kRowReady) === 0 || Atomics.load(c, base + kRowBlocked) === 0) return false
      n++
    }
    return n > 0
  }

  /** The balancer: see the top of this file. */
  readonly pick: Balancer = (_task, threads) => {
    let best: PoolThread | null = null
    /** 0 free, 1 not free, 2 blocked in a sync wait. */
    let bestRank = 3
    let bestPending = 0
    let bestUsage = 0
    for (const t of threads) {
      if (t.terminating || t.destroyed) continue
      notePoolThread(t) // its task port is gotrio's own (deadlock/local.ts); once per thread
      this.#threads.set(t.id, t)
      const usage = t.currentUsage
      const base = this.#rowOf.get(t.id)
      let pending = 0
      let busy = false
      let blocked = false
      if (base !== undefined) {
        // running <= usage: a thread counts a task out (end()) before it answers, and Piscina
        // counts it out only when that answer is handled here. The clamp is for a stale read.
        pending = Math.max(0, usage - Atomics.load(this.#cells, base + kRowRunning))
        busy = Atomics.load(this.#cells, base + kRowBusy) !== 0
        blocked = Atomics.load(this.#cells, base + kRowBlocked) !== 0
      }
      const rank = blocked ? 2 : usage === 0 || (pending === 0 && !busy) ? 0 : 1
      // A free thread has nothing pending, so among free threads this is fewest tasks.
      const better =
        best === null || (rank !== bestRank ? rank < bestRank : pending < bestPending || (pending === bestPending && usage < bestUsage))
      if (better) {
        best = t
        bestRank = rank
        bestPending = pending
        bestUsage = usage
      }
    }
    // Every thread is blocked in a sync wait: one more thread, if the pool may grow.
    if (best !== null && bestRank === 2 && this.#canGrow()) return null
    if (best !== null) this.picked++
    return best
  }
}
