/**
 * The engine of a memory channel (see memory-channel.ts): one
 * `MemoryChannelState` holds the buffer, the two wait queues and the
 * open-handle counts; `MemorySendChannel`/`MemoryReceiveChannel`
 * (memory-send-channel.ts, memory-receive-channel.ts) are handles on it. Also
 * here: the waiting records of both queues (`SendOp`, `ReceiveOp`), the
 * sentinels `take()` returns, and the errors both sides throw.
 *
 * Invariants of MemoryChannelState (checked with `assert` where cheap, and all
 * of them by `checkInvariants()` in tests):
 *  - M1 at most one of `sendWaiters` and `receiveWaiters` is non-empty, except
 *        on size 0 while one `select` waits with a send and a receive case on
 *        this channel: then every waiter of both queues is that select's
 *        (select/waiter.ts S4: a select never pairs with itself).
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
 * The handles keep M5–M7 when they close: closing a handle fails its own
 * waiters, closing the last receive handle drops the buffer and breaks the
 * waiting senders (M5), closing the last send handle ends the waiting
 * receivers (M6).
 *
 * Imports of the handle modules are type-only (erased), so there is no runtime
 * import cycle: the handles import this module, not the other way round.
 */
import { Parked, assert } from '@gotrio/runtime/lowlevel'
import { BrokenResourceError, EndOfChannel } from './errors.ts'
import type { MemoryReceiveChannel } from './memory-receive-channel.ts'
import type { MemorySendChannel } from './memory-send-channel.ts'
import { RingDeque } from './ring-deque.ts'
import type { ChannelStatistics } from './types.ts'
import { WaiterQueue, type QueueNode } from './waiter-queue.ts'

/** What `take()` returns when it cannot complete. */
export const EMPTY: unique symbol = Symbol('empty')
export const END: unique symbol = Symbol('end')
/** The shared result of a finished iteration (read-only for `for await`). */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/**
 * A task blocked in `MemorySendChannel.send`, holding the value it offers.
 * Records are reused (see `Parked`): the channel keeps one released record per
 * side and `sendOp()`/`receiveOp()` hand it out again, so a steady stream of
 * waits allocates only the promise each wait needs.
 */
export class SendOp<T> extends Parked<void> implements QueueNode {
  queue: WaiterQueue<QueueNode> | undefined = undefined
  qPrev: QueueNode | undefined = undefined
  qNext: QueueNode | undefined = undefined
  readonly state: MemoryChannelState<T>
  /** The handle `send` was called on (closing it wakes this op with ClosedResourceError). */
  owner: MemorySendChannel<T>
  /** The value offered; taken by a receiver when it dequeues this op. */
  value: T

  constructor(state: MemoryChannelState<T>, owner: MemorySendChannel<T>, value: T) {
    super()
    this.state = state
    this.owner = owner
    this.value = value
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
  /** Ready for another wait: the channel keeps one spare record. */
  protected override released(): void {
    this.value = undefined as T
    if (this.state.spareSend === undefined) this.state.spareSend = this
  }
  /** @internal MemoryChannelState.sendOp */
  recycle(owner: MemorySendChannel<T>, value: T): this {
    this.reuse()
    this.owner = owner
    this.value = value
    return this
  }
}

/** What a waiting receive resolves with (ReceiveOp.kind). */
export const RECEIVE = 0 // `receive()`: the value; EndOfChannel rejects
export const NEXT = 1 // an async iterator's `next()`: an IteratorResult; the end resolves `done`
export const MANY = 2 // `receiveMany()`: an array of the value; EndOfChannel rejects
export type ReceiveKind = typeof RECEIVE | typeof NEXT | typeof MANY

/**
 * A task blocked in `MemoryReceiveChannel.receive`, in its async iterator's
 * `next()` or in `receiveMany` (`kind` says which, and so what it resolves
 * with). Reused like SendOp.
 */
export class ReceiveOp<T> extends Parked<unknown> implements QueueNode {
  queue: WaiterQueue<QueueNode> | undefined = undefined
  qPrev: QueueNode | undefined = undefined
  qNext: QueueNode | undefined = undefined
  readonly state: MemoryChannelState<T>
  /** The handle `receive` was called on. */
  owner: MemoryReceiveChannel<T>
  kind: ReceiveKind

