/**
 * Memory channels: Trio's `open_memory_channel`, for tasks of one thread.
 *
 * ```ts
 * const [send, receive] = openMemoryChannel<number>(0)
 * await openNursery(async (n) => {
 *   n.startSoon(async () => {
 *     using s = send                       // closing the last sender ends the receivers' loops
 *     for (let i = 0; i < 5; i++) await s.send(i)
 *   })
 *   for await (const x of receive) console.log(x)   // 0..4, then EndOfChannel ends the loop
 * })
 * ```
 *
 * One `MemoryChannelState` (the engine) holds the buffer, the two wait queues
 * and the open-handle counts; `MemorySendChannel`/`MemoryReceiveChannel` are
 * handles on it (thin facades: a closed flag and the checks). `clone()` makes
 * another handle on the same state.
 *
 * Invariants of MemoryChannelState (checked with `assert` where cheap, and all
 * of them by `checkInvariants()` in tests):
 *  - M1 at most one of `sendWaiters` and `receiveWaiters` is non-empty.
 *  - M2 `buffer.length > 0` ⇒ `receiveWaiters` is empty (a waiting receiver
 *        would have been handed the value).
 *  - M3 `sendWaiters` non-empty ⇒ `buffer.length === maxBufferSize` (a sender
 *        waits only while the buffer is full; for size 0, always).
 *  - M4 `buffer.length <= maxBufferSize`; `peakBufferUsed >= buffer.length`.
 *  - M5 `openReceiveChannels === 0` ⇒ buffer empty and no sender waits
 *        (closing the last receiver dropped them).
 *  - M6 `openSendChannels === 0` ⇒ no sender and no receiver waits (the last
 *        sender's close woke the receivers with EndOfChannel).
 *  - M7 every waiting operation belongs to an open handle (closing a handle
 *        wakes its own waiters with ClosedResourceError — Trio tracks tasks
 *        per handle).
 *
 * Values are FIFO and the longest-waiting task is served first: both queues
 * are FIFO, and a value handed to a waiting receiver never goes through the
 * buffer, so a task arriving later cannot overtake it (Trio's fairness rules).
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
 * waiting task allocates its `Parked` record and its promise. Fast paths yield
 * a macrotask every so often (`yieldDue`) so loops that never wait let timers
 * and I/O run.
 */
import { Cancelled, checkpoint } from '@gotrio/runtime'
import { Parked, assert, current, kTransfer, macrotask, park, yieldDue, type Transferable } from '@gotrio/runtime/lowlevel'
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } from './errors.js'
import { RingDeque } from './ring-deque.js'
import type { ChannelStatistics, ReceiveChannel, SendChannel } from './types.js'
import { checkMaxBufferSize } from './validate.js'
import { WaiterQueue, type QueueNode } from './waiter-queue.js'

/**
 * Opens a channel for passing values between tasks of this thread, like
 * `trio.open_memory_channel`. Data flows left to right: `[send, receive]`.
 * `maxBufferSize` is how many values may wait in the buffer before `send`
 * blocks: 0 is a rendezvous (`send` returns once a receiver has the value),
 * `Infinity` never blocks. TypeError if not an integer, RangeError if negative.
 */
export function openMemoryChannel<T>(maxBufferSize: number): [MemorySendChannel<T>, MemoryReceiveChannel<T>] {
  const state = new MemoryChannelState<T>(checkMaxBufferSize('openMemoryChannel(maxBufferSize)', maxBufferSize))
  return [new MemorySendChannel<T>(state), new MemoryReceiveChannel<T>(state)]
}

/** What `take()` returns when it cannot complete. */
const EMPTY: unique symbol = Symbol('empty')
const END: unique symbol = Symbol('end')
/** The shared result of a finished iteration (read-only for `for await`). */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
/** The shared result of a completed fast-path `send`. */
const RESOLVED: Promise<void> = Promise.resolve()

/** A completed fast path: resolves now, or after one macrotask when the turn is due (see context.ts). */
function completed(): Promise<void> {
  return yieldDue() ? macrotask() : RESOLVED
}

