/**
 * The cases of a `select` (Go's `case v := <-ch:` and `case ch <- v:`):
 * `onReceive(channel, then?, onEnd?)` and `onSend(channel, value, then?)`
 * make immutable `SelectCase` records; select.ts runs them.
 *
 * A case is validated when it is made (a channel that is not a gotrio
 * endpoint, a `then`/`onEnd` that is not a function: TypeError naming the
 * rule), and `select` checks again that every argument is a case made here:
 * the brand below cannot be forged by an object literal.
 */
import { MemoryReceiveChannel } from '../memory-receive-channel.ts'
import { MemorySendChannel } from '../memory-send-channel.ts'
import { SharedReceiveChannel } from '../shared/receive-channel.ts'
import { SharedSendChannel } from '../shared/send-channel.ts'
import type { ReceiveChannel, SendChannel } from '../types.ts'

/** Case kinds. */
export const RECEIVE = 0
export const SEND = 1

/**
 * One case of a `select`, made by `onReceive` or `onSend`. Opaque: its
 * fields are for select.ts. `R` is what `select` resolves with when this case
 * commits. A case may be reused in later `select` calls (it holds no state of
 * a call).
 */
export class SelectCase<R> {
  /** The brand `isSelectCase` checks (a private name: object literals cannot have it). */
  readonly #brand = true
  /** @internal RECEIVE or SEND. */
  readonly kind: number
  /** @internal the handle: a memory or shared endpoint of the right side. */
  readonly channel: MemorySendChannel<unknown> | MemoryReceiveChannel<unknown> | SharedSendChannel<unknown> | SharedReceiveChannel<unknown>
  /** @internal the value a send case delivers (undefined for receive cases). */
  readonly value: unknown
  /** @internal called with the received value (receive) or nothing (send) after the commit. */
  // Not named `then`: an object with a `then` method is a thenable, so a case
  // returned from an async function (or awaited by mistake) would be "resolved"
  // by calling the user's callback.
  readonly thenFn: ((value?: unknown) => R | Promise<R>) | undefined
  /** @internal receive cases: called when the channel has ended (Go's `ok == false`). */
  readonly onEnd: (() => R | Promise<R>) | undefined
  /** @internal true for shared-channel cases. */
  readonly shared: boolean
  /**
   * @internal bad input found when the case was made (not a gotrio channel of
   * the right side, a `then`/`onEnd` that is not a function). Not thrown by
   * onReceive/onSend: `select` reports every error as a rejection (API.md), so
   * the select call that gets this case rejects with it (selectNowait and
   * selectSync throw it), before anything commits.
   */
  readonly error: TypeError | undefined

  /** @internal use onReceive() or onSend() */
  constructor(
    kind: number,
    channel: SelectCase<R>['channel'],
    value: unknown,
    thenFn: SelectCase<R>['thenFn'],
    onEnd: SelectCase<R>['onEnd'],
    error?: TypeError,
  ) {
    this.error = error
    this.kind = kind
    this.channel = channel
    this.value = value
    this.thenFn = thenFn
    this.onEnd = onEnd
    this.shared = channel instanceof SharedSendChannel || channel instanceof SharedReceiveChannel
  }

