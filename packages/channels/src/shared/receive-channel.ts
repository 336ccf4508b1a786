/**
 * `SharedReceiveChannel`, the receiving handle of a shared channel (the handle
 * state machine, moves and close are SharedEndpoint's, endpoint-base.ts).
 *
 * Every operation follows runtime/lowlevel's pattern: `current()` once,
 * checkpoint, fast path under the lock, else park a ReceiveOp whose abort()
 * withdraws under the lock (or reports "too late"). FIFO within a thread: a
 * receive queues behind this thread's earlier receivers.
 */
import { threadId } from 'node:worker_threads'
import { ReceiveManyOp, ReceiveOp, type LocalChannel } from './waiting.ts'
import * as __lowlevel from '@gotrio/runtime/lowlevel'
import * as __errors from '../errors.ts'
import type { ReceiveChannel } from '../types.ts'
import { checkBatchMax } from '../validate.ts'
import * as __codec from './codec.ts'
import * as __fast from './fast-structured.ts'
import type { ResolvedCodec } from './codec.ts'
import { SharedEndpoint } from './endpoint-base.ts'
import * as __base from './endpoint-base.ts'
import * as L from './layout.ts'
import * as __ring from './ring.ts'
import * as __ringSlots from './ring-slots.ts'
import type { Ring } from './ring.ts'
import * as __sync from './sync.ts'
import * as __waiting from './waiting.ts'
import type { Batch, Incoming } from './waiting.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { checkCancelled, current, macrotask, park, yieldDue } = __lowlevel
const { ClosedResourceError, EndOfChannel, WouldBlock } = __errors
const { decodeBytes } = __codec
const { FAST_TAG } = __fast
const { SIDE_RECV } = __ring
const { OUT_OOL } = __ringSlots
const { blockingReceive } = __sync
const { DONE, WAIT, END, WOULD_BLOCK, captureIncoming, incomingBytes, newBatch, peerGone, releaseIncoming, takeBatchLocked } = __waiting

// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const { CODEC_BYTES } = L

const closedRecvError = (): Error => new ClosedResourceError('this SharedReceiveChannel was closed while receive() waited')
const newEndError = (): Error => new EndOfChannel('every send handle of this shared channel is closed and it is drained')
/** For the operation's own call (its task's context): Cancelled instead if the task's cancellation is requested (waiting.ts `peerGone`). */
const endError = (): Error => peerGone(newEndError)
const recvErrors = { end: newEndError, closed: closedRecvError }

/**
 * The receiving end of a shared channel. `receive` waits for a value; it
 * completes or throws `Cancelled` having taken nothing. Async-iterable (until
 * EndOfChannel), and sync-iterable through `receiveSync` in workers.
 */
export class SharedReceiveChannel<T> extends SharedEndpoint implements ReceiveChannel<T>, Iterable<T> {
  protected readonly kind = 'SharedReceiveChannel'

  /** @internal use openSharedChannel */
  constructor(local: LocalChannel, gen: number, codec: ResolvedCodec) {
    super(local, gen, SIDE_RECV, codec)
  }

  /** @internal turns a taken entry into the value (after unlocking). */
  decode(v: Incoming): unknown {
    const ring = this.open().ring
    if (ring.codec !== CODEC_BYTES) return v.num
    try {
      // The structured codec gets a copy: v8.deserialize makes typed arrays that
      // are views of its input, and the arena block is freed right after.
      const bytes = this.codec.user || v.bytes !== undefined ? incomingBytes(ring, v) : incomingBytes(ring, v).slice()
      return decodeBytes(this.codec, bytes, v.hasEndpoints)
    } finally {
      releaseIncoming(v)
    }
  }

  /** @internal a taken batch's values, after unlocking (Decoder). Every entry is released; the first decode error is thrown after. */
  decodeBatch(b: Batch): unknown[] {
    if (b.items.length === 0) return b.nums
    const values: unknown[] = new Array(b.items.length)
    let error: unknown
    let failed = false
    for (let k = 0; k < b.items.length; k++) {
      try {
        values[k] = this.decode(b.items[k]!)
      } catch (e) {
        if (!failed) error = e
        failed = true
      }
    }
    if (failed) throw error
    return values
  }

