/**
 * Absolute-deadline helpers (Trio's `current_effective_deadline`,
 * `move_on_at`, `fail_at`, `sleep_until`). Deadlines are `currentTime()`
 * milliseconds, the clock of every `CancelScope.deadline`.
 */
import { CancelScope, currentTime, expireDueDeadlines } from './cancel-scope.ts'
import { current } from './context.ts'
import { TooSlowError } from './errors.ts'
import type { CancelStatus } from './status.ts'
import { sleep } from './timeouts.ts'
import { checkDeadline, checkFunction } from './validate.ts'

/**
 * The deadline that will actually cancel the calling code: the nearest
 * deadline of the cancel scopes around it, up to and including the nearest
 * shielded one (a shield hides the deadlines outside it). `Infinity` when no
 * scope has a deadline; `-Infinity` when the calling code is already
 * cancelled (Trio).
 */
export function currentEffectiveDeadline(): number {
  const ctx = current()
  expireDueDeadlines(ctx.status) // a passed deadline whose timer has not fired yet counts (as at a checkpoint)
  if (ctx.status.effectivelyCancelled) return -Infinity
  let d = Infinity
  for (let s: CancelStatus | undefined = ctx.status; s !== undefined; s = s.parent) {
    const scope = s.scope
    if (scope instanceof CancelScope) {
      if (scope.deadline < d) d = scope.deadline
      if (scope.shield) break
    }
  }
  return d
}

/** Runs `fn` in a scope whose deadline is `deadline`; at the deadline it is cancelled and `moveOnAt` resolves `undefined`. */
export function moveOnAt<T>(deadline: number, fn: (scope: CancelScope) => Promise<T>): Promise<T | undefined> {
  checkDeadline('moveOnAt(deadline, fn): deadline', deadline)
  checkFunction('moveOnAt(deadline, fn): fn', fn)
  return new CancelScope({ deadline }).run(fn)
}

/** Like `moveOnAt`, but rejects with `TooSlowError` if the deadline cancelled `fn`. */
export function failAt<T>(deadline: number, fn: (scope: CancelScope) => Promise<T>): Promise<T> {
  checkDeadline('failAt(deadline, fn): deadline', deadline)
  checkFunction('failAt(deadline, fn): fn', fn)
  return failAtImpl(deadline, fn)
}

async function failAtImpl<T>(deadline: number, fn: (scope: CancelScope) => Promise<T>): Promise<T> {
  const scope = new CancelScope({ deadline })
  const result = await scope.run(fn)
  if (scope.cancelledCaught) throw new TooSlowError(`failAt(${deadline}): the body did not finish by its deadline`)
  return result as T
}

/** Sleeps until `currentTime() >= deadline` (a deadline in the past is a checkpoint). Cancellable. */
export function sleepUntil(deadline: number): Promise<void> {
  checkDeadline('sleepUntil(deadline): deadline', deadline)
  return sleep(Math.max(0, deadline - currentTime()))
}
