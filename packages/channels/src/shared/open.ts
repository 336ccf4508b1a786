/**
 * `openSharedChannel` and the process-level wiring of shared channels: the
 * worker bootstrap registration and the worker-exit hook that closes what a
 * dead thread held.
 */
import { threadId } from 'node:worker_threads'
import { onBeforeWorkerTerminate, onWorkerExit } from '@gotrio/runtime/lowlevel'
import { checkMaxBufferSize } from '../validate.ts'
import { alloc, getArena, linkChannel, liveChannels, quiesceThread, releaseGate } from './arena.ts'
import { registerArenaBootstrap } from './bootstrap.ts'
import { resolveCodec, type CodecOption } from './codec.ts'
import { SharedReceiveChannel, SharedSendChannel, finishClose } from './endpoints.ts'
import * as L from './layout.ts'
import { Ring, SIDE_RECV, SIDE_SEND } from './ring.ts'
import { initFastStamps } from './fast-slots.ts'
import { localChannel } from './waiting.ts'

// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const {
  H_BLOCK,
  H_BYTES_BUDGET,
  H_CAPACITY,
  H_CODEC,
  H_FAST,
  FAST_ZERO_SLOT,
  H_GEN,
  H_NEXT,
  H_PREV,
  H_RECV_OPEN,
  H_SEND_OPEN,
  H_SLOTS,
  H_SLOT_BYTES,
  O_RECV_HANDLES,
  O_SEND_HANDLES,
  RENDEZVOUS_SLOTS,
  OVERFLOW_SLOTS,
  CAPACITY_INFINITE,
  H_MAXBUF,
  MAX_RING_CAPACITY,
  OVERFLOW_RING_SLOTS,
  cellsFor,
  channelByteLength,
  slotBytesFor,
} = L

export interface SharedChannelOptions<T> {
  /**
   * How values are carried: `'structured'` (default; anything structured clone
   * accepts, and shared endpoints, which move), `'int32'`, `'uint32'`,
   * `'float64'` (numbers, no allocation per value), or a user `Codec<T>`.
   */
  codec?: CodecOption<T>
  /**
   * Byte codecs only: how many bytes of values too long for a ring slot (over
   * 56 bytes) may wait in the channel at once; a send waits while more would.
   * A single value larger than this is still delivered, alone. Default 4 MiB
   * (unbounded channels: no limit but the arena's, ARENA_MAX_BYTES).
   */
  maxBufferBytes?: number
}

const DEFAULT_MAX_BUFFER_BYTES = 4 << 20

/**
 * The lock-free buffer (fast-slots.ts; issue 14) for capacities 1..2^22, every
 * codec (byte values that are inline and carry no endpoints go lock-free; the
 * others take the lock into the same buffer). On by default since it passed
 * the big soak (docs/RELIABILITY.md). Size 0 gets the lock-free slot instead
 * (zero-slot.ts).
 * GOTRIO_SHARED_FAST=0 in the environment of the thread that opens a channel
 * gives it the locked ring instead (for bisecting, and for comparing the two).
 */
function fastBufferWanted(capacity: number): boolean {
  if (capacity > MAX_RING_CAPACITY) return false
  return typeof process === 'undefined' || process.env.GOTRIO_SHARED_FAST !== '0'
}
const MAX_BUFFER_BYTES = 0x7fffffff

/**
 * Opens a channel whose endpoints can live in any thread: Trio's memory-channel
 * semantics, across threads. See API.md "Channels" and this package's README.
 *
 * ```ts
 * const [tx, rx] = openSharedChannel<number>(1024, { codec: 'int32' })
 * nursery.startSoon(producer, tx)      // a worker task: tx moves to the worker
 * for await (const n of rx) total += n  // ends when the worker's tx is closed
 * ```
 */
