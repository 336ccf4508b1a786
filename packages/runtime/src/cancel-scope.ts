/**
 * CancelScope: Trio's cancel scopes, with deadlines, shielding and an
 * AbortSignal for platform APIs.
 *
 * A scope is single-use: `run(fn)` enters it (creating its CancelStatus node
 * under the caller's), runs `fn`, and exits. While entered, `cancel()` or the
 * deadline marks every blocking gotrio operation under it as cancelled: they
 * reject with `Cancelled`, which unwinds to this scope and is caught here
 * (`cancelledCaught`), and `run` resolves with `undefined`.
 *
 * Invariants:
 *  - `cancelCalled` never goes back to false.
 *  - a deadline timer is armed only while entered, and only for a finite
 *    deadline that has not yet been reached.
 *  - `signal` is aborted once the scope is effectively cancelled (its own
 *    cancellation or an unshielded outer one), never before.
 */
import { current, runIn } from './context.ts'
import { Cancelled, NurseryError, collapseSuppressed } from './errors.ts'
import { CancelStatus, type ScopeLike } from './status.ts'
import { checkDeadline, checkFunction, checkMs, checkOptionKeys } from './validate.ts'

export interface CancelScopeOptions {
  /** Absolute deadline in `currentTime()` milliseconds (default Infinity). */
  deadline?: number
  /** Deadline relative to the moment the scope is entered, in milliseconds. */
  relativeDeadline?: number
  /** Protect the body from cancellation of outer scopes (default false). */
  shield?: boolean
  /**
   * Cancel the scope when this signal aborts (a client hung up, a parent
   * AbortController, `AbortSignal.timeout`). Already aborted: the scope is
   * cancelled at entry. The listener is removed when the scope exits.
   */
  signal?: AbortSignal
}

/** Milliseconds on a monotonic clock; the clock of every deadline. */
export function currentTime(): number {
  return performance.now()
}

const MAX_TIMER_MS = 2 ** 31 - 1

export class CancelScope implements ScopeLike {
  #cancelCalled = false
  #cancelledCaught = false
  #deadline = Infinity
  #relativeDeadline = Infinity
  #shield = false
  /** Entered → status set; exited → detached and cleared. */
  #status: CancelStatus | undefined
  #state: 'new' | 'entered' | 'exited' = 'new'
  #timer: ReturnType<typeof setTimeout> | undefined
  /** Made on the first read of `signal`; until then `everCancelled` stands in for it. */
  #controller: AbortController | undefined
  /**
   * True once this scope has been effectively cancelled (its own cancel or an
   * unshielded outer one), even if later shielded or exited. A signal made
   * lazily after that is born aborted, exactly as an eager one would be.
   */
  #everCancelled = false
  #reason: unknown
  /** The `signal` option, and the listener added to it while entered. */
  readonly #source: AbortSignal | undefined
  #onAbort: (() => void) | undefined

