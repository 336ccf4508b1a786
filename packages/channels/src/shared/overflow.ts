/**
 * The overflow of a large shared channel: maxBufferSize Infinity (Trio's
 * `open_memory_channel(math.inf)` across threads) or above MAX_RING_CAPACITY
 * (layout.ts), too large for a ring allocated up front. Such a channel has a
 * ring of OVERFLOW_RING_SLOTS; a value sent while the ring is full waits in a
 * list of arena blocks ("chunks"), oldest first, and moves into the ring as
 * receivers make room. Every function here runs under the channel's lock
 * (ring.ts), so the ring protocol, its wake-ups and the Spin model are
 * unchanged: to them such a channel is a buffered one with a longer line
 * behind its ring, and no offers (below).
 *
 * Chunk layout (an arena block; Int32 words, then the data 8-aligned):
 *
 * | word | name    | meaning                                                      |
 * |------|---------|--------------------------------------------------------------|
 * |  0   | C_NEXT  | the next (newer) chunk's block, 0 = this is the newest       |
 * |  1   | C_READ  | entries already moved out of this chunk (index of the oldest) |
 * |  2   | C_WRITE | entries written into this chunk                              |
 * |  3   | -       | padding (the metas start 16 bytes in)                        |
 * | 4..  | metas   | CHUNK_ENTRIES meta words, as the ring's (layout.ts ENTRY_*)   |
 * | then | data    | CHUNK_ENTRIES slots of the channel's slot size, as the ring's |
 *
 * Invariants (under the lock; `checkOverflow` verifies them in tests):
 *  - O1 H_OV_COUNT = sum over the chunks of C_WRITE - C_READ; H_OV_FIRST = 0
 *       exactly when H_OV_LAST = 0 (no chunk).
 *  - O2 FIFO: every overflow value was sent after every value in the ring, so
 *       a send goes to the overflow while it is not empty, and a receive
 *       refills the ring from its oldest value before taking (ring.ts).
 *  - O3 H_OV_COUNT > 0 implies the ring holds at least H_SLOTS - 1 entries
 *       (one take between refills), so a receiver finds a value in the ring.
 *  - O4 out-of-line bytes of overflow values are counted in H_BYTES_USED (R6).
 *
 * Waiting senders. A bounded channel with overflow that is full (capacity
 * values waiting) makes a sender wait for room without an offer in the ring
 * (ring.ts "Rendezvous"; offers need ring positions beyond the capacity). It
 * is woken by every take, and takes the freed place if it is still free when it
 * runs again. So at the full boundary such a channel differs from Trio's in two
 * ways: another send (`sendNowait`, or a `send` of another thread that finds
 * the place free) can take the place a woken sender was going to use, again
 * and again, and right after a receive from a full channel the waiting
 * sender's value is not yet in the buffer. Its out-of-line bytes, if any, stay
 * with the sender meanwhile, so a sender thread that dies while it waits
 * leaks that arena block (as a waiting sender beyond the 16 extra slots of a
 * smaller channel does). Only channels of more than 2^22 values are built
 * this way, and they are rarely full; smaller ones keep the exact semantics.
 *
 * Memory: chunks are freed as they empty and when the last receiver closes,
 * so an unbounded channel holds memory in proportion to its backlog, as
 * Trio's does. When the arena cannot grow (ARENA_MAX_BYTES), a number or a
 * value of up to 56 bytes finds no room in the overflow and its send waits,
 * like a send on a full bounded channel, until receivers free some
 * (`sendNowait` throws WouldBlock); a longer value needs an out-of-line block
 * first, and its send throws the arena's RangeError, having written nothing.
 */
import * as __arena from './arena.ts'
import * as L from './layout.ts'
import type { Ring } from './ring.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { alloc, free, getArena } = __arena
const {
  B_LENGTH,
  B_OUT_OF_LINE,
  B_INLINE_START,
  CODEC_BYTES,
  CODEC_FLOAT64,
  ENTRY_HAS_ENDPOINTS,
  H_BYTES_USED,
  H_OV_COUNT,
  H_OV_FIRST,
  H_OV_LAST,
  dataOffset,
} = L