  constructor(state: MemoryChannelState<T>, owner: MemoryReceiveChannel<T>, kind: ReceiveKind) {
    super()
    this.state = state
    this.owner = owner
    this.kind = kind
  }
  get waitsOn(): string {
    const k = this.kind
    return k === NEXT
      ? 'MemoryReceiveChannel[Symbol.asyncIterator]().next'
      : k === MANY
        ? 'MemoryReceiveChannel.receiveMany'
        : 'MemoryReceiveChannel.receive'
  }
  /**
   * Hands `value` over. On a buffered channel the receiver resumes after the
   * sender's turn (`wakeSoon`), so the two settle into taking turns on the
   * buffer instead of one of them parking for every value (see PROFILE notes
   * in the README); on a rendezvous channel one side waits per value anyway.
   */
  deliver(value: T): boolean {
    const k = this.kind
    const v = k === RECEIVE ? value : k === NEXT ? { done: false, value } : [value]
    const st = this.state
    if (st.maxBufferSize > 0 && st.receiveWaiters.length === 0) this.wakeSoon(v)
    else this.wake(v)
    return true
  }
  end(): void {
    if (this.kind === NEXT) this.wake(DONE)
    else this.fail(endOfChannel())
  }
  /** Still queued ⇒ nothing was taken: withdraw. Dequeued ⇒ a value was handed over: too late. */
  abort(): boolean {
    const q = this.queue
    if (q === undefined) return false
    q.remove(this)
    return true
  }
  protected override released(): void {
    if (this.state.spareReceive === undefined) this.state.spareReceive = this
  }
  /** @internal MemoryChannelState.receiveOp */
  recycle(owner: MemoryReceiveChannel<T>, kind: ReceiveKind): this {
    this.reuse()
    this.owner = owner
    this.kind = kind
    return this
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
  /** A released SendOp/ReceiveOp kept for the next wait (see SendOp). */
  spareSend: SendOp<T> | undefined = undefined
  spareReceive: ReceiveOp<T> | undefined = undefined
  /** The capacity: 0 (rendezvous), a positive integer or Infinity. */
  readonly maxBufferSize: number

  constructor(maxBufferSize: number) {
    this.maxBufferSize = maxBufferSize
  }

  /** A waiting record for a `send` of `value` on `owner`: the spare one if there is one. */
  sendOp(owner: MemorySendChannel<T>, value: T): SendOp<T> {
    const op = this.spareSend
    if (op === undefined) return new SendOp<T>(this, owner, value)
    this.spareSend = undefined
    return op.recycle(owner, value)
  }

  /** A waiting record for a `receive`, an iterator's `next()` or a `receiveMany` (`kind`) on `owner`. */
  receiveOp(owner: MemoryReceiveChannel<T>, kind: ReceiveKind): ReceiveOp<T> {
    const op = this.spareReceive
    if (op === undefined) return new ReceiveOp<T>(this, owner, kind)
    this.spareReceive = undefined
    return op.recycle(owner, kind)
  }

  /**
   * Takes up to `max` values without waiting, FIFO (the values of waiting
   * senders count: each `take()` moves one in). Returns the values taken, or
   * EMPTY / END when there was none (as `take()`).
   */
  takeMany(max: number): T[] | typeof EMPTY | typeof END {
    const first = this.take()
    if (first === EMPTY) return EMPTY
    if (first === END) return END
    const out: T[] = [first as T]
    while (out.length < max) {
      const v = this.take()
      if (v === EMPTY || v === END) break
      out.push(v)
    }
    return out
  }

  /**
   * Delivers `value` without waiting if possible: to the longest-waiting
   * receiver, else into the buffer. Returns false (nothing done) when it would
   * wait. Precondition: some receive handle is open.
   */
  offer(value: T): boolean {
    for (let r = this.receiveWaiters.shift(); r !== undefined; r = this.receiveWaiters.shift()) {
      assert(this.buffer.length === 0, 'M2: a receiver waits only while the buffer is empty')
      // A select's entry refuses when the select committed elsewhere first (select/waiter.ts `claim`): serve the next.
      if (r.deliver(value)) return true
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
    for (let s = this.sendWaiters.shift(); s !== undefined; s = this.sendWaiters.shift()) {
      assert(buf.length === this.maxBufferSize, 'M3: a sender waits only while the buffer is full')
      // The sender's value is committed now, unless it is a select's entry that refuses (select/waiter.ts
      // `claim`: the select committed elsewhere first): then the value is not ours, and the next sender is served.
      const sv = s.value
      if (!(this.maxBufferSize > 0 ? s.wakeLater() : s.wake())) continue
      if (buf.length === 0) return sv
      const v = buf.shift()
      buf.push(sv)
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

  /** M1's exception: every waiter of both queues belongs to one select (its entries carry `sel`, select/waiter.ts). */
  private oneSelectWaits(): boolean {
    const sels = new Set<unknown>()
    const note = (op: QueueNode): boolean => (sels.add((op as { sel?: unknown }).sel), false) // visits, removes nothing
    this.sendWaiters.removeWhere(note)
    this.receiveWaiters.removeWhere(note)
    return sels.size === 1 && !sels.has(undefined)
  }

  /** Asserts M1–M6 (tests call it through `checkMemoryChannelInvariants`). */
  checkInvariants(): void {
    const b = this.buffer.length
    assert(
      this.sendWaiters.length === 0 || this.receiveWaiters.length === 0 || (this.maxBufferSize === 0 && this.oneSelectWaits()),
      'M1: one wait queue is empty (or, size 0, one select waits in both)',
    )
    assert(b === 0 || this.receiveWaiters.length === 0, 'M2: buffer non-empty ⇒ no receiver waits')
    assert(this.sendWaiters.length === 0 || b === this.maxBufferSize, 'M3: a sender waits ⇒ buffer full')
    assert(b <= this.maxBufferSize && this.peakBufferUsed >= b, 'M4: buffer within capacity and peak')
    assert(this.openReceiveChannels > 0 || (b === 0 && this.sendWaiters.length === 0), 'M5: no receiver ⇒ nothing buffered or waiting')
    assert(this.openSendChannels > 0 || (this.sendWaiters.length === 0 && this.receiveWaiters.length === 0), 'M6: no sender ⇒ nobody waits')
  }
}

export function broken(method: string): BrokenResourceError {
  return new BrokenResourceError(
    `MemorySendChannel.${method}: every receive handle of this channel is closed, nobody can receive the value`,
  )
}

export function endOfChannel(): EndOfChannel {
  return new EndOfChannel('MemoryReceiveChannel.receive: every send handle is closed and the buffer is empty')
}

export function cannotCross(what: string): TypeError {
  return new TypeError(
    `a memory channel endpoint (${what}) cannot cross threads: it belongs to the thread that opened it. ` +
      'Use openSharedChannel() for a channel whose endpoints can be passed to worker tasks or sent to other threads.',
  )
}
