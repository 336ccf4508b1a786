/** Time: sleep, checkpoints and the timeout helpers, all cancellable. */
import { CancelScope, currentTime, expireDueDeadlines } from './cancel-scope.ts'
import { current, park } from './context.ts'
import { Cancelled, TooSlowError } from './errors.ts'
import { Parked } from './status.ts'
import { cancelRequestedSync } from './threads.ts'
import { checkFunction, checkMs } from './validate.ts'

export { currentTime }

class SleepOp extends Parked<void> {
  readonly waitsOn: string
  timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined
  readonly ms: number
  constructor(ms: number) {
    super()
    this.ms = ms
    this.waitsOn = ms === Infinity ? 'sleepForever()' : ms === 0 ? 'checkpoint()' : `sleep(${ms})`
  }
  abort(): boolean {
    if (this.ms === 0) clearImmediate(this.timer as ReturnType<typeof setImmediate>)
    else if (this.timer !== undefined) clearTimeout(this.timer as ReturnType<typeof setTimeout>)
    return true
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1

/** Sleeps `ms` milliseconds. Cancellable; `sleep(0)` is a checkpoint. */
export function sleep(ms: number): Promise<void> {
  checkMs('sleep(ms): ms', ms)
  const ctx = current()
  expireDueDeadlines(ctx.status) // a deadline passed while this thread was busy counts now, as in Trio
  if (ctx.status.effectivelyCancelled) return Promise.reject(new Cancelled())
  const op = new SleepOp(ms)
  if (ms === 0) {
    op.timer = setImmediate(() => op.wake())
  } else if (ms !== Infinity) {
    const deadline = currentTime() + ms
    const arm = (): void => {
      const left = deadline - currentTime()
      if (left <= 0) op.wake()
      else op.timer = setTimeout(arm, Math.min(Math.ceil(left), MAX_TIMER_MS))
    }
    arm()
  }
  // ms === Infinity: nothing can wake it but cancellation.
  return park(op, ctx)
}

/** Waits until cancelled. Always rejects with `Cancelled`. */
export async function sleepForever(): Promise<never> {
  await sleep(Infinity)
  throw new Error('unreachable: sleepForever() returned')
}

/**
 * A cancellation point that also lets other tasks, timers and I/O run (one
 * macrotask). Put it in long CPU loops so that cancellation can reach them.
 */
export function checkpoint(): Promise<void> {
  return sleep(0)
}

/**
 * Throws `Cancelled` if the caller's cancel scope is cancelled, synchronously
 * (like `AbortSignal.throwIfAborted()`). For CPU loops that never await: a
 * deadline that passed while the thread was busy counts (as at a checkpoint),
 * and in a worker task it also reads the task's shared cancel flag, so a
 * cancellation from the owner's thread is seen at once, without the event
 * loop. Cheap enough to call every few microseconds of work:
 *
 * ```ts
 * export function countPrimes(lo: number, hi: number): number {
 *   let n = 0
 *   for (let i = lo; i < hi; i++) {
 *     if ((i & 0x3ff) === 0) throwIfCancelled() // every 1,024 numbers
 *     if (isPrime(i)) n++
 *   }
 *   return n
 * }
 * ```
 * Unlike `checkpoint()` it does not let other tasks run: a loop that must
 * share its thread awaits `checkpoint()` now and then instead.
 */
export function throwIfCancelled(): void {
  const ctx = current()
  expireDueDeadlines(ctx.status)
  if (cancelRequestedSync()) throw new Cancelled()
}

/**
 * Runs `fn` with a deadline `ms` from now; at the deadline it is cancelled and
 * `moveOnAfter` resolves `undefined`. `scope.cancelledCaught` tells which.
 */
export function moveOnAfter<T>(ms: number, fn: (scope: CancelScope) => Promise<T>): Promise<T | undefined> {
  checkMs('moveOnAfter(ms, fn): ms', ms)
  checkFunction('moveOnAfter(ms, fn): fn', fn)
  return new CancelScope({ relativeDeadline: ms }).run(fn)
}

/** Like `moveOnAfter`, but rejects with `TooSlowError` if the deadline cancelled `fn`. */
export function failAfter<T>(ms: number, fn: (scope: CancelScope) => Promise<T>): Promise<T> {
  checkMs('failAfter(ms, fn): ms', ms)
  checkFunction('failAfter(ms, fn): fn', fn)
  return failAfterImpl(ms, fn)
}

async function failAfterImpl<T>(ms: number, fn: (scope: CancelScope) => Promise<T>): Promise<T> {
  const scope = new CancelScope({ relativeDeadline: ms })
  const result = await scope.run(fn)
  if (scope.cancelledCaught) throw new TooSlowError(`failAfter(${ms}): the body did not finish within ${ms} ms`)
  return result as T
}
