/**
 * The public face of shared channels: `SharedSendChannel` / `SharedReceiveChannel`
 * handles. A handle is (channel block, generation, side) plus its thread's
 * `LocalChannel`; all shared state lives in the arena (ring.ts).
 *
 * Thread contract: a handle object belongs to the thread that made it. It
 * crosses threads only by moving (kTransfer for worker-task arguments, or
 * inside a channel value): the moved-out object then throws
 * ClosedResourceError, the other thread gets a new live handle, and the open
 * counts do not change. `statistics()` reads shared counts without the lock:
 * every number is exact at some instant but they may be from different ones.
 *
 * Every operation follows runtime/lowlevel's pattern: `current()` once,
 * checkpoint, fast path under the lock, else park a SendOp/ReceiveOp whose
 * abort() withdraws under the lock (or reports "too late").
 */
import { threadId } from 'node:worker_threads'
import { LocalChannel, ReceiveOp, SendOp } from './waiting.js'
import * as __runtime from '@gotrio/runtime'
import * as __lowlevel from '@gotrio/runtime/lowlevel'
import { kTransfer, type TransferRecord } from '@gotrio/runtime/lowlevel' // a named import keeps its unique-symbol type
import * as __errors from '../errors.js'
import type { ChannelStatistics, ReceiveChannel, SendChannel } from '../types.js'
import * as __arena from './arena.js'
import * as __codec from './codec.js'
import * as __fast from './fast-structured.js'
import type { ResolvedCodec } from './codec.js'
import * as L from './layout.js'
import * as __ring from './ring.js'
import type { Ring } from './ring.js'
import * as __sync from './sync.js'
import * as __waiting from './waiting.js'
import type { Incoming, Outgoing } from './waiting.js'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { checkpoint } = __runtime
const { adoptResource, checkCancelled, current, macrotask, park, releaseResource, yieldDue } = __lowlevel
const { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } = __errors
const { alloc, free, unlinkChannel } = __arena
const { closeEndpointsIn, decodeBytes, encodeBytes, checkNumber, setEndpointHooks, codecByName } = __codec
const { FAST_TAG } = __fast
const { SIDE_RECV, SIDE_SEND, HANDED } = __ring
const { blockingSend, blockingReceive } = __sync
const { DONE, OFFERED, WAIT, BROKEN, END, WOULD_BLOCK, captureIncoming, dropLocal, incomingBytes, localChannel, releaseIncoming } = __waiting

// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const {
  B_INLINE_START,
  CODEC_BYTES,
  ENTRY_HAS_ENDPOINTS,
  H_GEN,
  H_LIVE,
  H_OV_COUNT,
  H_NEXT,
  H_PEAK,
  H_PREV,
  H_RECV_OPEN,
  H_RECV_WAITING,
  H_SEND_OPEN,
  H_SEND_WAITING,
  O_RECV_HANDLES,
  O_SEND_HANDLES,
} = L

