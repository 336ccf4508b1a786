/**
 * The lock-free buffer of a *fast* shared channel (issue 14): a bounded
 * multi-producer multi-consumer array ring with a sequence stamp per slot
 * (Vyukov's bounded queue, as in crossbeam-channel's array flavor), used for
 * channels of capacity 1..MAX_RING_CAPACITY, every codec. A value that finds
 * room costs its sender one CAS on the tail and one stamp store, and its
 * receiver one CAS on the head and one stamp store: no channel lock.
 * The channel lock (ring.ts) stays for everything that waits: registering
 * waiters, the offers of senders waiting for room (the locked ring of
 * OVERFLOW_SLOTS entries, used as a queue of offers), close, cancellation.
 *
 * Byte codecs ('structured', user codecs): a slot is laid out as a locked
 * ring's byte slot (layout.ts: length, out-of-line block, inline bytes), with
 * the endpoints flag in bit 31 of the length word. Only a value that is
 * inline and carries no endpoints is sent lock-free (`trySendFastBytes`); one
 * with an out-of-line block (H_BYTES_USED, the byte budget) or endpoints
 * (they move when it commits) is pushed under the lock, into the same buffer,
 * so FIFO is one order. Any value is taken lock-free: its inline bytes are
 * copied out before the stamp store frees the slot; an out-of-line value's
 * taker then takes the lock to give its bytes back (H_BYTES_USED) and wake a
 * sender waiting for budget (ring.ts `tryReceiveFast`).
 *
 * Number cells (byte codecs): a byte slot is a 64-byte line of its own, so a
 * stream of small values moved one line between the cores per value where a
 * numeric codec moves 16 values a line (measured, the seed's buffered program
 * with a worker producer, which sends numbers on the default codec: the
 * sender's stamp store ~35% of its thread's time, waiting on the line the
 * receiver had just read). So a fast byte channel also has a Float64 cell per
 * slot, 8 a line (layout.ts), and the structured codec sends a number that is
 * not NaN there instead of its bytes (`vpushCell`; no other value, and no
 * user codec, does). Every other push into the buffer stores NaN in the
 * slot's cell, so a taker reads the cell first: a number is the value (the
 * taker's `outNum`, its structured bytes written only for readers that want
 * bytes: ring-slots.ts `takeCell`), NaN means the byte slot holds it. The
 * cell is written between the claim and the stamp store and read between the
 * stamp load and the freeing store, as the byte slot is: no new shared word,
 * no ordering of its own.
 *
 * Where (layout.ts): a fast channel lays out `capacity + OVERFLOW_SLOTS` slots
 * as any buffered channel; the locked ring uses the first OVERFLOW_SLOTS of
 * them as its queue of offers, and the lock-free buffer the other `capacity`:
 *
 * | word / array                        | written by                               | meaning                                  |
 * |-------------------------------------|------------------------------------------|------------------------------------------|
 * | header H_FHEAD (byte 128)           | receivers (CAS), no lock                 | position of the next value to take       |
 * | header H_FSLOW (byte 192)           | lock holders                             | 1 while SLOW is set (receivers read it)  |
 * | header H_FTAIL (byte 256)           | senders (CAS), no lock; SLOW: lock holder| position of the next free slot, + SLOW   |
 * | meta words OVERFLOW_SLOTS..+C       | the CAS winner of that position          | the stamps (below)                       |
 * | data slots OVERFLOW_SLOTS..+C       | the CAS winner of that position          | the numbers, or byte values (above)      |
 *
 * H_FHEAD and H_FTAIL are 128 bytes from each other and from the lock's line,
 * so senders and receivers that keep up with each other write different lines.
 *
 * Positions: `lap | index`, index < C (capacity), lap a multiple of ONE_LAP =
 * 2P where P = the next power of two >= C; the bit P of F_TAIL is SLOW. Both
 * wrap at 2^32 (compared for equality only). Stamps: slot i holds `pos` when
 * it is free for the sender of position `pos`, and `pos + 1` once that sender
 * published its value; the receiver of `pos` stores `pos + ONE_LAP` (free for
 * the next lap's sender).
 *
 * HOLD (bit P of F_HEAD) is set only by `holdLocked` (a select polling
 * several channels at one instant) and cleared by its unlock; lock-free
 * receivers' CAS fails while it is set, as senders' does with SLOW.
 *
 * SLOW (bit P of F_TAIL) is set and cleared only under the channel lock, by
 * Atomics.or / Atomics.and, and every lock-free sender's CAS compares the
 * whole word, so once SLOW is set no lock-free send can complete: senders
 * then take the lock (ring.ts `sendFastLocked`, which pushes with the bit
 * kept). Invariants (under the lock, at every unlock; ring-check.ts):
 *  - F1 an offer is queued (H_COUNT > 0), or a sender is registered as
 *       waiting (H_SEND_WAITING > 0, select watchers included), or no receive
 *       handle is open (H_RECV_OPEN = 0) => SLOW. (Ring.unlock recomputes SLOW
 *       as exactly this, so with no waiting sender the fast path reopens.)
 *  - F2 H_RECV_OPEN = 0 => the lock-free buffer is empty (the last receiver
 *       drained it, as R4 for the locked ring).
 *  - F3 0 <= count() <= C, exact when no operation is in flight.
 *
 * Ordering (every access below is an Atomics operation, so all of them are in
 * one sequentially consistent order; these are the three Dekker pairs):
 *  - A lock-free send publishes its stamp, then reads H_RECV_WAITING; a
 *    receiver that finds the buffer empty registers (Atomics.add on
 *    H_RECV_WAITING) under the lock, then tries the buffer again before it
 *    waits. Either the sender sees the count (it takes the lock and bumps
 *    the receivers' futex word, as any change does) or the receiver's retry
 *    sees the stamp. So no receiver waits while a value is there unwoken.
 *  - A lock-free receive stores its stamp (a slot freed), then reads SLOW
 *    (its copy H_FSLOW); a sender that finds the buffer full sets SLOW under
 *    the lock (H_FSLOW, then the tail's bit), then tries the buffer again
 *    before it queues an offer or waits.
 *    Either the receiver sees SLOW (it takes the lock, moves queued offers
 *    into free slots and bumps the senders' word) or the sender's retry finds
 *    the freed slot. So no sender waits for room that is there, and an offer
 *    never waits in the queue while the buffer has room for long: the next
 *    lock-free receive, or any operation under the lock, moves it.
 *  - A lock-free send that passed the first pair's check (H_RECV_WAITING >
 *    0) bumps only if ARMED_RECV is set (a receiver read SEQ_RECV since the
 *    last bump; ring.ts "Wake-ups"). A receiver arms (Atomics.or on H_ARMED),
 *    reads SEQ_RECV, then looks at the buffer (`Ring.readSeq`), and if a value
 *    is there it waits with a `seen` the word no longer holds, so it retries
 *    at once. Either the sender sees the arm (and bumps) or the receiver sees
 *    the value. Receivers bumped before and not yet re-armed retry anyway. So a
 *    producer that outruns a parked consumer takes the lock once per wake-up,
 *    not once per value (model/fast.pml, mutation NO_ARM_RECHECK).
 *  - A lock-free send's CAS fails once SLOW is set, so a send that started
 *    before a waiting sender registered either completed before that
 *    registration (its value is older) or goes to the lock, behind the offers:
 *    a waiting sender owns the next free slot (Trio), in every thread.
 * The termination gate (lock.ts) brackets each lock-free operation from its
 * CAS to its stamp store and its wake-up, so a terminated worker never leaves
 * a slot claimed but unpublished, nor a wake-up owed.
 */
