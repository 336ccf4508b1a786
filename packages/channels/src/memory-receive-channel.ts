/**
 * `MemoryReceiveChannel`, the receiving handle of a memory channel: a thin
 * facade on the channel's `MemoryChannelState` (memory-channel-state.ts, which
 * states invariants M1–M7), with a closed flag and the checks.
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
import { assert, cancelRequestedSync, current, kTransfer, macrotask, park, yieldDue, type Transferable } from '@gotrio/runtime/lowlevel'
import { ClosedResourceError, WouldBlock } from './errors.ts'
import { DONE, EMPTY, END, MANY, MemoryChannelState, NEXT, RECEIVE, broken, cannotCross, endOfChannel } from './memory-channel-state.ts'
import { cancelledPeerGone, peerGone } from './peer-gone.ts'
import { kSelectState } from './select/hooks.ts'
import type { ChannelStatistics, ReceiveChannel } from './types.ts'
import { checkBatchMax } from './validate.ts'

/**
 * The receiving handle of a memory channel. Many tasks may receive on one
 * handle or on clones at once; each value goes to exactly one of them.
 * Implements `ReceiveChannel<T>`, including async iteration:
 * `for await (const v of receive)` ends at EndOfChannel (and leaves the
 * handle open: closing it is the handle owner's job, as in Trio).
 */
export class MemoryReceiveChannel<T> implements ReceiveChannel<T>, Transferable {
  readonly #state: MemoryChannelState<T>
  /** Set once by close(); then every operation throws ClosedResourceError. */
  #closed = false

  /** @internal use openMemoryChannel() or clone() */
  constructor(state: MemoryChannelState<T>) {
    if (!(state instanceof MemoryChannelState)) {
      throw new TypeError(
        'MemoryReceiveChannel cannot be constructed directly: use openMemoryChannel(maxBufferSize), or clone() an existing handle',
      )
    }
    this.#state = state
    state.openReceiveChannels++
  }