  /** @internal */
  static is(x: unknown): x is SelectCase<unknown> {
    return typeof x === 'object' && x !== null && #brand in x
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null'
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object'
  if (typeof x === 'function') return 'a function'
  return typeof x === 'string' ? `'${x}'` : String(x)
}

/**
 * A receive case: `select` commits it by taking exactly one value from
 * `channel`, then resolves with `then(value)` (or the value itself when there
 * is no `then`). When every sender has closed and the buffer is drained the
 * case is ready too: `select` resolves with `onEnd()` (Go's `v, ok := <-ch`
 * with `ok == false`), or rejects with `EndOfChannel` when there is no `onEnd`.
 *
 * ```ts
 * const r = await select(
 *   onReceive(jobs, (job) => ({ job })),
 *   onReceive(quit, () => 'quit', () => 'quit'),
 * )
 * ```
 *
 * TypeError if `channel` is not a gotrio receive channel (memory or shared)
 * or `then`/`onEnd` is given and not a function: reported by the select call
 * that gets the case (a rejection of `select`), not thrown here.
 *
 * Typing (API.md's `onReceive<T, R = T>`, made precise): without `then` the
 * case's result is the value's type (plus onEnd's), never one inferred from
 * the call's context, so `select(onReceive(nums), onReceive(names))` is a
 * `Promise<number | string>`.
 */
export function onReceive<T>(channel: ReceiveChannel<T>): SelectCase<T>
export function onReceive<T, R>(channel: ReceiveChannel<T>, then: (value: T) => R | Promise<R>, onEnd?: () => R | Promise<R>): SelectCase<R>
export function onReceive<T, E>(channel: ReceiveChannel<T>, then: undefined, onEnd: () => E | Promise<E>): SelectCase<T | E>
export function onReceive<T, R = T>(
  channel: ReceiveChannel<T>,
  then?: (value: T) => R | Promise<R>,
  onEnd?: () => R | Promise<R>,
): SelectCase<R> {
  let error: TypeError | undefined
  if (!(channel instanceof MemoryReceiveChannel || channel instanceof SharedReceiveChannel)) {
    const hint =
      channel instanceof MemorySendChannel || channel instanceof SharedSendChannel
        ? ' (this is a send channel: use onSend(channel, value))'
        : ''
    error = new TypeError(
      `onReceive(channel): channel must be a receive channel made by openMemoryChannel or openSharedChannel, got ${describe(channel)}${hint}`,
    )
  } else if (then !== undefined && typeof then !== 'function') {
    error = new TypeError(`onReceive(channel, then): then must be a function (value) => result, or omitted; got ${describe(then)}`)
  } else if (onEnd !== undefined && typeof onEnd !== 'function') {
    error = new TypeError(`onReceive(channel, then, onEnd): onEnd must be a function () => result, or omitted; got ${describe(onEnd)}`)
  }
  if (error !== undefined) return new SelectCase<R>(RECEIVE, channel as SelectCase<R>['channel'], undefined, undefined, undefined, error)
  return new SelectCase<R>(RECEIVE, channel as SelectCase<R>['channel'], undefined, then as SelectCase<R>['thenFn'], onEnd)
}

/**
 * A send case: `select` commits it by delivering `value` on `channel` (into
 * the buffer, or to a waiting receiver; for size 0, to a receiver), then
 * resolves with `then()` (or `undefined` when there is no `then`). If every
 * receiver of the channel has closed, the case is ready and `select` rejects
 * with `BrokenResourceError` (Go panics on a send to a closed channel).
 *
 * TypeError if `channel` is not a gotrio send channel (memory or shared) or
 * `then` is given and not a function, reported by the select call (as for
 * onReceive). The value is checked by the channel's
 * codec when the case is tried (shared channels), as for `send`.
 */
export function onSend<T>(channel: SendChannel<T>, value: T): SelectCase<void>
export function onSend<T, R>(channel: SendChannel<T>, value: T, then: () => R | Promise<R>): SelectCase<R>
export function onSend<T, R = void>(channel: SendChannel<T>, value: T, then?: () => R | Promise<R>): SelectCase<R> {
  let error: TypeError | undefined
  if (!(channel instanceof MemorySendChannel || channel instanceof SharedSendChannel)) {
    const hint =
      channel instanceof MemoryReceiveChannel || channel instanceof SharedReceiveChannel
        ? ' (this is a receive channel: use onReceive(channel))'
        : ''
    error = new TypeError(
      `onSend(channel, value): channel must be a send channel made by openMemoryChannel or openSharedChannel, got ${describe(channel)}${hint}`,
    )
  } else if (then !== undefined && typeof then !== 'function') {
    error = new TypeError(`onSend(channel, value, then): then must be a function () => result, or omitted; got ${describe(then)}`)
  }
  if (error !== undefined) return new SelectCase<R>(SEND, channel as SelectCase<R>['channel'], value, undefined, undefined, error)
  return new SelectCase<R>(SEND, channel as SelectCase<R>['channel'], value, then as SelectCase<R>['thenFn'], undefined)
}

/** The first bad argument of a select call, as the TypeError to report, or undefined. */
export function badCase(fn: string, cases: readonly unknown[]): TypeError | undefined {
  for (let k = 0; k < cases.length; k++) {
    const c = cases[k]
    if (!SelectCase.is(c)) {
      return new TypeError(
        `${fn}: argument ${k} must be a case made by onReceive(channel, ...) or onSend(channel, value, ...), got ${describe(c)}`,
      )
    }
    if (c.error !== undefined) return c.error
  }
  return undefined
}