  /**
   * Under the lock, after a take: what decoding needs once unlocked. Numbers
   * stay in `ring.outNum` and small inline structured values are copied to the
   * thread's scratch buffer (undefined: no object per value); anything else
   * (out-of-line, endpoints inside, user codecs) is captured as an Incoming.
   */
  private grabLocked(ring: Ring): Incoming | undefined {
    if (ring.codec !== CODEC_BYTES) return undefined
    if (ring.outAt !== OUT_OOL && !ring.outHasEndpoints && this.codec.user === undefined) {
      // A number cell's number needs no bytes: `finish` returns it (ring-slots.ts `outCell`).
      if (!ring.outCell) ring.inlineToScratch()
      return undefined
    }
    return captureIncoming(ring)
  }

  /** After a lock-free take (tryReceiveFast): the value, decoded (no lock is needed: grabLocked finds it in the scratch buffer or captures it). */
  private takenFast(ring: Ring): T {
    if (ring.codec !== CODEC_BYTES) return ring.outNum as T
    return this.finish(ring, this.grabLocked(ring))
  }

  /**
   * After a lock-free take: that value and up to `max - 1` more taken
   * lock-free, in FIFO order. Values only in offers (senders waiting for
   * room) are moved into the buffer by each take (tryReceiveFast), so the
   * batch sees them as the locked batch does. `trail`: each take may trail a
   * sender at a line start (ring.ts `trailSender`; receiveMany), not for
   * receiveManyNowait, which never waits (ring.ts `receiveFastInBatch`).
   */
  private fastBatch(ring: Ring, max: number, trail: boolean): unknown[] {
    if (ring.codec !== CODEC_BYTES) {
      const nums = [ring.outNum]
      while (nums.length < max && ring.receiveFastInBatch(nums.length, trail)) nums.push(ring.outNum)
      return nums
    }
    const b = newBatch()
    b.items.push(captureIncoming(ring))
    while (b.items.length < max && ring.receiveFastInBatch(b.items.length, trail)) b.items.push(captureIncoming(ring))
    return this.decodeBatch(b)
  }

  /** After unlocking: the value grabLocked (or blockingReceive) left, decoded. */
  private finish(ring: Ring, v: Incoming | undefined): T {
    if (v !== undefined) return this.decode(v) as T
    if (ring.codec !== CODEC_BYTES) return ring.outNum as T
    // A number cell's (or the size-0 slot's) number: the value itself, no decode (ring-slots.ts `outCell`).
    if (ring.outCell) return ring.outNum as T
    const b = ring.inlineScratch()
    // v8.deserialize needs the exact bytes (and may keep views of them): a copy.
    return decodeBytes(this.codec, b[0] === FAST_TAG ? b : b.slice(0, ring.outLen), false) as T
  }

  receive(): Promise<T> {
    return this.receiveOrPark(true)
  }