/** A task blocked in `MemorySendChannel.send`, holding the value it offers. */
class SendOp<T> extends Parked<void> implements QueueNode {
  queue: WaiterQueue<QueueNode> | undefined = undefined
  qPrev: QueueNode | undefined = undefined
  qNext: QueueNode | undefined = undefined
  constructor(
    /** The handle `send` was called on (closing it wakes this op with ClosedResourceError). */
    readonly owner: MemorySendChannel<T>,
    /** The value offered; taken by a receiver when it dequeues this op. */
    readonly value: T,
  ) {
    super()
  }
  get waitsOn(): string {
    return 'MemorySendChannel.send'
  }
  /** Still queued ⇒ nothing was delivered: withdraw. Dequeued ⇒ a receiver took the value: too late. */
  abort(): boolean {
    const q = this.queue
    if (q === undefined) return false
    q.remove(this)
    return true
  }
}

/**
 * A task blocked in `MemoryReceiveChannel.receive` (resolves with the value)
 * or in its async iterator's `next()` (`iter`: resolves with an IteratorResult,
 * and with `done` instead of throwing EndOfChannel).
 */
class ReceiveOp<T> extends Parked<unknown> implements QueueNode {
  queue: WaiterQueue<QueueNode> | undefined = undefined
  qPrev: QueueNode | undefined = undefined
  qNext: QueueNode | undefined = undefined
  constructor(
    /** The handle `receive` was called on. */
    readonly owner: MemoryReceiveChannel<T>,
    readonly iter: boolean,
  ) {
    super()
  }
  get waitsOn(): string {
    return this.iter ? 'MemoryReceiveChannel[Symbol.asyncIterator]().next' : 'MemoryReceiveChannel.receive'
  }
  deliver(value: T): void {
    this.wake(this.iter ? { done: false, value } : value)
  }
  end(): void {
    if (this.iter) this.wake(DONE)
    else this.fail(endOfChannel())
  }
  /** Still queued ⇒ nothing was taken: withdraw. Dequeued ⇒ a value was handed over: too late. */
  abort(): boolean {
    const q = this.queue
    if (q === undefined) return false
    q.remove(this)
    return true
  }
}

/** The engine shared by every handle of one memory channel. Invariants M1–M7 above. */
export class MemoryChannelState<T> {
  /** Values sent and not yet received, oldest first. Written by offer/take/close of the last receiver. */
  readonly buffer = new RingDeque<T>()
  /** Tasks blocked in `send`, longest-waiting first. */
  readonly sendWaiters = new WaiterQueue<SendOp<T>>()
  /** Tasks blocked in `receive` or `next()`, longest-waiting first. */
  readonly receiveWaiters = new WaiterQueue<ReceiveOp<T>>()
  /** Send handles not yet closed (incremented by construction/clone, decremented by close). */
  openSendChannels = 0
  /** Receive handles not yet closed. */
  openReceiveChannels = 0
  /** The largest `buffer.length` ever reached. */
  peakBufferUsed = 0

  constructor(
    /** The capacity: 0 (rendezvous), a positive integer or Infinity. */
    readonly maxBufferSize: number,
  ) {}

  /**
   * Delivers `value` without waiting if possible: to the longest-waiting
   * receiver, else into the buffer. Returns false (nothing done) when it would
   * wait. Precondition: some receive handle is open.
   */
  offer(value: T): boolean {
    const r = this.receiveWaiters.shift()
    if (r !== undefined) {
      assert(this.buffer.length === 0, 'M2: a receiver waits only while the buffer is empty')
      r.deliver(value)
      return true
    }
    const buf = this.buffer
    if (buf.length < this.maxBufferSize) {
      buf.push(value)
      if (buf.length > this.peakBufferUsed) this.peakBufferUsed = buf.length
      return true
    }
    return false
  }