  /**
   * Receives the next value (FIFO; the longest-waiting receiver is served
   * first), waiting while none is available. Completes, or throws `Cancelled`
   * having taken nothing (the channel is unchanged). Rejects with
   * `EndOfChannel` once every send handle is closed and the buffer is drained,
   * `ClosedResourceError` if this handle is closed (also while waiting).
   */
  receive(): Promise<T> {
    const ctx = current()
    if (ctx.status.effectivelyCancelled) return Promise.reject(new Cancelled())
    if (this.#closed) return Promise.reject(closedReceive('receive'))
    const st = this.#state
    const v = st.take()
    if (v === EMPTY) {
      const op = st.receiveOp(this, RECEIVE)
      st.receiveWaiters.push(op)
      return park(op, ctx) as Promise<T>
    }
    if (v === END) return Promise.reject(peerGone(endOfChannel))
    return yieldDue() ? macrotask().then(() => v) : Promise.resolve(v)
  }

  /** Like `receive` but never waits: throws `WouldBlock` (nothing taken) when it would. Not a checkpoint. */
  receiveNowait(): T {
    if (this.#closed) throw closedReceive('receiveNowait')
    const v = this.#state.take()
    if (v === EMPTY) throw new WouldBlock('MemoryReceiveChannel.receiveNowait: nothing is buffered and no sender is waiting')
    if (v === END) throw endOfChannel()
    return v
  }

  /**
   * Receives a batch: waits until at least one value is available (or the
   * channel has ended), then takes, FIFO, up to `max` values in one operation
   * — the first and whatever else it can take without waiting (values of
   * senders already waiting count, also on a size-0 channel). One receive in
   * every other respect: a checkpoint; completes, or throws `Cancelled`
   * having taken nothing; `EndOfChannel` once every sender is closed and the
   * buffer is drained (values still buffered come first); ClosedResourceError
   * if this handle is closed. `max`: a positive integer or Infinity (TypeError
   * if not an integer, RangeError if below 1). One promise per batch, not per
   * value.
   */
  receiveMany(max: number): Promise<T[]> {
    let n: number
    try {
      n = checkBatchMax('MemoryReceiveChannel.receiveMany(max)', max)
    } catch (e) {
      return Promise.reject(e)
    }
    const ctx = current()
    if (ctx.status.effectivelyCancelled) return Promise.reject(new Cancelled())
    if (this.#closed) return Promise.reject(closedReceive('receiveMany'))
    const st = this.#state
    const got = st.takeMany(n)
    if (got === EMPTY) {
      const op = st.receiveOp(this, MANY)
      st.receiveWaiters.push(op)
      return park(op, ctx) as Promise<T[]>
    }
    if (got === END) return Promise.reject(peerGone(endOfChannel))
    return yieldDue() ? macrotask().then(() => got) : Promise.resolve(got)
  }

  /**
   * Like `receiveMany` but never waits: 1..`max` values, or `WouldBlock`
   * (nothing taken) when none is available. Not a checkpoint.
   */
  receiveManyNowait(max: number): T[] {
    const n = checkBatchMax('MemoryReceiveChannel.receiveManyNowait(max)', max)
    if (this.#closed) throw closedReceive('receiveManyNowait')
    const got = this.#state.takeMany(n)
    if (got === EMPTY) throw new WouldBlock('MemoryReceiveChannel.receiveManyNowait: nothing is buffered and no sender is waiting')
    if (got === END) throw endOfChannel()
    return got
  }

  /**
   * Another receive handle on the same channel (values are shared out between
   * handles, not copied). The channel's receive side closes when every clone
   * is closed. ClosedResourceError if this handle is closed.
   */
  clone(): MemoryReceiveChannel<T> {
    if (this.#closed) throw closedReceive('clone')
    return new MemoryReceiveChannel<T>(this.#state)
  }

  /**
   * Closes this handle. Synchronous, idempotent, not a checkpoint. Tasks
   * blocked in `receive` on *this* handle reject with ClosedResourceError;
   * closing the last receive handle drops the buffered values and breaks the
   * channel: waiting and future sends reject with BrokenResourceError.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    const st = this.#state
    if (st.receiveWaiters.length > 0) {
      for (const op of st.receiveWaiters.removeWhere((o) => o.owner === this)) op.fail(closedReceive('receive'))
    }
    if (--st.openReceiveChannels === 0) {
      assert(st.receiveWaiters.length === 0, 'M7: every waiting receiver belongs to an open receive handle')
      st.buffer.clear()
      for (const op of st.sendWaiters.drain()) op.fail(broken('send'))
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

  /**
   * Iterates over the received values until EndOfChannel (which ends the
   * loop). Each `next()` is a `receive()`: a checkpoint, cancellable, losing
   * nothing when cancelled. Breaking out of the loop does not close the handle.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    const it: AsyncIterableIterator<T> = {
      next: () => this.#next(),
      [Symbol.asyncIterator]: () => it,
    }
    return it
  }

  /** `receive()` shaped as an iterator step (one allocation less than wrapping it). */
  #next(): Promise<IteratorResult<T, undefined>> {
    const ctx = current()
    if (ctx.status.effectivelyCancelled) return Promise.reject(new Cancelled())
    if (this.#closed) return Promise.reject(closedReceive('receive'))
    const st = this.#state
    const v = st.take()
    if (v === EMPTY) {
      const op = st.receiveOp(this, NEXT)
      st.receiveWaiters.push(op)
      return park(op, ctx) as Promise<IteratorResult<T, undefined>>
    }
    if (v === END) {
      // As receive(): Cancelled instead of the end if this task's cancellation is requested (peer-gone.ts).
      return cancelRequestedSync() ? Promise.reject(cancelledPeerGone()) : Promise.resolve(DONE)
    }
    const r: IteratorYieldResult<T> = { done: false, value: v }
    return yieldDue() ? macrotask().then(() => r) : Promise.resolve(r)
  }

  /** `using r = receive` closes the handle at the end of the block. */
  [Symbol.dispose](): void {
    this.close()
  }

  /** `await using r = receive` awaits `aclose()` at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose()
  }

  /** Memory channels live in one thread: a TypeError, always (in check mode too; nothing is given up). */
  [kTransfer](_check?: boolean): never {
    throw cannotCross('MemoryReceiveChannel')
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

function closedReceive(method: string): ClosedResourceError {
  return new ClosedResourceError(`MemoryReceiveChannel.${method}: this receive handle is closed`)
}
