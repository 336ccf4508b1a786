/**
 * Every error class of @gotrio/runtime. Errors are named by cause (STYLE.md 7):
 * `Cancelled` (a cancel scope around you was cancelled), `TooSlowError`
 * (`failAfter` ran out of time), `DeadlockError` (nothing can ever wake the
 * program's tasks), `NurseryError` (what a nursery's tasks raised, grouped).
 * `InternalError` is a broken invariant: always a bug in gotrio.
 */
import { registerErrorClass } from './error-classes.ts'
import { WouldBlock } from './would-block.ts'

/**
 * Thrown by every blocking operation of gotrio (sleep, channel send/receive,
 * `start`, worker tasks) when an enclosing cancel scope is cancelled. The scope
 * that was cancelled catches it: do not swallow it yourself, or rethrow it.
 */
export class Cancelled extends Error {
  override name = 'Cancelled'
  constructor(message = 'the operation was cancelled by an enclosing cancel scope', options?: ErrorOptions) {
    super(message, options)
  }
}

/** Thrown by `failAfter` when its body did not finish before the deadline. */
export class TooSlowError extends Error {
  override name = 'TooSlowError'
}

/** A description of one waiting operation, as listed by `DeadlockError` and `dumpTasks()`. */
export interface WaitingTask {
  /** The task's name: the function's name given to `startSoon`/`start`, or `main`. */
  readonly task: string
  /** What it waits on, e.g. `MemoryReceiveChannel.receive`. */
  readonly waitsOn: string
  /** The worker thread's `threadId`, for a task of a worker thread; absent for the main thread's tasks. */
  readonly thread?: number
}

/**
 * `run()` rejects with this when every task of the program waits on a gotrio
 * primitive and nothing is left that could wake any of them (Go's "all
 * goroutines are asleep - deadlock!"). `waiting` lists who waits on what.
 *
 * Constructed like any Error too (`new DeadlockError('message')`, API.md):
 * then `waiting` is empty.
 */
export class DeadlockError extends Error {
  override name = 'DeadlockError'
  readonly waiting: readonly WaitingTask[]
  constructor(waitingOrMessage?: readonly WaitingTask[] | string, options?: ErrorOptions) {
    if (!Array.isArray(waitingOrMessage)) {
      super(waitingOrMessage as string | undefined, options)
      this.waiting = []
      return
    }
    const waiting = waitingOrMessage as readonly WaitingTask[]
    const lines = waiting.map((w) => `  ${w.task}${w.thread !== undefined ? ` (worker thread ${w.thread})` : ''}: waiting on ${w.waitsOn}`)
    super(
      `all tasks are asleep - deadlock! ${waiting.length} task(s) wait and nothing can wake them:\n` +
        (lines.length > 0 ? lines.join('\n') : '  (no gotrio operation is waiting: main awaits a promise that never settles)'),
      options,
    )
    this.waiting = waiting
  }
}

/**
 * The errors of a nursery's body and tasks, grouped. Always a group, even for
 * one error (Trio's strict exception groups), so `catch` code has one shape.
 */
export class NurseryError extends AggregateError {
  override name = 'NurseryError'
  constructor(errors: unknown[]) {
    super(errors, `${errors.length} error(s) in a nursery: ${errors.map(describe).join('; ')}`)
  }
}

/** A broken internal invariant. Always a bug in gotrio: please report it. */
export class InternalError extends Error {
  override name = 'InternalError'
  constructor(message: string) {
    super(`gotrio internal error (this is a bug in gotrio): ${message}`)
  }
}

export function assert(condition: unknown, invariant: string): asserts condition {
  if (!condition) throw new InternalError(`invariant violated: ${invariant}`)
}

/** The shape of a `SuppressedError` (native, or the helper that TypeScript/esbuild emit for `using` on older runtimes). */
interface SuppressedLike extends Error {
  readonly error: unknown
  readonly suppressed: unknown
}

function isSuppressedError(e: unknown): e is SuppressedLike {
  if (!(e instanceof Error) || !('error' in e) || !('suppressed' in e)) return false
  const native = (globalThis as { SuppressedError?: new (...a: never[]) => Error }).SuppressedError
  return (native !== undefined && e instanceof native) || e.name === 'SuppressedError'
}

/**
 * What an error raised while disposing a resource (`using`, `await using`)
 * means for cancellation, following Trio's rule for an exception raised in
 * `__aexit__`. `aclose()` is a checkpoint, so disposing inside a cancelled
 * scope throws `Cancelled` on top of whatever was unwinding, and the language
 * wraps the two in a `SuppressedError` (`error`: the disposal's error,
 * `suppressed`: the one it interrupted). Looking inside, at any depth:
 *  - only `Cancelled`s: it is a `Cancelled` (the one that was unwinding), so the
 *    scope that owns the cancellation catches it;
 *  - one `Cancelled` and one real error: the real error, never hidden by the
 *    cancellation (whichever of the two it was);
 *  - two real errors: the `SuppressedError` (rebuilt if a part changed).
 * Anything that is not a `SuppressedError` is returned unchanged.
 */
export function collapseSuppressed(e: unknown): unknown {
  if (!isSuppressedError(e)) return e
  const error = collapseSuppressed(e.error)
  const suppressed = collapseSuppressed(e.suppressed)
  if (error instanceof Cancelled) return suppressed // a Cancelled (the one that was unwinding) or the real error
  if (suppressed instanceof Cancelled) return error
  if (error === e.error && suppressed === e.suppressed) return e
  const native = (globalThis as { SuppressedError?: new (error: unknown, suppressed: unknown, message?: string) => Error }).SuppressedError
  if (native) return new native(error, suppressed, e.message)
  return Object.assign(new Error(e.message), { name: 'SuppressedError', error, suppressed })
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`
  return String(e)
}

// Errors keep their class across threads (error-classes.ts).
registerErrorClass('Cancelled', Cancelled)
registerErrorClass('TooSlowError', TooSlowError)
registerErrorClass('DeadlockError', DeadlockError)
registerErrorClass('NurseryError', NurseryError)
registerErrorClass('WouldBlock', WouldBlock)
registerErrorClass('InternalError', InternalError)
