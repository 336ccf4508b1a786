/**
 * How the entries of a shared channel's ring are stored: the views of one
 * channel's block, and the code that writes a value into a slot, reads one
 * out, and drops one (layout.ts has the slot formats). The ring protocol
 * (ring.ts) extends this class; everything here runs under the channel lock,
 * and nothing here decides what may happen, only how bytes move.
 */
import * as __arena from './arena.ts'
import type { Arena } from './arena.ts'
import * as __fastStructured from './fast-structured.ts'
import * as L from './layout.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { getArena, free } = __arena
const { encodeNumberInto } = __fastStructured
const {
  B_INLINE_START,
  B_LENGTH,
  B_OUT_OF_LINE,
  CODEC_BYTES,
  CODEC_FLOAT64,
  CODEC_INT32,
  CODEC_UINT32,
  ENTRY_HAS_ENDPOINTS,
  HEADER_WORDS,
  H_BYTES_BUDGET,
  H_BYTES_USED,
  H_CAPACITY,
  H_CODEC,
  H_FAST,
  H_MAXBUF,
  H_SLOTS,
  H_SLOT_BYTES,
  MAX_RING_CAPACITY,
  dataOffset,
} = L

/** This thread's copy of one inline byte value (inlineToScratch); slots are at most BYTE_SLOT_BYTES. */
const scratch32 = new Int32Array(L.BYTE_SLOT_BYTES >> 2)
const scratch8 = new Uint8Array(scratch32.buffer)

/** `outAt` of a taken byte value that is out of line (`outNum` is its block). */
export const OUT_OOL = -1
/**
 * `outAt` of a byte value taken from the lock-free buffer (fast-slots.ts):
 * its inline bytes are already in this thread's scratch buffer, copied before
 * the slot was freed (the slot may hold another value by now).
 */
export const OUT_SCRATCH = -2
/** Fast byte slots: bit 31 of the length word marks a value that carries endpoints (stamps replace meta words there). */
const FAST_HAS_ENDPOINTS = 0x80000000 | 0

/** One thread's views of one channel's block, and its slot codec. */
export class RingSlots {
  readonly a: Arena
  readonly block: number
  /**
   * Fixed-length views of this channel's block. Views that track a growable
   * SAB's length cost ~4x per element access in V8 (measured: 16 ns vs 4 ns),
   * so the hot path never touches the arena-wide views.
   */
  readonly i32: Int32Array
  /** @internal */
  readonly d32: Int32Array
  private readonly du32: Uint32Array
  private readonly df64: Float64Array
  private readonly du8: Uint8Array
  /** Int32 index of the header in `i32` (0: the view starts at the block). */
  readonly h = 0
  /** maxBufferSize, capped at CAPACITY_INFINITE (2^31 - 1): the bound sends check. */
  readonly capacity: number
  /** maxBufferSize exactly (Infinity, or any integer), for statistics(). */
  readonly maxBufferSize: number
  /** Larger than MAX_RING_CAPACITY: values beyond the ring wait in overflow chunks (overflow.ts). */
  readonly overflows: boolean
  /**
   * Slots of the locked ring. A fast channel (H_FAST) lays out capacity +
   * OVERFLOW_SLOTS slots as any buffered one, but its locked ring is the first
   * OVERFLOW_SLOTS of them (the queue of offers); the rest are the lock-free
   * buffer's (fast-slots.ts).
   */
  readonly slots: number
  /** Slots laid out in the block (H_SLOTS). */
  readonly layoutSlots: number
  readonly codec: number
  readonly slotBytes: number
  /** Index in `i32` of meta word 0. */
  readonly meta: number
  readonly budget: number
  /** Outputs of the last successful receive (valid until the next call in this thread). */
  outNum = 0
  /**
   * Byte codecs: offset in the data ring of the taken value's inline bytes
   * (the caller copies them before unlocking), OUT_OOL if out of line
   * (`outNum` is its block), or OUT_SCRATCH if already in the scratch buffer.
   */
  outAt = OUT_OOL
  outHasEndpoints = false
  /** Length of the last byte value taken; if it was out of line, `outNum` is its block. */
  outLen = 0
  /**
   * Byte codecs: the last value taken was a number held as a Float64 (a
   * number cell, fast-slots.ts; the size-0 slot's Z_NUMBER, zero-slot.ts):
   * `outNum` is that number. A single receive returns it as it is
   * (receive-channel.ts `finish`); readers that want bytes (batches, select,
   * captured values) get the structured codec's bytes for it, written into
   * the scratch buffer when first asked for (`scratchReady`; `outLen` is 0
   * until then). Every take of a byte value sets it.
   */
  outCell = false

