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
 * worker-protocol.ts): how many tasks it has *started*, and whether it is
 * *busy*, that is, started a task in the current turn of its event loop and
 * has not come back to the loop since (a task that computes before its first
 * `await`). With the number of tasks sent to it, kept here, that gives:
 *
 *  - pending = sent - started: tasks posted to the thread that it has not
 *    taken up yet, because it is busy, or because they were sent in the same
 *    turn as this one.
 *  - free = the thread has no task at all, or nothing pending and is not busy.
 *
 * A free thread is chosen first, the one with the fewest tasks among them
 * (Piscina's rule, now among threads that can start the task at once); if no
 * thread is free, the one with the fewest pending, then the fewest tasks. For
 * a burst of CPU-bound tasks that is round robin, as before; what changes is
 * that a thread running a CPU-bound task, or holding tasks it has not taken
 * up, is not chosen while another thread can start the task at once.
 *
 * The hints are read without a lock and may be a turn out of date; they only
 * ever change which thread runs a task, never whether or how it runs, so a
 * stale read costs at most a worse placement. A thread with no row on the
 * board (the board full of rows of exiting threads) is treated as free.
 * CPU work done after an `await` (a task that receives jobs from a channel and
 * computes each) does not mark its thread busy; such a thread is seen as
 * loaded only once a task sent to it stays pending.
 */
import type { Piscina } from 'piscina'
import { BOARD_ROW_INTS, kRowBusy, kRowStarted, kRowThread } from './worker-protocol.js'

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>
type PoolThread = Parameters<Balancer>[1][number]

interface Row {
  readonly index: number
  /** Tasks given to this thread, modulo 2^32 like the board's started count. */
  sent: number
}

export class ThreadBoard {
  readonly #cells: Int32Array
  readonly #rows: number
  readonly #byThread = new Map<number, Row>()

  constructor(board: SharedArrayBuffer) {
    this.#cells = new Int32Array(board)
    this.#rows = this.#cells.length / BOARD_ROW_INTS
  }

  /**
   * A new pool thread gets a row, before any task can be posted to it
   * (Piscina posts only to threads that reported ready). The thread finds
   * its row by its id when it starts its first task.
   */
  add(threadId: number): void {
    if (this.#byThread.has(threadId)) return
    for (let index = 0; index < this.#rows; index++) {
      const base = index * BOARD_ROW_INTS
      if (Atomics.load(this.#cells, base + kRowThread) !== 0) continue
      Atomics.store(this.#cells, base + kRowStarted, 0)
      Atomics.store(this.#cells, base + kRowBusy, 0)
      Atomics.store(this.#cells, base + kRowThread, threadId) // last: the thread looks for this
      this.#byThread.set(threadId, { index, sent: 0 })
      return
    }
  }

  /** A thread has exited: nothing writes its row any more, so it can be given to a new thread. */
  remove(threadId: number): void {
    const row = this.#byThread.get(threadId)
    if (!row) return
    this.#byThread.delete(threadId)
    Atomics.store(this.#cells, row.index * BOARD_ROW_INTS + kRowThread, 0)
  }

  /** The balancer: see the top of this file. */
  readonly pick: Balancer = (_task, threads) => {
    let best: PoolThread | null = null
    let bestFree = false
    let bestPending = 0
    let bestUsage = 0
    let bestRow: Row | undefined
    for (const t of threads) {
      if (t.terminating || t.destroyed) continue
      const usage = t.currentUsage
      const row = this.#byThread.get(t.id)
      let pending = 0
      let busy = false
      if (row) {
        const base = row.index * BOARD_ROW_INTS
        const started = Atomics.load(this.#cells, base + kRowStarted)
        // No task left: anything counted as sent has been taken up or failed
        // before it reached the thread (a payload that could not be cloned).
        if (usage === 0) row.sent = started
        pending = (row.sent - started) | 0
        busy = Atomics.load(this.#cells, base + kRowBusy) !== 0
      }
      const free = usage === 0 || (pending === 0 && !busy)
      const better =
        best === null ||
        (free !== bestFree
          ? free
          : free
            ? usage < bestUsage
            : pending < bestPending || (pending === bestPending && usage < bestUsage))
      if (better) {
        best = t
        bestFree = free
        bestPending = pending
        bestUsage = usage
        bestRow = row
      }
    }
    if (bestRow) bestRow.sent = (bestRow.sent + 1) | 0
    return best
  }
}