  /**
   * Takes the next value without waiting if possible. When senders wait (the
   * buffer is full) the oldest buffered value is taken and the longest-waiting
   * sender's value moves into the freed slot (for size 0, straight to us), so
   * FIFO order holds. Returns EMPTY when it would wait, END when every sender is
   * closed and nothing is left.
   */
  take(): T | typeof EMPTY | typeof END {
    const buf = this.buffer
    const s = this.sendWaiters.shift()
    if (s !== undefined) {
      assert(buf.length === this.maxBufferSize, 'M3: a sender waits only while the buffer is full')
      s.wake()
      if (buf.length === 0) return s.value
      const v = buf.shift()
      buf.push(s.value)
      return v
    }
    if (buf.length > 0) return buf.shift()
    return this.openSendChannels === 0 ? END : EMPTY
  }

  statistics(): ChannelStatistics {
    return {
      currentBufferUsed: this.buffer.length,
      maxBufferSize: this.maxBufferSize,
      openSendChannels: this.openSendChannels,
      openReceiveChannels: this.openReceiveChannels,
      tasksWaitingSend: this.sendWaiters.length,
      tasksWaitingReceive: this.receiveWaiters.length,
      peakBufferUsed: this.peakBufferUsed,
    }
  }

  /** Asserts M1–M6 (tests call it through `checkMemoryChannelInvariants`). */
  checkInvariants(): void {
    const b = this.buffer.length
    assert(this.sendWaiters.length === 0 || this.receiveWaiters.length === 0, 'M1: one wait queue is empty')
    assert(b === 0 || this.receiveWaiters.length === 0, 'M2: buffer non-empty ⇒ no receiver waits')
    assert(this.sendWaiters.length === 0 || b === this.maxBufferSize, 'M3: a sender waits ⇒ buffer full')
    assert(b <= this.maxBufferSize && this.peakBufferUsed >= b, 'M4: buffer within capacity and peak')
    assert(this.openReceiveChannels > 0 || (b === 0 && this.sendWaiters.length === 0), 'M5: no receiver ⇒ nothing buffered or waiting')
    assert(this.openSendChannels > 0 || (this.sendWaiters.length === 0 && this.receiveWaiters.length === 0), 'M6: no sender ⇒ nobody waits')
  }
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
      throw new TypeError('MemorySendChannel cannot be constructed directly: use openMemoryChannel(maxBufferSize), or clone() an existing handle')
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
    if (st.openReceiveChannels === 0) return Promise.reject(broken('send'))
    if (st.offer(value)) return completed()
    const op = new SendOp(this, value)
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

  /** @internal tests: asserts the channel's invariants. */
  _checkInvariants(): void {
    this.#state.checkInvariants()
  }
}

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
      throw new TypeError('MemoryReceiveChannel cannot be constructed directly: use openMemoryChannel(maxBufferSize), or clone() an existing handle')
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
      const op = new ReceiveOp<T>(this, false)
      st.receiveWaiters.push(op)
      return park(op, ctx) as Promise<T>
    }
    if (v === END) return Promise.reject(endOfChannel())
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
      const op = new ReceiveOp<T>(this, true)
      st.receiveWaiters.push(op)
      return park(op, ctx) as Promise<IteratorResult<T, undefined>>
    }
    if (v === END) return Promise.resolve(DONE)
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

  /** @internal tests: asserts the channel's invariants. */
  _checkInvariants(): void {
    this.#state.checkInvariants()
  }
}

function closedSend(method: string): ClosedResourceError {
  return new ClosedResourceError(`MemorySendChannel.${method}: this send handle is closed`)
}

function closedReceive(method: string): ClosedResourceError {
  return new ClosedResourceError(`MemoryReceiveChannel.${method}: this receive handle is closed`)
}

function broken(method: string): BrokenResourceError {
  return new BrokenResourceError(`MemorySendChannel.${method}: every receive handle of this channel is closed, nobody can receive the value`)
}

function endOfChannel(): EndOfChannel {
  return new EndOfChannel('MemoryReceiveChannel.receive: every send handle is closed and the buffer is empty')
}

function cannotCross(what: string): TypeError {
  return new TypeError(
    `a memory channel endpoint (${what}) cannot cross threads: it belongs to the thread that opened it. ` +
      'Use openSharedChannel() for a channel whose endpoints can be passed to worker tasks or sent to other threads.',
  )
}