import { RingSlots } from './ring-slots.ts'
import * as L from './layout.ts'
// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const { CODEC_BYTES, CODEC_FLOAT64, CODEC_UINT32, H_FAST, H_FHEAD, H_FSLOW, H_FTAIL, OVERFLOW_SLOTS } = L
const F_HEAD = H_FHEAD
const F_TAIL = H_FTAIL

/** vpush results. */
export const V_OK = 0
export const V_FULL = 1
export const V_SLOW = 2

/** The creator, in a zeroed block: every stamp free for lap 0 (head = tail = 0). */
export function initFastStamps(i32: Int32Array, headerIndex: number, capacity: number): void {
  const st = headerIndex + L.HEADER_WORDS + OVERFLOW_SLOTS
  for (let k = 0; k < capacity; k++) i32[st + k] = k
}

/** Cache-line size assumed by the spinning hints (x86-64, most arm64). */
const LINE_BYTES = 64
const STAMPS_PER_LINE = LINE_BYTES / 4

function nextPow2(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

/** The views of the lock-free buffer (all empty on a channel without one). */
export class FastSlots extends RingSlots {
  /** True if this channel has the lock-free buffer (H_FAST = 1). */
  readonly fast: boolean
  /** True if this size-0 channel has the lock-free slot (H_FAST = FAST_ZERO_SLOT; zero-slot.ts), whose positions are a capacity-1 buffer's. */
  readonly zslot: boolean
  /** `fast || zslot`: a receive may first try the lock-free take (`tryReceiveFast`), a small send the scratch encode. */
  readonly lockFree: boolean
  /** The header view (F_HEAD, F_TAIL are header words). */
  readonly fc: Int32Array
  readonly stamps: Int32Array
  private readonly fd32: Int32Array
  private readonly fdu32: Uint32Array
  private readonly fdf64: Float64Array
  /** Number cells (fast byte channels; "Number cells" above): a number, or NaN when the byte slot holds the value. */
  private readonly cells: Float64Array
  /** The first stamp index at a cache-line boundary (nextLineReady). */
  private readonly lineSkew: number
  /** index mask (P - 1), the SLOW bit (P), one lap (2P). */
  readonly fIdx: number
  readonly fSlowBit: number
  readonly fLap: number

  constructor(block: number) {
    super(block)
    this.fast = this.a.i32[(block >> 2) + H_FAST] === 1
    this.zslot = this.a.i32[(block >> 2) + H_FAST] === L.FAST_ZERO_SLOT
    this.lockFree = this.fast || this.zslot
    const c = this.fast ? this.capacity : 0
    const sab = this.a.sab
    // Views of the slots after the locked ring's OVERFLOW_SLOTS (layout.ts).
    const data = block + L.dataOffset(this.layoutSlots) + OVERFLOW_SLOTS * this.slotBytes
    this.fc = this.i32
    this.stamps = this.fast ? new Int32Array(sab, block + L.metaOffset() + OVERFLOW_SLOTS * 4, c) : new Int32Array(0)
    const wide = this.codec === CODEC_FLOAT64
    // Byte codecs use RingSlots' views of the whole data ring (writeFastBytes, readFastBytes).
    this.fd32 = this.fast && !wide && this.codec !== CODEC_BYTES ? new Int32Array(sab, data, c) : new Int32Array(0)
    this.fdu32 = this.fast && !wide && this.codec !== CODEC_BYTES ? new Uint32Array(sab, data, c) : new Uint32Array(0)
    this.fdf64 = this.fast && wide ? new Float64Array(sab, data, c) : new Float64Array(0)
    const cells = L.cellsFor(this.fast ? 1 : 0, this.codec, c)
    this.cells = cells > 0 ? new Float64Array(sab, block + L.cellsOffset(this.layoutSlots, this.slotBytes), cells) : new Float64Array(0)
    // The stamp index that starts a cache line (stamps are 4-byte words; the
    // shared buffer itself starts page-aligned).
    const stampsAt = block + L.metaOffset() + OVERFLOW_SLOTS * 4
    this.lineSkew = ((LINE_BYTES - (stampsAt % LINE_BYTES)) % LINE_BYTES) / 4
    const p = nextPow2(c)
    this.fIdx = p - 1
    this.fSlowBit = p
    this.fLap = 2 * p
  }

  /** The position after `pos` (wrapping to the next lap after index C - 1). */
  private nextPos(pos: number): number {
    const idx = pos & this.fIdx
    return idx + 1 < this.capacity ? (pos + 1) | 0 : ((pos & ~(this.fLap - 1)) + this.fLap) | 0
  }

  /**
   * Claims the next position for a push: its slot index (the caller writes
   * the value there, then calls `vpublish`), or -V_FULL (no free slot for
   * this lap: full, or its receiver is still copying out) or -V_SLOW (a
   * lock-free push found SLOW: take the lock). `locked`: the caller holds the
   * channel lock and may push while SLOW is set (the bit is kept).
   */
  private vclaim(locked: boolean): number {
    const f = this.fc
    const st = this.stamps
    const slow = this.fSlowBit
    for (;;) {
      const t = Atomics.load(f, F_TAIL)
      if (!locked && (t & slow) !== 0) return -V_SLOW
      const pos = t & ~slow
      const idx = pos & this.fIdx
      const s = Atomics.load(st, idx)
      if (s === pos) {
        // The CAS compares the whole word: it fails if SLOW was set since the load.
        if (Atomics.compareExchange(f, F_TAIL, t, this.nextPos(pos) | (t & slow)) === t) {
          this.pushedPos = pos
          return idx
        }
      } else if (((s + this.fLap) | 0) === ((pos + 1) | 0)) {
        return -V_FULL // still holds the previous lap's value
      }
      // Another sender took this position meanwhile: read the tail again.
    }
  }

  /** Publishes the value written at slot `idx` (claimed by the last vclaim): a Dekker store (fast-slots.ts "Ordering"). */
  private vpublish(idx: number): void {
    Atomics.store(this.stamps, idx, (this.pushedPos + 1) | 0)
  }

  /** Pushes `num` (numeric codecs): V_OK, V_FULL or V_SLOW, as `vclaim`. */
  vpush(num: number, locked: boolean): number {
    const idx = this.vclaim(locked)
    if (idx < 0) return -idx
    if (this.codec === CODEC_FLOAT64) this.fdf64[idx] = num
    else this.fd32[idx] = num
    this.vpublish(idx)
    return V_OK
  }

  /** Pushes an encoded value (byte codecs; `ool` its out-of-line block or 0; the first `n` bytes): V_OK, V_FULL or V_SLOW. */
  vpushBytes(bytes: Uint8Array, ool: number, flags: number, locked: boolean, n = bytes.length): number {
    const idx = this.vclaim(locked)
    if (idx < 0) return -idx
    this.writeFastBytes(OVERFLOW_SLOTS + idx, bytes, ool, flags, n)
    this.cells[idx] = Number.NaN
    this.vpublish(idx)
    return V_OK
  }

  /** Pushes the number `num` (not NaN) into a number cell (the structured codec; "Number cells" above): V_OK, V_FULL or V_SLOW, as `vclaim`. */
  vpushCell(num: number): number {
    const idx = this.vclaim(false)
    if (idx < 0) return -idx
    this.cells[idx] = num
    this.vpublish(idx)
    return V_OK
  }

  /** Under the lock: moves the queued offer in locked-ring slot `slot` (meta word `meta`) into the buffer. V_OK or V_FULL. */
  vpushOffer(slot: number, meta: number): number {
    const idx = this.vclaim(true)
    if (idx < 0) return -idx
    if (this.codec === CODEC_BYTES) {
      this.copyOfferToFast(slot, meta, OVERFLOW_SLOTS + idx)
      this.cells[idx] = Number.NaN
    } else if (this.codec === CODEC_FLOAT64) this.fdf64[idx] = this.slotNum(slot)
    else this.fd32[idx] = this.slotNum(slot)
    this.vpublish(idx)
    return V_OK
  }

  /**
   * Takes the oldest value into out* (`outNum`; byte codecs: readFastBytes,
   * inline bytes copied to the scratch buffer before the slot is freed).
   * False: the head slot holds no published value (empty, or its sender is
   * between its CAS and its stamp), or (lock-free, `locked` false) HOLD is
   * set: take the lock.
   */
  vpop(locked: boolean): boolean {
    const f = this.fc
    const st = this.stamps
    const hold = this.fSlowBit
    for (;;) {
      const w = Atomics.load(f, F_HEAD)
      if (!locked && (w & hold) !== 0) return false
      const h = w & ~hold
      const idx = h & this.fIdx
      const s = Atomics.load(st, idx)
      if (s === ((h + 1) | 0)) {
        // Compares the whole word: fails if HOLD was set since the load.
        const nh = this.nextPos(h)
        if (Atomics.compareExchange(f, F_HEAD, w, nh | (w & hold)) === w) {
          if (this.lineHints) {
            const ni = nh & this.fIdx
            this.headAtLineStart = ni === 0 || this.lineOffset(ni) === 0
          }
          if (this.codec === CODEC_FLOAT64) this.outNum = this.fdf64[idx]!
          else if (this.codec === CODEC_UINT32) this.outNum = this.fdu32[idx]!
          else if (this.codec === CODEC_BYTES) {
            const cell = this.cells[idx]!
            if (!Number.isNaN(cell)) this.takeCell(cell)
            else this.readFastBytes(OVERFLOW_SLOTS + idx)
          } else this.outNum = this.fd32[idx]!
          Atomics.store(st, idx, (h + this.fLap) | 0) // free for the next lap (a Dekker store)
          return true
        }
      } else if (s === h) {
        return false
      }
      // Another receiver took it meanwhile: read the head again.
    }
  }

  /**
   * A racy hint (spinning): the head slot holds a published value, so a
   * lock-free receive would take one now. Reads the head and that one stamp,
   * never the tail: a receiver that polls the senders' tail line (as
   * `fastCount` does) takes it from the sender about to CAS it, which then
   * misses on every push while the consumer keeps up.
   */
  headReady(): boolean {
    const h = Atomics.load(this.fc, F_HEAD) & ~this.fSlowBit
    return Atomics.load(this.stamps, h & this.fIdx) === ((h + 1) | 0)
  }

  /**
   * A racy hint for a receiver spinning on an empty buffer while a sender
   * streams into it: the first slot of the *next* cache line of stamps (after
   * the head's; past the last slot, the next lap's first) holds a published
   * value, so the sender has moved past the head's line. Why not poll the
   * head's own stamp: while the receiver keeps up, it would read (and then
   * take) each value the moment it is published,
   * pulling the stamp and data lines the sender is still writing back to its
   * own core, so every push misses twice (measured on the 2-core VM, int32
   * `sendSync` against a main thread `receiveMany(64)`: ~330 ns a value in
   * that mode, ~130 ns when the receiver trails by a line). False when the
   * buffer is shorter than four lines of stamps (the caller polls the head).
   */
  nextLineReady(): boolean {
    if (!this.lineHints) return false
    const c = this.capacity
    const h = Atomics.load(this.fc, F_HEAD) & ~this.fSlowBit
    const hi = h & this.fIdx
    let idx = hi + STAMPS_PER_LINE - this.lineOffset(hi)
    let pos = (h + idx - hi) | 0
    if (idx >= c) {
      // Past the last slot: the next lap's first slot, at the start of the array (another line).
      idx = 0
      pos = ((h & ~(this.fLap - 1)) + this.fLap) | 0
    }
    return Atomics.load(this.stamps, idx) === ((pos + 1) | 0)
  }

  /**
   * True if the buffer is long enough for the line hints (`nextLineReady`,
   * `headAtLineStart`): four lines of stamps or more. A spinning receiver of a
   * shorter buffer polls the head's own stamp (`headReady`).
   */
  get lineHints(): boolean {
    return this.capacity >= 4 * STAMPS_PER_LINE
  }

  /** Where stamp `idx` sits in its cache line: 0 for the line's first stamp, up to STAMPS_PER_LINE - 1. */
  private lineOffset(idx: number): number {
    return (idx - this.lineSkew) & (STAMPS_PER_LINE - 1)
  }

  /**
   * This thread's last lock-free take left the head at the first slot of a
   * stamp line (buffers of four lines or more; ring.ts `trailSender`).
   */
  headAtLineStart = false

  /** A racy hint (spinning): the tail slot is free for its sender; reads the tail and one stamp, never the head. */
  tailFree(): boolean {
    const t = Atomics.load(this.fc, F_TAIL) & ~this.fSlowBit
    return Atomics.load(this.stamps, t & this.fIdx) === t
  }

  /**
   * A racy hint for a sender spinning on a full buffer: the slot `room - 1`
   * positions past the tail is free, so about `room` sends would find room
   * (`room` <= capacity). Why not resume at the first free slot: a producer
   * that outruns its consumer then claims each slot the moment the consumer
   * frees it, and both write the same stamp and data lines for every value (a
   * line transfer each way per value; measured on the 2-core VM, int32
   * `sendSync` against a main thread `for await`: the stamp store alone took
   * ~120 ns a value). Waiting for room lets the consumer drain ahead on lines
   * the producer no longer touches, and the producer then fills them in a
   * burst. How much room: see `farRoom` and `nearRoom`.
   */
  roomAhead(room: number): boolean {
    const t = Atomics.load(this.fc, F_TAIL) & ~this.fSlowBit
    let idx = (t & this.fIdx) + room - 1
    let pos = (t + room - 1) | 0
    if (idx >= this.capacity) {
      idx -= this.capacity
      pos = ((t & ~(this.fLap - 1)) + this.fLap + idx) | 0
    }
    return Atomics.load(this.stamps, idx) === pos
  }

  /**
   * The room a spinning sender waits for in the first half of its spin: a
   * quarter of the buffer. Why more than a line: with a line (16 slots) the
   * producer refilled the line the consumer had just left, next to the one
   * it was reading, one line at a time; the consumer's takes then cost about
   * twice what they cost with the producer a quarter of the buffer behind it
   * (measured on the 2-core VM, int32 `sendSync` against a main thread `for
   * await`, capacity 1024, three runs each: 237-243 ns a value with a line,
   * 162-165 with 64 slots, 134-136 with 256). Only while the consumer frees
   * that much within the first half of the spin; a slower one is met with
   * `nearRoom` in the second half, so the spin still ends while there is
   * room (it only resumes the sender later than it could have, while the
   * buffer is full of values for the consumer anyway).
   */
  get farRoom(): number {
    return Math.max(1, this.capacity >> 2)
  }

  /** The room a spinning sender waits for in the second half of its spin: a cache line of stamps, at most a quarter of the buffer. */
  get nearRoom(): number {
    return Math.max(1, Math.min(16, this.capacity >> 2))
  }

  /**
   * How many spin steps a sender waiting for `room` (`roomAhead`) lets pass
   * between two reads: half the room (8 steps, ~0.8 µs, for a line of 16
   * stamps; 1 for buffers under 8), at most 128. Why: the stamp it polls is
   * in the line the consumer is freeing, one stamp store per value; a read
   * between two of those stores pulls the line to the sender's core, and the
   * consumer's next store misses. Polling every spin step (~0.1 µs) against a
   * consumer that frees a slot every ~0.3 µs made nearly every one of its
   * stamp stores a miss (CPU profile of int32 `sendSync` against a main
   * thread `for await`: the consumer's `vpop` ~20% of its time). The room
   * comes at the consumer's pace anyway, so a read every room/2 steps costs
   * the sender at most about that much. Measured (ab.ts, 7 and 9 rounds
   * interleaved, 2-core VM, waiting for a line): int32 `for await` 0.87x /
   * 0.83x the time, fan-in 0.92x / 0.94x, `receiveMany(64)` 0.89x / 0.96x
   * (ranges overlap: a pair of threads on this VM moves ~12% between runs;
   * capacity 1, whose code is the same in both checkouts, came out 1.12x in
   * the second run).
   */
  roomPollSteps(room: number): number {
    return Math.max(1, Math.min(128, room >> 1))
  }

  /** Values in the buffer (claimed positions included); exact when no operation is in flight (F3). */
  fastCount(): number {
    const f = this.fc
    const slow = this.fSlowBit
    for (;;) {
      const t = Atomics.load(f, F_TAIL) & ~slow
      const h = Atomics.load(f, F_HEAD) & ~slow
      if ((Atomics.load(f, F_TAIL) & ~slow) !== t) continue
      this.cachedHead = h
      return this.distance(t, h)
    }
  }

  private distance(t: number, h: number): number {
    const hi = h & this.fIdx
    const ti = t & this.fIdx
    if (hi < ti) return ti - hi
    if (hi > ti) return this.capacity - hi + ti
    return t === h ? 0 : this.capacity
  }

  /** True if no position is claimed beyond the head (nothing published nor being written). */
  fastEmptyExactly(): boolean {
    return (Atomics.load(this.fc, F_TAIL) & ~this.fSlowBit) === (Atomics.load(this.fc, F_HEAD) & ~this.fSlowBit)
  }

  /** This thread holds the lock and set HOLD (holdLocked); unlock clears both. */
  protected holding = false

  /**
   * Under the lock: no lock-free operation of either side completes until
   * unlock (SLOW on the tail, HOLD on the head; operations that claimed a
   * position before are linearized at that claim). For a multi-channel
   * select's poll (select.ts pollLocked), which must see its channels at one
   * instant, as under Go's lockorder: lock-free operations would otherwise
   * change them between its checks.
   */
  holdLocked(): void {
    if (!this.fast && !this.zslot) return
    this.holding = true
    Atomics.or(this.fc, F_TAIL, this.fSlowBit)
    Atomics.or(this.fc, F_HEAD, this.fSlowBit)
  }

  /** Under the lock, before unlocking: HOLD cleared (SLOW is recomputed by the unlock). */
  protected releaseHold(): void {
    this.holding = false
    Atomics.and(this.fc, F_HEAD, ~this.fSlowBit)
  }

  /**
   * True if SLOW is set, as lock-free receivers read it: H_FSLOW, a copy on a
   * line only lock holders write (the tail's line changes with every send).
   * H_FSLOW = 1 implies the tail's bit (it is set first and cleared last);
   * the tail's bit may be set alone only while a select holds (holdLocked).
   */
  slowSet(): boolean {
    return Atomics.load(this.fc, H_FSLOW) !== 0
  }

  /** The tail's SLOW bit itself (checks). */
  tailSlowSet(): boolean {
    return (Atomics.load(this.fc, F_TAIL) & this.fSlowBit) !== 0
  }

  /**
   * Under the lock: sets SLOW. The store to H_FSLOW is the sender's half of
   * the second Dekker pair (a receiver stores its stamp, then reads
   * H_FSLOW); the tail's bit, set next, is what makes lock-free sends' CAS fail.
   */
  setSlow(): void {
    if (Atomics.load(this.fc, H_FSLOW) !== 0) return // the tail's bit is set too
    Atomics.store(this.fc, H_FSLOW, 1)
    Atomics.or(this.fc, F_TAIL, this.fSlowBit)
  }

  /** Under the lock: SLOW := want (F1). `held`: this critical section set HOLD (the tail's bit may be set alone). */
  syncSlow(want: boolean, held: boolean): void {
    const m = Atomics.load(this.fc, H_FSLOW) !== 0
    if (want) {
      if (!m) this.setSlow()
    } else if (m || held) {
      Atomics.and(this.fc, F_TAIL, ~this.fSlowBit)
      if (m) Atomics.store(this.fc, H_FSLOW, 0)
    }
  }

  /** The position the last successful vpush of this thread claimed. */
  pushedPos = 0
  /** This thread's last read of F_HEAD: a bound for peakBufferUsed without reading the receivers' line. */
  cachedHead = 0

  /**
   * An upper bound of the values buffered once this thread's push at
   * `pushedPos` is published, from `cachedHead` (the head only grows, so a
   * stale head only overestimates); -1 if `cachedHead` is more than a lap
   * behind (unknown).
   */
  pushedBound(): number {
    const pos = this.pushedPos
    const h = this.cachedHead
    const lapMask = ~(this.fLap - 1)
    const laps = ((pos & lapMask) - (h & lapMask)) | 0
    const d = (pos & this.fIdx) - (h & this.fIdx) + 1
    if (laps === 0 && d >= 1) return d
    if (laps === this.fLap) return this.capacity + d
    return -1
  }
}
