/**
 * `warmUpWorkers()`: starts the worker pool of the calling code's `run` now
 * and waits until each of its threads has loaded gotrio's worker entry, so
 * that the first worker task of timing-critical work does not pay for
 * starting threads and loading modules (the cold start measured by the
 * bench's `worker_task_cold_start` row).
 *
 * Without it the pool is made by the first worker task, whose answer then
 * waits for a thread to start and load its modules. A task module of your own
 * is loaded by the first task that uses it on each thread; run one task of
 * each module to warm those too.
 *
 * The wait is a checkpoint and cancellable (the threads go on starting: the
 * pool is the run's either way). It counts threads that have booted since the
 * pool was made, so a thread that died and was replaced counts once more.
 */
import { checkCancelled, current, park } from './context.ts'
import { Parked } from './status.ts'
import { currentPool } from './worker-pool.ts'

/** How often the wait re-arms its Atomics.waitAsync (so that an abandoned wait ends by itself). */
const POLL_MS = 50

class WarmUpOp extends Parked<void> {
  readonly waitsOn = 'warmUpWorkers()'
  abort(): boolean {
    return true // nothing to undo: the pool keeps starting
  }
}

/**
 * Starts this run's worker pool (if it is not running yet) and resolves once
 * every one of its threads is ready to run a task. Cheap when they already
 * are. Cancellable; rejects with `Cancelled` if the calling scope is cancelled.
 */
export async function warmUpWorkers(): Promise<void> {
  const ctx = current()
  checkCancelled(ctx)
  const pool = currentPool(ctx)
  const booted = pool.booted
  if (Atomics.load(booted, 0) >= pool.threads) return
  const op = new WarmUpOp()
  const waiting = park(op, ctx)
  void (async () => {
    for (;;) {
      const seen = Atomics.load(booted, 0)
      if (seen >= pool.threads || op.settled) break
      const w = Atomics.waitAsync(booted, 0, seen, POLL_MS)
      if (w.async) await w.value
    }
    op.wake()
  })()
  return waiting
}