  constructor(block: number) {
    this.a = getArena()
    this.block = block
    const i = this.a.i32
    const b = block >> 2
    this.capacity = i[b + H_CAPACITY]!
    // H_MAXBUF is an even word and blocks are 8-aligned: one aligned Float64 of the arena.
    this.maxBufferSize = this.a.f64[(block + H_MAXBUF * 4) >> 3]!
    this.overflows = this.capacity > MAX_RING_CAPACITY
    this.layoutSlots = i[b + H_SLOTS]!
    this.slots = i[b + H_FAST] === 1 ? L.OVERFLOW_SLOTS : this.layoutSlots
    this.codec = i[b + H_CODEC]!
    this.slotBytes = i[b + H_SLOT_BYTES]!
    this.budget = i[b + H_BYTES_BUDGET]!
    this.meta = HEADER_WORDS
    const sab = this.a.sab
    const data = block + dataOffset(this.layoutSlots)
    const dataBytes = this.layoutSlots * this.slotBytes
    this.i32 = new Int32Array(sab, block, dataOffset(this.layoutSlots) >> 2)
    this.d32 = new Int32Array(sab, data, dataBytes >> 2)
    this.du32 = new Uint32Array(sab, data, dataBytes >> 2)
    this.df64 = new Float64Array(sab, data, dataBytes >> 3)
    this.du8 = new Uint8Array(sab, data, dataBytes)
  }

  get(field: number): number {
    return this.i32[this.h + field]!
  }

  protected set(field: number, v: number): void {
    this.i32[this.h + field] = v
  }

  /**
   * Writes an entry into ring slot `slot`: its meta word and its value (the
   * number, or a byte value's length, out-of-line block and inline bytes). An
   * out-of-line value is counted in H_BYTES_USED (R6).
   */
  protected writeSlot(slot: number, meta: number, num: number, bytes: Uint8Array | undefined, ool: number): void {
    this.i32[this.meta + slot] = meta
    if (this.codec === CODEC_FLOAT64) this.df64[slot] = num
    else if (this.codec !== CODEC_BYTES) this.d32[slot] = num
    else {
      const at = slot * this.slotBytes
      this.d32[(at >> 2) + B_LENGTH] = bytes!.length
      this.d32[(at >> 2) + B_OUT_OF_LINE] = ool
      if (ool === 0) this.du8.set(bytes!, at + B_INLINE_START)
      else this.set(H_BYTES_USED, this.get(H_BYTES_USED) + bytes!.length)
    }
  }

  /** Reads the entry of ring slot `slot` into out* (the taker now owns it) and returns its meta word. */
  protected readSlot(slot: number): number {
    const m = this.i32[this.meta + slot]!
    if (this.codec === CODEC_FLOAT64) this.outNum = this.df64[slot]!
    else if (this.codec === CODEC_UINT32) this.outNum = this.du32[slot]!
    else if (this.codec === CODEC_INT32) this.outNum = this.d32[slot]!
    else {
      const at = slot * this.slotBytes
      const len = this.d32[(at >> 2) + B_LENGTH]!
      const ool = this.d32[(at >> 2) + B_OUT_OF_LINE]!
      this.outLen = len
      this.outNum = ool
      this.outCell = false
      // Inline bytes stay in the slot: the caller copies them before unlocking
      // (inlineCopy, or inlineToScratch when it decodes right after).
      if (ool === 0) this.outAt = at + B_INLINE_START
      else {
        // The block is the receiver's from here: copied and freed outside the lock (takeBytes).
        this.outAt = OUT_OOL
        this.set(H_BYTES_USED, this.get(H_BYTES_USED) - len)
      }
    }
    this.outHasEndpoints = (m & ENTRY_HAS_ENDPOINTS) !== 0
    return m
  }

  /** The number in ring slot `slot` (numeric codecs), read without taking it (out* untouched). */
  protected slotNum(slot: number): number {
    if (this.codec === CODEC_FLOAT64) return this.df64[slot]!
    if (this.codec === CODEC_UINT32) return this.du32[slot]!
    return this.d32[slot]!
  }

  /** Under the lock, after a take of an inline byte value (outAt !== OUT_OOL): a copy of its bytes. */
  inlineCopy(): Uint8Array {
    if (this.outAt === OUT_SCRATCH) {
      this.scratchReady()
      return scratch8.slice(0, this.outLen)
    }
    return this.du8.slice(this.outAt, this.outAt + this.outLen)
  }

  /**
   * Under the lock, after a take of an inline byte value: copies its bytes
   * into this thread's scratch buffer (no allocation) and returns it; it is
   * longer than the value (`outLen` bytes) and valid until the next take in
   * this thread, so the caller decodes it right after unlocking.
   */
  inlineToScratch(): Uint8Array {
    if (this.outAt === OUT_SCRATCH) {
      this.scratchReady()
      return scratch8
    }
    const w = this.outAt >> 2 // slots are 8-aligned and B_INLINE_START is 8
    const d = this.d32
    for (let k = 0, n = (this.outLen + 3) >> 2; k < n; k++) scratch32[k] = d[w + k]!
    return scratch8
  }

  /** The scratch buffer inlineToScratch filled. */
  inlineScratch(): Uint8Array {
    return scratch8
  }

  // ---- byte values in the lock-free buffer (fast-slots.ts) -----------------
  // A fast byte slot is laid out as a locked one ([length, outOfLine, inline
  // bytes]), with the endpoints flag in bit 31 of the length word. These run
  // between a position's claim and its stamp store, so the slot is this
  // thread's alone; they never touch H_BYTES_USED (ring.ts does, under the lock).