export function openSharedChannel<T>(
  maxBufferSize: number,
  options: SharedChannelOptions<T> = {},
): [SharedSendChannel<T>, SharedReceiveChannel<T>] {
  const fn = 'openSharedChannel'
  const capacity = checkMaxBufferSize(fn, maxBufferSize)
  const infinite = capacity === Infinity
  // Larger than a ring allocated up front should be: a small ring and overflow chunks (overflow.ts).
  const overflows = capacity > MAX_RING_CAPACITY
  if (typeof options !== 'object' || options === null) throw new TypeError(`${fn}: options must be an object, got ${String(options)}`)
  const codec = resolveCodec(fn, options.codec)
  // Unbounded: no byte budget unless asked for (Trio's Infinity never blocks).
  const budget = options.maxBufferBytes ?? (infinite ? MAX_BUFFER_BYTES : DEFAULT_MAX_BUFFER_BYTES)
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1 || budget > MAX_BUFFER_BYTES) {
    throw new RangeError(`${fn}: options.maxBufferBytes must be an integer from 1 to 2^31-1 (bytes), got ${String(budget)}`)
  }
  const slots = overflows ? OVERFLOW_RING_SLOTS : capacity === 0 ? RENDEZVOUS_SLOTS : capacity + OVERFLOW_SLOTS
  const slotBytes = slotBytesFor(codec.kind)
  const fast = fastBufferWanted(capacity) ? (capacity === 0 ? FAST_ZERO_SLOT : 1) : 0
  const block = alloc(channelByteLength(slots, slotBytes, cellsFor(fast, codec.kind, capacity)))
  const h = block >> 2
  const a = getArena().i32
  a[h + H_CAPACITY] = Math.min(capacity, CAPACITY_INFINITE)
  getArena().f64[(block + H_MAXBUF * 4) >> 3] = capacity // an even word of an 8-aligned block (ring-slots.ts reads it)
  a[h + H_SLOTS] = slots
  a[h + H_CODEC] = codec.kind
  a[h + H_SLOT_BYTES] = slotBytes
  a[h + H_BYTES_BUDGET] = budget
  a[h + H_BLOCK] = block
  // FAST_ZERO_SLOT: the size-0 lock-free slot (zero-slot.ts); its stamp starts at 0, free for position 0 (a zeroed block).
  a[h + H_FAST] = fast
  if (fast === 1) initFastStamps(a, h, capacity)
  a[h + H_SEND_OPEN] = 1
  a[h + H_RECV_OPEN] = 1
  const gen = linkChannel(block, H_NEXT, H_PREV, H_GEN)
  const local = localChannel(block)
  local.ring.lock()
  local.ring.ownerAdd(threadId, O_SEND_HANDLES, 1)
  local.ring.ownerAdd(threadId, O_RECV_HANDLES, 1)
  local.ring.unlock()
  return [new SharedSendChannel<T>(local, gen, codec), new SharedReceiveChannel<T>(local, gen, codec)]
}

/**
 * Closes every handle thread `deadThreadId` held (its owner entries), and
 * forgets its waiters, so the other threads see EndOfChannel /
 * BrokenResourceError instead of hanging. Installed as the runtime's
 * worker-exit hook; exported for tests that kill raw workers.
 */
export function closeHandlesOfDeadThread(deadThreadId: number): void {
  for (const block of liveChannels(H_NEXT)) {
    const ring = new Ring(block)
    let dropped: Uint8Array[] = []
    let dead = false
    ring.lock()
    try {
      const e = ring.ownerTake(deadThreadId)
      if (e) {
        const [sendHandles, recvHandles, sendWaiting, recvWaiting, selects] = e as [number, number, number, number, number]
        ring.forgetWaitersLocked(sendWaiting, recvWaiting, selects)
        ring.forgetOffersLocked(deadThreadId)
        if (sendHandles > 0) dropped = dropped.concat(ring.closeLocked(SIDE_SEND, sendHandles))
        if (recvHandles > 0) dropped = dropped.concat(ring.closeLocked(SIDE_RECV, recvHandles))
        dead = ring.deadLocked()
      }
    } finally {
      ring.unlock()
    }
    finishClose(ring, dropped, dead)
  }
  releaseGate(deadThreadId)
}

registerArenaBootstrap()
onWorkerExit(closeHandlesOfDeadThread)
onBeforeWorkerTerminate(quiesceThread)