const TRANSFER_MODULE = new URL(`./transfer${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url).href

/** Reads to spin before an async operation parks (~2-5 µs; a park + wake costs more). */
const SPINS_ASYNC = 1000

const OPEN = 0
const CLOSED = 1
const MOVED = 2

/** What both handle kinds share: the state machine open → closed | moved, and moves. */
abstract class SharedEndpoint {
  #state = OPEN
  #local: LocalChannel
  readonly #gen: number
  readonly #side: number
  /** @internal */
  readonly codec: ResolvedCodec

  constructor(local: LocalChannel, gen: number, side: number, codec: ResolvedCodec) {
    this.#local = local
    this.#gen = gen
    this.#side = side
    this.codec = codec
    local.handles++
    adoptResource(this)
  }

  protected abstract readonly kind: string

  /** The thread's channel state, or ClosedResourceError naming why this handle is unusable. */
  protected open(): LocalChannel {
    if (this.#state === OPEN) return this.#local
    if (this.#state === MOVED) {
      throw new ClosedResourceError(
        `this ${this.kind} was moved to another thread (passed to a worker task or sent through a channel); ` +
          'use the handle that thread received, or pass a clone() to keep one here',
      )
    }
    throw new ClosedResourceError(`this ${this.kind} is closed`)
  }

  /** @internal the descriptor that travels inside channel values: [block, gen, side, codec name]. */
  describe(): [number, number, number, string] {
    const l = this.open()
    return [l.ring.block, this.#gen, this.#side, this.codec.name]
  }

  /** @internal gives this handle up (it moved); the counts stay, this thread's ownership goes. */
  moveOut(): void {
    const l = this.open()
    l.ring.lock()
    l.ring.ownerAdd(threadId, this.#side === SIDE_SEND ? O_SEND_HANDLES : O_RECV_HANDLES, -1)
    l.ring.unlock()
    // Waiters of this channel in this thread may now be completed from elsewhere (keep-alive, waiting.ts).
    l.send.handleMovedOut()
    l.recv.handleMovedOut()
    this.#state = MOVED
    l.handles--
    releaseResource(this)
    dropLocal(l)
  }

  /** @internal undoes moveOut (an offer carrying this handle was withdrawn). */
  moveBack(): void {
    const l = this.#local
    l.ring.lock()
    l.ring.ownerAdd(threadId, this.#side === SIDE_SEND ? O_SEND_HANDLES : O_RECV_HANDLES, 1)
    l.ring.unlock()
    this.#state = OPEN
    l.handles++
    adoptResource(this)
  }

  /**
   * The runtime's move protocol: with `check`, only verify that this handle can
   * move (it is open) and give nothing up; then move it (see resources.ts).
   */
  [kTransfer](check?: boolean): TransferRecord | undefined {
    if (check) {
      this.open()
      return undefined
    }
    const data = this.describe()
    this.moveOut()
    return { module: TRANSFER_MODULE, data }
  }

  /** Closes this handle. Synchronous and idempotent. Its own parked operations throw ClosedResourceError. */
  close(): void {
    if (this.#state !== OPEN) return
    const l = this.#local
    this.#state = CLOSED
    releaseResource(this)
    ;(this.#side === SIDE_SEND ? l.send : l.recv).closeOwner(this)
    const ring = l.ring
    let dropped: Uint8Array[]
    let dead: boolean
    ring.lock()
    try {
      ring.ownerAdd(threadId, this.#side === SIDE_SEND ? O_SEND_HANDLES : O_RECV_HANDLES, -1)
      dropped = ring.closeLocked(this.#side, 1)
      dead = ring.deadLocked()
    } finally {
      ring.unlock()
    }
    l.handles--
    dropLocal(l)
    finishClose(ring, dropped, dead)
  }

  /** `close()`, as a checkpoint. */
  async aclose(): Promise<void> {
    this.close()
    await checkpoint()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose()
  }

  /** A snapshot; may be stale by the time it is read (other threads keep going). */
  statistics(): ChannelStatistics {
    const ring = this.#local.ring
    const i = ring.i32
    const h = ring.h
    const live = Atomics.load(i, h + H_GEN) === this.#gen
    const get = (f: number): number => (live ? Atomics.load(i, h + f) : 0)
    return {
      currentBufferUsed: Math.min(get(H_LIVE), ring.capacity) + get(H_OV_COUNT),
      maxBufferSize: ring.maxBufferSize,
      openSendChannels: get(H_SEND_OPEN),
      openReceiveChannels: get(H_RECV_OPEN),
      tasksWaitingSend: get(H_SEND_WAITING),
      tasksWaitingReceive: get(H_RECV_WAITING),
      peakBufferUsed: ring.capacity === 0 ? 0 : get(H_PEAK),
    }
  }

  /** @internal a new handle on the same side, in this thread (clone, revive). */
  protected addHandle(countOpen: boolean): void {
    const ring = this.open().ring
    ring.lock()
    if (countOpen) {
      const f = this.#side === SIDE_SEND ? H_SEND_OPEN : H_RECV_OPEN
      ring.i32[ring.h + f] = ring.i32[ring.h + f]! + 1
    }
    ring.ownerAdd(threadId, this.#side === SIDE_SEND ? O_SEND_HANDLES : O_RECV_HANDLES, 1)
    ring.unlock()
  }

  /** @internal */
  get gen(): number {
    return this.#gen
  }
}

/** After the lock: close endpoints that were dropped with the buffer, free a channel no handle can reach. */
export function finishClose(ring: Ring, dropped: Uint8Array[], dead: boolean): void {
  for (const b of dropped) closeEndpointsIn(b)
  if (dead) {
    unlinkChannel(ring.block, H_NEXT, H_PREV, H_GEN)
    free(ring.block)
  }
}

const brokenError = (): Error => new BrokenResourceError('every receive handle of this shared channel is closed')
const closedSendError = (): Error => new ClosedResourceError('this SharedSendChannel was closed while send() waited')
const closedRecvError = (): Error => new ClosedResourceError('this SharedReceiveChannel was closed while receive() waited')
const endError = (): Error => new EndOfChannel('every send handle of this shared channel is closed and it is drained')
const sendErrors = { broken: brokenError, closed: closedSendError }
const recvErrors = { end: endError, closed: closedRecvError }

/**
 * The sending end of a shared channel; usable from any thread it is moved to.
 * `send` waits while the buffer is full (size 0: until a receiver in some
 * thread took the value); it either completes or throws `Cancelled` having
 * delivered nothing. `sendSync` is the same for worker CPU loops.
 */
export class SharedSendChannel<T> extends SharedEndpoint implements SendChannel<T> {
  protected readonly kind = 'SharedSendChannel'

  /** @internal use openSharedChannel */
  constructor(local: LocalChannel, gen: number, codec: ResolvedCodec) {
    super(local, gen, SIDE_SEND, codec)
  }

  /**
   * Encodes `value` for a byte codec (throws TypeError/DataCloneError, nothing
   * written). Numeric codecs need no Outgoing on the fast path: `checkNumber`,
   * then `numericOut` only if the operation must wait.
   */
  private encode(ring: Ring, fn: string, value: T): Outgoing {
    const enc = encodeBytes(this.codec, fn, value)
    let ool = 0
    if (enc.bytes.length > ring.slotBytes - B_INLINE_START) {
      ool = alloc(enc.bytes.length)
      ring.a.u8.set(enc.bytes, ool)
    }
    const eps = enc.endpoints as SharedEndpoint[]
    if (eps.length === 0) return { num: 0, bytes: enc.bytes, ool, flags: 0, committed: noop, uncommitted: noop }
    return {
      num: 0,
      bytes: enc.bytes,
      ool,
      flags: ENTRY_HAS_ENDPOINTS,
      committed: () => eps.forEach((e) => e.moveOut()),
      uncommitted: () => eps.forEach((e) => e.moveBack()),
    }
  }

  async send(value: T): Promise<void> {
    const ctx = current()
    checkCancelled(ctx)
    const l = this.open()
    const ring = l.ring
    const numeric = ring.codec !== CODEC_BYTES
    const num = numeric ? checkNumber(ring.codec, 'SharedSendChannel.send', value) : 0
    const enc = numeric ? undefined : this.encode(ring, 'SharedSendChannel.send', value)
    if (l.send.queue.length === 0 && ring.looksBlocked(false)) ring.spin(false, SPINS_ASYNC)
    let r: number
    let seen = 0
    let elsewhere = false
    ring.lock()
    try {
      if (l.send.queue.length > 0 && l.send.queue.some((op) => !(op as SendOp).inLine)) {
        // FIFO: behind this thread's earlier sender that has no place in the
        // ring yet. (Senders whose offers are in the ring are in line already.)
        r = WAIT
        seen = ring.registerLocked(threadId, SIDE_SEND)
      } else {
        r = enc === undefined
          ? ring.sendLocked(threadId, num, undefined, 0, 0, false, false)
          : ring.sendLocked(threadId, 0, enc.bytes, enc.ool, enc.flags, false, false)
        seen = r === OFFERED || r === HANDED ? ring.readSeq(SIDE_SEND) : ring.seen
      }
      if (r === WAIT || r === OFFERED || r === HANDED) elsewhere = ring.elsewhereLocked(threadId)
    } finally {
      ring.unlock()
    }
    if (r === DONE) {
      if (enc !== undefined) enc.committed()
      if (yieldDue()) await macrotask()
      return
    }
    if (r === BROKEN) {
      if (enc !== undefined && enc.ool !== 0) free(enc.ool)
      throw brokenError()
    }
    const out = enc ?? numericOut(num)
    if (r === OFFERED || r === HANDED) out.committed()
    const op = new SendOp(l.send, this, out, r === OFFERED || r === HANDED ? ring.ticket : undefined, r === HANDED, sendErrors)
    l.send.enqueue(op, seen, elsewhere)
    return park(op, ctx)
  }

  sendNowait(value: T): void {
    const l = this.open()
    const ring = l.ring
    const numeric = ring.codec !== CODEC_BYTES
    const num = numeric ? checkNumber(ring.codec, 'SharedSendChannel.sendNowait', value) : 0
    const enc = numeric ? undefined : this.encode(ring, 'SharedSendChannel.sendNowait', value)
    let r: number
    ring.lock()
    try {
      if (l.send.queue.length > 0) r = WOULD_BLOCK
      else if (enc === undefined) r = ring.sendLocked(threadId, num, undefined, 0, 0, false, true)
      else r = ring.sendLocked(threadId, 0, enc.bytes, enc.ool, enc.flags, false, true)
    } finally {
      ring.unlock()
    }
    if (r === DONE) {
      if (enc !== undefined) enc.committed()
      return
    }
    if (enc !== undefined && enc.ool !== 0) free(enc.ool)
    if (r === BROKEN) throw brokenError()
    throw new WouldBlock('SharedSendChannel.sendNowait: the channel is full (size 0: no receiver is waiting)')
  }

  /**
   * Sends, blocking this worker thread with `Atomics.wait` (for CPU loops that
   * want no `await`). Cancellation is seen between waits of at most 20 ms.
   * Throws on the main thread, which must not block: use `await send()` there.
   */
  sendSync(value: T): void {
    const l = this.open()
    const ring = l.ring
    if (ring.codec !== CODEC_BYTES) blockingSend(ring, checkNumber(ring.codec, 'SharedSendChannel.sendSync', value), undefined, brokenError)
    else blockingSend(ring, 0, this.encode(ring, 'SharedSendChannel.sendSync', value), brokenError)
  }

  clone(): SharedSendChannel<T> {
    this.addHandle(true)
    return new SharedSendChannel<T>(this.open(), this.gen, this.codec)
  }

  /** @internal a handle revived in this thread from a descriptor (already counted open). */
  static revive<T>(local: LocalChannel, gen: number, codec: ResolvedCodec): SharedSendChannel<T> {
    const h = new SharedSendChannel<T>(local, gen, codec)
    h.addHandle(false)
    return h
  }
}

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

  /**
   * Under the lock, after a take: what decoding needs once unlocked. Numbers
   * stay in `ring.outNum` and small inline structured values are copied to the
   * thread's scratch buffer (undefined: no object per value); anything else
   * (out-of-line, endpoints inside, user codecs) is captured as an Incoming.
   */
  private grabLocked(ring: Ring): Incoming | undefined {
    if (ring.codec !== CODEC_BYTES) return undefined
    if (ring.outAt >= 0 && !ring.outHasEndpoints && this.codec.user === undefined) {
      ring.inlineToScratch()
      return undefined
    }
    return captureIncoming(ring)
  }

  /** After unlocking: the value grabLocked (or blockingReceive) left, decoded. */
  private finish(ring: Ring, v: Incoming | undefined): T {
    if (v !== undefined) return this.decode(v) as T
    if (ring.codec !== CODEC_BYTES) return ring.outNum as T
    const b = ring.inlineScratch()
    // v8.deserialize needs the exact bytes (and may keep views of them): a copy.
    return decodeBytes(this.codec, b[0] === FAST_TAG ? b : b.slice(0, ring.outLen), false) as T
  }

  async receive(): Promise<T> {
    const ctx = current()
    checkCancelled(ctx)
    const l = this.open()
    const ring = l.ring
    if (l.recv.queue.length === 0 && ring.looksBlocked(true)) ring.spin(true, SPINS_ASYNC)
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
      if (yieldDue()) await macrotask()
      return value
    }
    if (r === END) throw endError()
    const op = new ReceiveOp<T>(l.recv, this, this, recvErrors)
    l.recv.enqueue(op, ring.seen, elsewhere)
    return park(op, ctx)
  }

  receiveNowait(): T {
    const l = this.open()
    const ring = l.ring
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
    if (r === END) throw endError()
    throw new WouldBlock('SharedReceiveChannel.receiveNowait: no value is available')
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
    const it: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        let v: T | typeof NOT_READY
        try {
          v = this.receiveIfReady()
        } catch (e) {
          return e instanceof EndOfChannel ? Promise.resolve(done) : Promise.reject(e)
        }
        if (v === NOT_READY) return this.receive().then((value) => ({ value, done: false }), onEnd)
        const res: IteratorResult<T> = { value: v, done: false }
        return yieldDue() ? macrotask().then(() => res) : Promise.resolve(res)
      },
      [Symbol.asyncIterator]: () => it,
    }
    return it
  }

  /** `receive()`'s checkpoint and fast path, synchronously: the value, NOT_READY (park with receive()), or a throw. */
  private receiveIfReady(): T | typeof NOT_READY {
    checkCancelled(current())
    const l = this.open()
    if (l.recv.queue.length > 0) return NOT_READY
    const ring = l.ring
    if (ring.looksBlocked(true)) ring.spin(true, SPINS_ASYNC)
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
    if (r === END) throw endError()
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

function noop(): void {}

/** A number's Outgoing, made only when its send must wait (parked operations keep it). */
function numericOut(num: number): Outgoing {
  return { num, bytes: undefined, ool: 0, flags: 0, committed: noop, uncommitted: noop }
}

const NOT_READY: unique symbol = Symbol('not ready')

/** Revives a descriptor [block, gen, side, codec] as a live handle of this thread. */
export function reviveEndpoint(desc: readonly unknown[]): SharedSendChannel<unknown> | SharedReceiveChannel<unknown> {
  const [block, gen, side, codecName] = desc as [number, number, number, string]
  const local = localChannel(block)
  if (Atomics.load(local.ring.i32, local.ring.h + H_GEN) !== gen) {
    throw new Error(`gotrio internal error (this is a bug in gotrio): a moved shared-channel endpoint refers to a freed channel`)
  }
  const codec = codecByName(codecName)
  return side === SIDE_SEND ? SharedSendChannel.revive(local, gen, codec) : SharedReceiveChannel.revive(local, gen, codec)
}

setEndpointHooks({
  isEndpoint: (x) => x instanceof SharedEndpoint,
  describe: (x) => (x as SharedEndpoint).describe(),
  moveOut: (x) => (x as SharedEndpoint).moveOut(),
  revive: reviveEndpoint,
})