const C_NEXT = 0
const C_READ = 1
const C_WRITE = 2
const C_METAS = 4
/** Entries per chunk: 240 byte slots (64 B) fill a 16 KiB arena class (16,344 of 16,384 bytes, tag included). */
const CHUNK_ENTRIES = 240
const C_DATA_BYTES = (C_METAS + CHUNK_ENTRIES) * 4 // 976: 8-aligned

function chunkBytes(slotBytes: number): number {
  return C_DATA_BYTES + CHUNK_ENTRIES * slotBytes
}

/**
 * Makes sure the newest chunk has a free entry, allocating one if needed.
 * False if the arena is exhausted (the send then finds no room and waits).
 */
export function overflowReserve(r: Ring): boolean {
  const h = r.i32
  const last = h[H_OV_LAST]!
  const ai = getArena().i32
  if (last !== 0 && ai[(last >> 2) + C_WRITE]! < CHUNK_ENTRIES) return true
  let chunk: number
  try {
    chunk = alloc(chunkBytes(r.slotBytes)) // zeroed: C_NEXT = C_READ = C_WRITE = 0
  } catch (e) {
    if (e instanceof RangeError) return false
    throw e
  }
  if (last === 0) h[H_OV_FIRST] = chunk
  else ai[(last >> 2) + C_NEXT] = chunk
  h[H_OV_LAST] = chunk
  return true
}

/**
 * Appends a value (after `overflowReserve` returned true). Counts it in
 * H_OV_COUNT and H_BYTES_USED. It writes the slot format of RingSlots.writeSlot
 * (and overflowDrop mirrors RingSlots.dropEntry) but does not call them: those
 * work on the ring's fixed-length views, these on the arena's length-tracking
 * ones, and one function fed both kinds of typed array would make the ring's
 * element accesses polymorphic on the hot path (ring-slots.ts, the views note).
 */
export function overflowPush(r: Ring, meta: number, num: number, bytes: Uint8Array | undefined, ool: number): void {
  const h = r.i32
  const a = getArena()
  const c = h[H_OV_LAST]!
  const k = a.i32[(c >> 2) + C_WRITE]!
  a.i32[(c >> 2) + C_METAS + k] = meta
  const at = c + C_DATA_BYTES + k * r.slotBytes // byte offset in the arena, 8-aligned
  if (r.codec === CODEC_FLOAT64) a.f64[at >> 3] = num
  else if (r.codec !== CODEC_BYTES) a.i32[at >> 2] = num
  else {
    a.i32[(at >> 2) + B_LENGTH] = bytes!.length
    a.i32[(at >> 2) + B_OUT_OF_LINE] = ool
    if (ool === 0) a.u8.set(bytes!, at + B_INLINE_START)
    else h[H_BYTES_USED] = h[H_BYTES_USED]! + bytes!.length
  }
  a.i32[(c >> 2) + C_WRITE] = k + 1
  h[H_OV_COUNT] = h[H_OV_COUNT]! + 1
}

/**
 * Moves the oldest overflow value into ring slot `slot` (meta and data; an
 * out-of-line block moves with it, so H_BYTES_USED is unchanged) and frees
 * its chunk once every entry of it has moved. The caller counts the entry in
 * the ring (H_COUNT, H_LIVE).
 */
