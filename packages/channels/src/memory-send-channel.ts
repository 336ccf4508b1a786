/**
 * `MemorySendChannel`, the sending handle of a memory channel: a thin facade
 * on the channel's `MemoryChannelState` (memory-channel-state.ts, which states
 * invariants M1–M7), with a closed flag and the checks.
 *
 * Every blocking operation is a checkpoint, as in Trio: it throws `Cancelled`
 * at entry if its scope is cancelled, even when it could complete. It either
 * completes or throws `Cancelled` leaving the channel unchanged (a cancelled
 * `send` delivered nothing, a cancelled `receive` took nothing) — its waiting
 * record's `abort()` removes it from its queue, and once a record has left the
 * queue its operation has completed.
 *
 * Cost (DESIGN.md): one `current()` per blocking operation; a completed fast
 * path allocates nothing for `send` and one resolved promise for `receive`; a
 * waiting task allocates its promise only (the channel reuses its waiting
 * records, see SendOp in memory-channel-state.ts). Fast paths yield
 * a macrotask every so often (`yieldDue`) so loops that never wait let timers
 * and I/O run.
 */
import { Cancelled, checkpoint } from '@gotrio/runtime'
import { assert, current, kTransfer, macrotask, park, yieldDue, type Transferable } from '@gotrio/runtime/lowlevel'
import { ClosedResourceError, WouldBlock } from './errors.ts'
import { MemoryChannelState, broken, cannotCross } from './memory-channel-state.ts'
import { peerGone } from './peer-gone.ts'
import { kSelectState } from './select/hooks.ts'
import type { ChannelStatistics, SendChannel } from './types.ts'

/** The shared result of a completed fast-path `send`. */
const RESOLVED: Promise<void> = Promise.resolve()

/** A completed fast path: resolves now, or after one macrotask when the turn is due (see context.ts). */
function completed(): Promise<void> {
  return yieldDue() ? macrotask() : RESOLVED
}

/**
 * The sending handle of a memory channel. Many tasks may send on one handle
 * or on clones at once. Implements `SendChannel<T>`.
 */
export class MemorySendChannel<T> implements SendChannel<T>, Transferable {
  readonly #state: MemoryChannelState<T>
  /** Set once by close(); then every operation throws ClosedResourceError. */
  #closed = false

  /** @internal use openMemoryChannel() or clone() */
  constructor(state: MemoryChannelState<T>) {
    if (!(state instanceof MemoryChannelState)) {
      throw new TypeError(
        'MemorySendChannel cannot be constructed directly: use openMemoryChannel(maxBufferSize), or clone() an existing handle',
      )
    }
    this.#state = state
    state.openSendChannels++
  }

  /**
   * Sends `value`: hands it to the longest-waiting receiver, or buffers it, or
   * waits until one of those is possible (for size 0, until a receiver has
   * it). Completes, or throws `Cancelled` having delivered nothing (the
   * channel is unchanged). Rejects with `ClosedResourceError` if this handle is
   * closed (also when closed while waiting), `BrokenResourceError` if every
   * receive handle is closed (also when that happens while waiting).
   */
  send(value: T): Promise<void> {
    const ctx = current()
    // The checkpoint (Trio's checkpoint_if_cancelled). Rejects rather than
    // throws: callers of a promise-returning function expect a rejection.
    if (ctx.status.effectivelyCancelled) return Promise.reject(new Cancelled())
    const st = this.#state
    if (this.#closed) return Promise.reject(closedSend('send'))
    if (st.openReceiveChannels === 0) return Promise.reject(peerGone(() => broken('send')))
    if (st.offer(value)) return completed()
    const op = st.sendOp(this, value)
    st.sendWaiters.push(op)
    return park(op, ctx)
  }

  /** Like `send` but never waits: throws `WouldBlock` (nothing sent) when it would. Not a checkpoint. */
  sendNowait(value: T): void {
    const st = this.#state
    if (this.#closed) throw closedSend('sendNowait')
    if (st.openReceiveChannels === 0) throw broken('sendNowait')
    if (!st.offer(value)) {
      throw new WouldBlock('MemorySendChannel.sendNowait: the buffer is full and no receiver is waiting')
    }
  }

  /**
   * Another send handle on the same channel. Receivers see EndOfChannel only
   * once every clone is closed: give each producer its own clone and close
   * the original. ClosedResourceError if this handle is closed.
   */
  clone(): MemorySendChannel<T> {
    if (this.#closed) throw closedSend('clone')
    return new MemorySendChannel<T>(this.#state)
  }

  /**
   * Closes this handle. Synchronous, idempotent, not a checkpoint (so it works
   * in cancelled code). Tasks blocked in `send` on *this* handle reject with
   * ClosedResourceError; closing the last send handle wakes every waiting
   * receiver with EndOfChannel (values still buffered are received first).
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    const st = this.#state
    if (st.sendWaiters.length > 0) {
      for (const op of st.sendWaiters.removeWhere((o) => o.owner === this)) op.fail(closedSend('send'))
    }
    if (--st.openSendChannels === 0) {
      assert(st.sendWaiters.length === 0, 'M7: every waiting sender belongs to an open send handle')
      for (const op of st.receiveWaiters.drain()) op.end()
    }
  }

  /** `close()`, then a checkpoint (throws Cancelled afterwards if cancelled; the handle is closed either way). */
  aclose(): Promise<void> {
    this.close()
    return checkpoint()
  }

  statistics(): ChannelStatistics {
    return this.#state.statistics()
  }

  /** `using s = send` closes the handle at the end of the block. */
  [Symbol.dispose](): void {
    this.close()
  }

  /** `await using s = send` awaits `aclose()` at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose()
  }

  /** Memory channels live in one thread: a TypeError, always (in check mode too; nothing is given up). */
  [kTransfer](_check?: boolean): never {
    throw cannotCross('MemorySendChannel')
  }

  /** @internal select (select/select.ts, select/waiter.ts): the channel's engine, or undefined once this handle is closed. */
  [kSelectState](): MemoryChannelState<T> | undefined {
    return this.#closed ? undefined : this.#state
  }

  /** @internal tests: asserts the channel's invariants. */
  _checkInvariants(): void {
    this.#state.checkInvariants()
  }
}

function closedSend(method: string): ClosedResourceError {
  return new ClosedResourceError(`MemorySendChannel.${method}: this send handle is closed`)
}
