/**
 * What both shared-channel handle kinds share: the `SharedEndpoint` base class
 * (the state machine open → closed | moved, moves, close, statistics) and
 * `finishClose`. The handles themselves are in send-channel.ts and
 * receive-channel.ts; endpoints.ts ties them together (revival, codec hooks).
 *
 * A handle is (channel block, generation, side) plus its thread's
 * `LocalChannel`; all shared state lives in the arena (ring.ts).
 *
 * Thread contract: a handle object belongs to the thread that made it. It
 * crosses threads only by moving (kTransfer for worker-task arguments, or
 * inside a channel value): the moved-out object then throws
 * ClosedResourceError, the other thread gets a new live handle, and the open
 * counts do not change. `statistics()` reads shared counts without the lock:
 * every number is exact at some instant but they may be from different ones.
 *
 * This module imports neither side (they extend it), so it has no import cycle
 * with them.
 */
import { threadId } from 'node:worker_threads'
import type { LocalChannel } from './waiting.ts'
import * as __runtime from '@gotrio/runtime'
import * as __lowlevel from '@gotrio/runtime/lowlevel'
import { kTransfer, type TransferRecord } from '@gotrio/runtime/lowlevel' // a named import keeps its unique-symbol type
import * as __errors from '../errors.ts'
import type { ChannelStatistics } from '../types.ts'
import * as __arena from './arena.ts'
import * as __codec from './codec.ts'
import type { ResolvedCodec } from './codec.ts'
import * as L from './layout.ts'
import * as __ring from './ring.ts'
import type { Ring } from './ring.ts'
import * as __waiting from './waiting.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { checkpoint } = __runtime
const { adoptResource, releaseResource } = __lowlevel
const { ClosedResourceError } = __errors
const { free, unlinkChannel } = __arena
const { closeEndpointsIn } = __codec
const { SIDE_SEND } = __ring
const { dropLocal } = __waiting

// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const {
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

const OPEN = 0
const CLOSED = 1
const MOVED = 2

/** What both handle kinds share: the state machine open → closed | moved, and moves. */
export abstract class SharedEndpoint {
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
      // Two unlocked loads: a receive's refill (overflow.ts) moves values from
      // H_OV_COUNT to H_LIVE in between, so on a channel with overflow this sum
      // may be off by the values one refill moves (the exception to the
      // "exact at some instant" note above). Without overflow H_OV_COUNT is 0.
      // A fast channel: the lock-free buffer's count (its offers are not buffer used).
      currentBufferUsed: ring.fast ? (live ? ring.fastCount() : 0) : Math.min(get(H_LIVE), ring.capacity) + get(H_OV_COUNT),
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

  /** @internal select (select/shared.ts): the thread's channel state; ClosedResourceError as for any operation. */
  selectLocal(): LocalChannel {
    return this.open()
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