export function overflowShift(r: Ring, slot: number): void {
  const h = r.i32
  const a = getArena()
  const c = h[H_OV_FIRST]!
  const k = a.i32[(c >> 2) + C_READ]!
  h[r.meta + slot] = a.i32[(c >> 2) + C_METAS + k]! // the ring's own (fixed-length) view of its meta words
  const from = c + C_DATA_BYTES + k * r.slotBytes
  const to = r.block + dataOffset(r.slots) + slot * r.slotBytes
  a.u8.copyWithin(to, from, from + r.slotBytes)
  a.i32[(c >> 2) + C_READ] = k + 1
  const left = h[H_OV_COUNT]! - 1
  h[H_OV_COUNT] = left
  if (left === 0) {
    // Empty: give back every chunk (the newest may be a reserved, unwritten one).
    freeChunks(c)
    h[H_OV_FIRST] = 0
    h[H_OV_LAST] = 0
  } else if (k + 1 === CHUNK_ENTRIES) {
    h[H_OV_FIRST] = a.i32[(c >> 2) + C_NEXT]!
    free(c)
  }
}

/**
 * The last receiver closed (R4): drops every overflow value, frees their
 * out-of-line blocks and the chunks, and appends to `dropped` the encoded
 * bytes of values that carried endpoints (the caller closes those after
 * unlocking). Numeric values hold neither, so only the chunks are freed.
 */
export function overflowDrop(r: Ring, dropped: Uint8Array[]): void {
  const h = r.i32
  const a = getArena()
  const first = h[H_OV_FIRST]!
  if (r.codec === CODEC_BYTES) {
    for (let c = first; c !== 0; c = a.i32[(c >> 2) + C_NEXT]!) {
      for (let k = a.i32[(c >> 2) + C_READ]!, end = a.i32[(c >> 2) + C_WRITE]!; k < end; k++) {
        const at = c + C_DATA_BYTES + k * r.slotBytes
        const len = a.i32[(at >> 2) + B_LENGTH]!
        const ool = a.i32[(at >> 2) + B_OUT_OF_LINE]!
        const hasEp = (a.i32[(c >> 2) + C_METAS + k]! & ENTRY_HAS_ENDPOINTS) !== 0
        if (ool === 0) {
          if (hasEp) dropped.push(a.u8.slice(at + B_INLINE_START, at + B_INLINE_START + len))
        } else {
          if (hasEp) dropped.push(a.u8.slice(ool, ool + len))
          h[H_BYTES_USED] = h[H_BYTES_USED]! - len
          free(ool)
        }
      }
    }
  }
  if (first !== 0) freeChunks(first)
  h[H_OV_FIRST] = 0
  h[H_OV_LAST] = 0
  h[H_OV_COUNT] = 0
}

function freeChunks(first: number): void {
  const ai = getArena().i32
  for (let c = first; c !== 0; ) {
    const next = ai[(c >> 2) + C_NEXT]!
    free(c)
    c = next
  }
}

/** O1 and the overflow's share of R6: [error or undefined, out-of-line bytes held]. Tests only. */
export function checkOverflow(r: Ring): [string | undefined, number] {
  const h = r.i32
  const a = getArena()
  let n = 0
  let ool = 0
  let last = 0
  for (let c = h[H_OV_FIRST]!; c !== 0; c = a.i32[(c >> 2) + C_NEXT]!) {
    last = c
    const start = a.i32[(c >> 2) + C_READ]!
    const end = a.i32[(c >> 2) + C_WRITE]!
    if (!(start >= 0 && start <= end && end <= CHUNK_ENTRIES)) return [`O1: chunk read ${start} write ${end}`, 0]
    n += end - start
    if (r.codec !== CODEC_BYTES) continue
    for (let k = start; k < end; k++) {
      const at = c + C_DATA_BYTES + k * r.slotBytes
      if (a.i32[(at >> 2) + B_OUT_OF_LINE] !== 0) ool += a.i32[(at >> 2) + B_LENGTH]!
    }
  }
  if (last !== h[H_OV_LAST]) return [`O1: the chunk list ends at ${last}, H_OV_LAST is ${h[H_OV_LAST]}`, 0]
  if (n !== h[H_OV_COUNT]) return [`O1: ${n} values in chunks, H_OV_COUNT is ${h[H_OV_COUNT]}`, 0]
  return [undefined, ool]
}