  /** `receive()`; `spin` false when the caller already spun (the async iterator's receiveIfReady). */
  private receiveOrPark(spin: boolean): Promise<T> {
    try {
      return this.receiveNow(spin)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /** receiveOrPark's body; a throw becomes its rejection (as from an async function, without one's promise and state). */
  private receiveNow(spin: boolean): Promise<T> {
    const ctx = current()
    checkCancelled(ctx)
    const l = this.open()
    const ring = l.ring
    // The lock-free buffer (fast-slots.ts): only when no receive of this thread waits (FIFO).
    if (l.recv.queue.length === 0 && ring.receiveFastTrailing()) {
      const value = this.takenFast(ring)
      return settle(value)
    }
    // A spin that saw a value goes back to the lock-free take, not to the lock.
    if (spin && l.recv.queue.length === 0 && ring.spinIfUseful(SIDE_RECV) && ring.receiveFastTrailing()) {
      const value = this.takenFast(ring)
      return settle(value)
    }
    let r: number
    let v: Incoming | undefined
    let elsewhere = false
    ring.lock()
    try {
      if (l.recv.queue.length > 0) {
        r = WAIT
        ring.seen = ring.registerLocked(threadId, SIDE_RECV) // FIFO: behind this thread's earlier receivers
      } else {
        r = ring.receiveLocked(threadId, false, false)
        if (r === DONE) v = this.grabLocked(ring)
      }
      if (r === WAIT) elsewhere = ring.elsewhereLocked(threadId)
    } finally {
      ring.unlock()
    }
    if (r === DONE) {
      const value = this.finish(ring, v)
      return settle(value)
    }
    if (r === END) throw endError()
    const op = new ReceiveOp<T>(l.recv, this, this, recvErrors)
    l.recv.enqueue(op, ring.seen, elsewhere)
    return park(op, ctx)
  }

  receiveNowait(): T {
    const l = this.open()
    const ring = l.ring
    if (ring.lockFree && l.recv.queue.length === 0 && ring.tryReceiveFast()) return this.takenFast(ring)
    let r: number
    let v: Incoming | undefined
    ring.lock()
    try {
      r = l.recv.queue.length > 0 ? WOULD_BLOCK : ring.receiveLocked(threadId, false, true)
      if (r === DONE) v = this.grabLocked(ring)
    } finally {
      ring.unlock()
    }
    if (r === DONE) return this.finish(ring, v)
    if (r === END) throw newEndError() // not a checkpoint (Trio): the state, never Cancelled
    throw new WouldBlock('SharedReceiveChannel.receiveNowait: no value is available')
  }

  /**
   * API.md "Batches": waits until at least one value is available (or the
   * channel ended), then takes, in FIFO order, up to `max` values in one
   * operation (one lock, one wake-up, one promise): the first, and whatever
   * else is there without waiting, values of senders already waiting included
   * (size 0: the waiting senders' values). One receive in every other respect:
   * EndOfChannel once drained, Cancelled having taken nothing, FIFO among this
   * thread's receivers. `max`: a positive integer or Infinity.
   */
  receiveMany(max: number): Promise<T[]> {
    try {
      return this.receiveManyNow(max)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  private receiveManyNow(max: number): Promise<T[]> {
    checkBatchMax('SharedReceiveChannel.receiveMany', max)
    const ctx = current()
    checkCancelled(ctx)
    const l = this.open()
    const ring = l.ring
    if (l.recv.queue.length === 0 && ring.receiveFastTrailing()) {
      const values = this.fastBatch(ring, max, true) as T[]
      return settle(values)
    }
    // A spin that saw a value goes back to the lock-free take, not to the lock.
    if (l.recv.queue.length === 0 && ring.spinIfUseful(SIDE_RECV) && ring.receiveFastTrailing()) {
      const values = this.fastBatch(ring, max, true) as T[]
      return settle(values)
    }
    let r: number
    let b: Batch | undefined
    let elsewhere = false
    ring.lock()
    try {
      if (l.recv.queue.length > 0) {
        r = WAIT
        ring.seen = ring.registerLocked(threadId, SIDE_RECV) // FIFO: behind this thread's earlier receivers
      } else {
        r = ring.receiveLocked(threadId, false, false)
        if (r === DONE) takeBatchLocked(ring, max, (b = newBatch()))
      }
      if (r === WAIT) elsewhere = ring.elsewhereLocked(threadId)
    } finally {
      ring.unlock()
    }
    if (r === DONE) {
      const values = this.decodeBatch(b!) as T[]
      return settle(values)
    }
    if (r === END) throw endError()
    const op = new ReceiveManyOp<T>(l.recv, this, max, this, recvErrors)
    l.recv.enqueue(op, ring.seen, elsewhere)
    return park(op, ctx)
  }

  /** `receiveMany` without waiting: throws WouldBlock (nothing taken) when no value is there. */
  receiveManyNowait(max: number): T[] {
    checkBatchMax('SharedReceiveChannel.receiveManyNowait', max)
    const l = this.open()
    const ring = l.ring
    if (ring.lockFree && l.recv.queue.length === 0 && ring.tryReceiveFast()) return this.fastBatch(ring, max, false) as T[]
    let r: number
    let b: Batch | undefined
    ring.lock()
    try {
      r = l.recv.queue.length > 0 ? WOULD_BLOCK : ring.receiveLocked(threadId, false, true)
      if (r === DONE) takeBatchLocked(ring, max, (b = newBatch()))
    } finally {
      ring.unlock()
    }
    if (r === DONE) return this.decodeBatch(b!) as T[]
    if (r === END) throw newEndError() // not a checkpoint (Trio): the state, never Cancelled
    throw new WouldBlock('SharedReceiveChannel.receiveManyNowait: no value is available')
  }

  /**
   * `receiveMany`, blocking this worker thread with `Atomics.wait` (as
   * `receiveSync`). Throws on the main thread: use `await receiveMany()` there.
   */
  receiveManySync(max: number): T[] {
    checkBatchMax('SharedReceiveChannel.receiveManySync', max)
    const ring = this.open().ring
    const b = newBatch()
    blockingReceive(ring, endError, false, b, max, 'SharedReceiveChannel.receiveManySync()')
    return this.decodeBatch(b) as T[]
  }

  /**
   * Receives, blocking this worker thread with `Atomics.wait`. Cancellation is
   * seen between waits of at most 20 ms. Throws on the main thread: use
   * `await receive()` there.
   */
  receiveSync(): T {
    const ring = this.open().ring
    return this.finish(ring, blockingReceive(ring, endError, this.codec.user === undefined))
  }

  clone(): SharedReceiveChannel<T> {
    this.addHandle(true)
    return new SharedReceiveChannel<T>(this.open(), this.gen, this.codec)
  }

  /** @internal */
  static revive<T>(local: LocalChannel, gen: number, codec: ResolvedCodec): SharedReceiveChannel<T> {
    const h = new SharedReceiveChannel<T>(local, gen, codec)
    h.addHandle(false)
    return h
  }

  /**
   * Async iteration until EndOfChannel (the handle stays open). Each step is a
   * checkpoint like `receive()`; a step that finds a value resolves at once
   * with one promise (an async generator would add two more per value).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    const done: IteratorResult<T> = { value: undefined, done: true }
    const onEnd = (e: unknown): IteratorResult<T> => {
      if (e instanceof EndOfChannel) return done
      throw e
    }
    // One step: only the value-now path here; the rest (park, end, the
    // fairness yield) in one call, `nextSlow` (see `receiveIfReady` for why).
    const it: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        let v: T | typeof NOT_READY | typeof ENDED
        try {
          v = this.receiveIfReady()
        } catch (e) {
          return Promise.reject(e)
        }
        if (v === NOT_READY || v === ENDED || yieldDue()) return this.nextSlow(v, done, onEnd)
        return Promise.resolve({ value: v, done: false })
      },
      [Symbol.asyncIterator]: () => it,
    }
    return it
  }

  /** The async iterator's step when it found no value now (park), the end, or a value with the fairness yield due. */
  private nextSlow(
    v: T | typeof NOT_READY | typeof ENDED,
    done: IteratorResult<T>,
    onEnd: (e: unknown) => IteratorResult<T>,
  ): Promise<IteratorResult<T>> {
    if (v === ENDED) {
      // As receive(): Cancelled instead if this task's cancellation is requested (waiting.ts `peerGone`).
      const e = endError()
      return e instanceof EndOfChannel ? Promise.resolve(done) : Promise.reject(e)
    }
    if (v === NOT_READY) return this.receiveOrPark(false).then((value) => ({ value, done: false }), onEnd)
    const res: IteratorResult<T> = { value: v, done: false }
    return macrotask().then(() => res)
  }

  /**
   * `receive()`'s checkpoint and fast path, synchronously: the value,
   * NOT_READY (park with receive()), ENDED (EndOfChannel), or a throw. The
   * paths that spin or lock are a function of their own
   * (`receiveIfReadySlow`): V8 optimizes the async iterator's step, with this
   * function inlined, for the paths it has run, and the first run of another
   * branch (the first park, the end of the channel) throws that code away;
   * with them out of line it costs one such deoptimization, not one per
   * branch, and the end of one channel does not leave the next channel's
   * loop unoptimized (measured with bench/diag/phases.ts and --trace-deopt).
   */
  private receiveIfReady(): T | typeof NOT_READY | typeof ENDED {
    checkCancelled(current())
    const l = this.open()
    if (l.recv.queue.length > 0) return NOT_READY
    const ring = l.ring
    if (ring.receiveFastTrailing()) return this.takenFast(ring)
    return this.receiveIfReadySlow(ring)
  }

  private receiveIfReadySlow(ring: Ring): T | typeof NOT_READY | typeof ENDED {
    // A spin that saw a value goes back to the lock-free take, not to the lock.
    if (ring.spinIfUseful(SIDE_RECV) && ring.receiveFastTrailing()) return this.takenFast(ring)
    let r: number
    let v: Incoming | undefined
    ring.lock()
    try {
      r = ring.receiveLocked(threadId, false, true)
      if (r === DONE) v = this.grabLocked(ring)
    } finally {
      ring.unlock()
    }
    if (r === DONE) return this.finish(ring, v)
    if (r === END) return ENDED
    return NOT_READY
  }

  *[Symbol.iterator](): Generator<T, void, undefined> {
    for (;;) {
      try {
        yield this.receiveSync()
      } catch (e) {
        if (e instanceof EndOfChannel) return
        throw e
      }
    }
  }
}

/** A receive's result when it completed without waiting: resolved, after a macrotask if the fairness rule says so (`yieldDue`). */
function settle<V>(value: V): Promise<V> {
  return yieldDue() ? macrotask().then(() => value) : Promise.resolve(value)
}

const NOT_READY: unique symbol = Symbol('not ready')
const ENDED: unique symbol = Symbol('ended')