  constructor(options: CancelScopeOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('CancelScope options must be an object like { deadline, relativeDeadline, shield } (or { signal })')
    }
    checkOptionKeys('new CancelScope(options)', options, ['deadline', 'relativeDeadline', 'shield', 'signal'])
    const { deadline, relativeDeadline, shield, signal } = options
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`CancelScope option signal must be an AbortSignal (for example controller.signal), got ${typeof signal}`)
    }
    this.#source = signal
    if (deadline !== undefined) this.#deadline = checkDeadline('CancelScope deadline', deadline)
    if (relativeDeadline !== undefined) {
      this.#relativeDeadline = checkMs('CancelScope relativeDeadline', relativeDeadline)
    }
    if (this.#deadline !== Infinity && this.#relativeDeadline !== Infinity) {
      throw new TypeError('CancelScope takes either deadline (absolute) or relativeDeadline, not both')
    }
    if (shield !== undefined) this.shield = shield
  }

  /** True once `cancel()` was called or the deadline passed. */
  get cancelCalled(): boolean {
    // Before entry no timer is armed (see the invariants): a deadline that has
    // already passed is noticed here, as Trio's cancel_called does. While
    // entered, the deadline timer does it; CancelStatus reads this getter
    // then, so it must not cancel from here.
    if (this.#state === 'new' && !this.#cancelCalled && this.#deadline <= currentTime()) this.#deadlineReached()
    return this.#cancelCalled
  }

  /** True if this scope caught the `Cancelled` its cancellation raised. */
  get cancelledCaught(): boolean {
    return this.#cancelledCaught
  }

  /** Why the scope was cancelled: the argument of `cancel(reason)`, or a deadline message. */
  get cancelReason(): unknown {
    return this.#reason
  }

  /**
   * The absolute deadline (in `currentTime()` ms). Before entry a scope made
   * with `relativeDeadline` reports Infinity: its deadline starts at `run`.
   */
  get deadline(): number {
    return this.#deadline
  }

  set deadline(t: number) {
    this.#deadline = checkDeadline('CancelScope.deadline', t)
    this.#relativeDeadline = Infinity
    if (this.#state === 'entered') this.#armTimer()
  }

  get relativeDeadline(): number {
    return this.#relativeDeadline
  }

  get shield(): boolean {
    return this.#shield
  }

  set shield(on: boolean) {
    if (typeof on !== 'boolean') throw new TypeError(`CancelScope.shield must be a boolean, got ${typeof on}`)
    this.#shield = on
    this.#status?.recompute()
  }

  /** Aborted when this scope becomes effectively cancelled; pass it to fetch, timers, streams. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      const cancelled = this.#everCancelled || this.#cancelCalled || this.#status?.effectivelyCancelled === true
      if (cancelled) this.#controller.abort(this.#abortReason())
    }
    return this.#controller.signal
  }

  /** Cancels the scope. Idempotent; allowed before `run` (the body then starts cancelled). */
  cancel(reason?: unknown): void {
    if (this.#cancelCalled) return
    this.#cancelCalled = true
    this.#reason = reason
    this.#clearTimer()
    if (this.#status) this.#status.recompute()
    else if (this.#controller && !this.#controller.signal.aborted) this.#controller.abort(this.#abortReason())
  }

  /** @internal ScopeLike */
  _onEffectivelyCancelled(): void {
    this.#everCancelled = true
    if (this.#controller && !this.#controller.signal.aborted) this.#controller.abort(this.#abortReason())
  }

  /** Runs `fn` inside this scope. Single use. Resolves `undefined` if the scope caught its own cancellation. */
  async run<T>(fn: (scope: CancelScope) => Promise<T>): Promise<T | undefined> {
    if (!(this instanceof CancelScope)) {
      throw new TypeError(
        'CancelScope.run() was called on something that is not a CancelScope: call it as scope.run(fn) on a scope made with new CancelScope()',
      )
    }
    checkFunction('CancelScope.run(fn): fn', fn)
    const ctx = current()
    const status = this._enter(ctx.status)
    try {
      // Start the body on a fresh microtask: deeply nested scopes (5,000 and
      // more) then never stack up on the JS stack while being entered.
      await undefined
      return await runIn({ status, task: ctx.task, runtime: ctx.runtime }, () => fn(this))
    } catch (error) {
      return this._filterError(error)
    } finally {
      this._exit()
    }
  }

  /** @internal Enters the scope under the caller's node; used by run() and nurseries. */
  _enter(parent: CancelStatus = current().status): CancelStatus {
    if (this.#state !== 'new') {
      throw new Error(
        'CancelScope.run() was called on a scope that was already entered: a cancel scope is single-use; make a new CancelScope for each run',
      )
    }
    this.#state = 'entered'
    if (this.#relativeDeadline !== Infinity) this.#deadline = currentTime() + this.#relativeDeadline
    const source = this.#source
    if (source?.aborted) this.#signalAborted(source)
    this.#status = new CancelStatus(this, parent)
    if (this.#status.effectivelyCancelled) this._onEffectivelyCancelled()
    this.#armTimer()
    if (source !== undefined && !source.aborted) {
      this.#onAbort = () => this.#signalAborted(source)
      source.addEventListener('abort', this.#onAbort, { once: true })
    }
    return this.#status
  }

  #signalAborted(source: AbortSignal): void {
    this.cancel(new Cancelled('the cancel scope was cancelled because its signal was aborted', { cause: source.reason }))
  }

  /** @internal */
  _exit(): void {
    if (this.#onAbort !== undefined) {
      this.#source!.removeEventListener('abort', this.#onAbort)
      this.#onAbort = undefined
    }
    this.#clearTimer()
    this.#status?.detach()
    this.#status = undefined
    this.#state = 'exited'
  }

  /**
   * @internal True if a `Cancelled` raised in this scope is this scope's to
   * catch: it was cancelled, and no cancellation of an outer scope is visible
   * through it (else the `Cancelled` goes on to that outer scope, as in Trio).
   */
  _ownsCancellation(): boolean {
    if (!this.#cancelCalled) return false
    const parent = this.#status?.parent
    return !(parent !== undefined && !this.#shield && parent.effectivelyCancelled)
  }

  /**
   * @internal What `run` does with an error from its body: a `Cancelled` is
   * caught if this scope owns the cancellation (see `_ownsCancellation`);
   * inside a group, the `Cancelled`s are removed and the rest rethrown. A
   * `SuppressedError` from `using`/`await using` made only of `Cancelled`s
   * counts as one; one holding a real error is that error (`collapseSuppressed`).
   */
  _filterError(raised: unknown, owns: boolean = this._ownsCancellation()): undefined {
    const error = collapseSuppressed(raised)
    if (!owns) throw error
    if (error instanceof Cancelled) {
      this.#cancelledCaught = true
      return undefined
    }
    if (error instanceof AggregateError) {
      const rest = withoutCancelled(error.errors)
      if (sameErrors(rest, error.errors)) throw error
      if (containsCancelled(error.errors)) this.#cancelledCaught = true
      if (rest.length === 0) return undefined
      throw new NurseryError(rest)
    }
    throw error
  }

  #abortReason(): unknown {
    return this.#reason ?? new Cancelled('the cancel scope was cancelled')
  }

  #armTimer(): void {
    this.#clearTimer()
    if (this.#cancelCalled || this.#deadline === Infinity) return
    const wait = this.#deadline - currentTime()
    if (wait <= 0) {
      this.#deadlineReached()
      return
    }
    armedTimers++
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        armedTimers--
        if (currentTime() >= this.#deadline) this.#deadlineReached()
        else this.#armTimer() // woke a little early, or the delay was clamped
      },
      Math.min(Math.ceil(wait), MAX_TIMER_MS),
    )
  }

  /**
   * @internal A deadline that has passed but whose timer has not fired yet
   * (the thread was busy): cancel now. Trio checks deadlines at every
   * checkpoint, not only when its clock's timer runs (`sleep`/`checkpoint`
   * call this through `expireDueDeadlines`).
   */
  _expireIfDue(now: number): void {
    if (this.#timer !== undefined && now >= this.#deadline) this.#deadlineReached()
  }

  #deadlineReached(): void {
    this.cancel(new Cancelled(`the cancel scope's deadline passed`))
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      armedTimers--
    }
  }
}

/** Deadline timers armed in this thread; 0 keeps `expireDueDeadlines` free. */
let armedTimers = 0

/**
 * Cancels every scope from `status` up whose deadline has passed though its
 * timer has not fired yet (a busy thread), so that a checkpoint right after a
 * deadline raises, as in Trio. O(depth), and nothing when no deadline is armed.
 */
export function expireDueDeadlines(status: CancelStatus): void {
  if (armedTimers === 0) return
  const now = currentTime()
  for (let s: CancelStatus | undefined = status; s !== undefined; s = s.parent) {
    const scope = s.scope
    if (scope instanceof CancelScope) scope._expireIfDue(now)
  }
}

/**
 * Removes every `Cancelled` from a list of errors, looking into nested groups.
 * Iterative (an explicit stack): cancelling the outermost of 5,000 nested
 * nurseries hands the outermost a group nested 5,000 deep, one level per
 * nursery, and that must cost no JS stack (see the deep-nesting test).
 */
export function withoutCancelled(errors: readonly unknown[]): unknown[] {
  interface Level {
    readonly errors: readonly unknown[]
    i: number
    readonly rest: unknown[]
    /** The group whose errors these are; undefined at the top. */
    readonly group: AggregateError | undefined
  }
  const stack: Level[] = [{ errors, i: 0, rest: [], group: undefined }]
  for (;;) {
    const level = stack[stack.length - 1]!
    if (level.i < level.errors.length) {
      const e = collapseSuppressed(level.errors[level.i++]) // a disposal's Cancelled on top of a Cancelled is one Cancelled
      if (e instanceof Cancelled) continue
      if (e instanceof AggregateError) stack.push({ errors: e.errors, i: 0, rest: [], group: e })
      else level.rest.push(e)
      continue
    }
    stack.pop()
    const group = level.group
    if (group === undefined) return level.rest
    if (level.rest.length > 0)
      stack[stack.length - 1]!.rest.push(sameErrors(level.rest, group.errors) ? group : new NurseryError(level.rest))
  }
}

function sameErrors(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function containsCancelled(errors: readonly unknown[]): boolean {
  // Iterative, for the same reason as withoutCancelled.
  const pending: (readonly unknown[])[] = [errors]
  for (let list = pending.pop(); list !== undefined; list = pending.pop()) {
    for (const raised of list) {
      const e = collapseSuppressed(raised)
      if (e instanceof Cancelled) return true
      if (e instanceof AggregateError) pending.push(e.errors)
    }
  }
  return false
}