  /** Writes a byte value into data slot `slot`. */
  protected writeFastBytes(slot: number, bytes: Uint8Array, ool: number, flags: number, n = bytes.length): void {
    const at = slot * this.slotBytes
    const w = at >> 2
    this.d32[w + B_LENGTH] = (flags & ENTRY_HAS_ENDPOINTS) !== 0 ? n | FAST_HAS_ENDPOINTS : n
    this.d32[w + B_OUT_OF_LINE] = ool
    if (ool !== 0) return
    const d = this.du8
    const p = at + B_INLINE_START
    // A loop beats TypedArray.set for the few bytes of a typical value.
    if (n <= 24) for (let k = 0; k < n; k++) d[p + k] = bytes[k]!
    else d.set(n === bytes.length ? bytes : bytes.subarray(0, n), p)
  }

  /** Copies locked-ring slot `from` (a queued offer, meta word `meta`) into data slot `to` of the lock-free buffer. */
  protected copyOfferToFast(from: number, meta: number, to: number): void {
    const d = this.d32
    const src = (from * this.slotBytes) >> 2
    const dst = (to * this.slotBytes) >> 2
    const len = d[src + B_LENGTH]!
    const ool = d[src + B_OUT_OF_LINE]!
    d[dst + B_LENGTH] = (meta & ENTRY_HAS_ENDPOINTS) !== 0 ? len | FAST_HAS_ENDPOINTS : len
    d[dst + B_OUT_OF_LINE] = ool
    if (ool === 0) for (let k = 2, n = 2 + ((len + 3) >> 2); k < n; k++) d[dst + k] = d[src + k]!
  }

  /**
   * Reads the byte value of data slot `slot` into out* (the taker owns it):
   * inline bytes are copied to the scratch buffer (OUT_SCRATCH) because the
   * slot is freed right after; an out-of-line block is the taker's to free.
   */
  protected readFastBytes(slot: number): void {
    const d = this.d32
    const w = (slot * this.slotBytes) >> 2
    const word = d[w + B_LENGTH]!
    const len = word & 0x7fffffff
    const ool = d[w + B_OUT_OF_LINE]!
    this.outLen = len
    this.outNum = ool
    this.outCell = false
    this.outHasEndpoints = word < 0
    if (ool !== 0) {
      this.outAt = OUT_OOL
      return
    }
    this.outAt = OUT_SCRATCH
    for (let k = 0, n = (len + 3) >> 2; k < n; k++) scratch32[k] = d[w + 2 + k]!
  }

  /**
   * A number taken from a number cell of the lock-free buffer (fast-slots.ts
   * "Number cells") or from the size-0 slot: `outNum` (`outCell`). Its bytes
   * (OUT_SCRATCH) are written only if a reader asks for bytes
   * (`scratchReady`): a single receive returns the number and never does.
   */
  protected takeCell(v: number): void {
    this.outLen = 0
    this.outNum = v
    this.outCell = true
    this.outHasEndpoints = false
    this.outAt = OUT_SCRATCH
  }

  /**
   * After a number cell's take: writes the structured codec's bytes for it
   * into the scratch buffer (once; `outLen` 0 means not yet), so every reader
   * of a byte value reads it as one. A no-op for any other take, whose bytes
   * are in the scratch buffer already.
   */
  private scratchReady(): void {
    if (this.outCell && this.outLen === 0) this.outLen = encodeNumberInto(scratch8, this.outNum)
  }

  /**
   * A byte value of the size-0 lock-free slot (zero-slot.ts): its `len`
   * inline bytes, words `from`.. of `src`, into the scratch buffer and out*
   * (OUT_SCRATCH; never out of line, never with endpoints there).
   */
  protected takeInlineWords(src: Int32Array, from: number, len: number): void {
    this.outLen = len
    this.outNum = 0
    this.outCell = false
    this.outHasEndpoints = false
    this.outAt = OUT_SCRATCH
    for (let k = 0, n = (len + 3) >> 2; k < n; k++) scratch32[k] = src[from + k]!
  }

  /** Frees an entry's out-of-line block (BYTES_USED too) when it is dropped unreceived. Returns its bytes if it carried endpoints. */
  protected dropEntry(slot: number): Uint8Array | undefined {
    if (this.codec !== CODEC_BYTES) return undefined
    const at = slot * this.slotBytes
    const len = this.d32[(at >> 2) + B_LENGTH]!
    const ool = this.d32[(at >> 2) + B_OUT_OF_LINE]!
    const hasEp = (this.i32[this.meta + slot]! & ENTRY_HAS_ENDPOINTS) !== 0
    let keep: Uint8Array | undefined
    if (ool === 0) {
      if (hasEp) keep = this.du8.slice(at + B_INLINE_START, at + B_INLINE_START + len)
    } else {
      if (hasEp) keep = this.a.u8.slice(ool, ool + len)
      this.set(H_BYTES_USED, this.get(H_BYTES_USED) - len)
      free(ool)
    }
    this.d32[(at >> 2) + B_OUT_OF_LINE] = 0
    return keep
  }
}
