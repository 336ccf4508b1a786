/**
 * The lock-free slot of a size-0 shared channel (issue 14): one cache line
 * that holds one value and its stamp, so that a rendezvous between two running
 * threads costs what a bare hand-off costs: the line goes to the receiver with
 * the value, and comes back with the receiver's stamp store, which is what the
 * sender waits for. (Measured on the 2-core VM without the library, both
 * threads in `await` loops: 415-420 ns a value with stamp and value on one
 * line and the sender waiting on the stamp, as the bare one-word hand-off;
 * 750-790 ns with the stamp and the value on two lines, or with the sender
 * waiting on the head: every extra line that changes hands per value costs a
 * transfer. The locked size-0 ring moves about ten.)
 *
 * Who uses it. A plain async `send` (SharedSendChannel.send) of a value that
 * fits the line (a number, or an inline byte value of at most
 * ZERO_SLOT_BYTES without endpoints), when no send of its thread waits,
 * spinning is allowed (spin.ts) and a receive handle is held in another
 * thread: it claims the slot, publishes the value, and spins until a receiver
 * takes it (its send is then complete) or its spin budget runs out. Then it
 * *withdraws* the value (below) and sends through the locked ring as before
 * (an offer, registered, parked). Every receive (async, sync, Nowait, batch,
 * a select's case) takes from the slot first, without the lock when it can.
 * Everything else (sendNowait, sendSync, select's sends, values with
 * endpoints or longer ones, a thread whose earlier send waits) uses the
 * locked ring, unchanged (ring.ts "Rendezvous").
 *
 * The line (Int32 words from `zeroSlotWord(block)`, layout.ts, 64-byte aligned):
 *
 * | word  | written by                          | meaning                                               |
 * |-------|-------------------------------------|-------------------------------------------------------|
 * | +0    | the claimer, then the taker         | the stamp (below)                                     |
 * | +1    | the claimer (between claim, publish)| int32 / uint32: the number; byte codecs: the length   |
 * | +2..3 | the claimer                         | float64: the number                                   |
 * | +2..15| the claimer                         | byte codecs: the value's bytes (ZERO_SLOT_BYTES = 56) |
 * | +2..3 | the claimer                         | byte codecs, length Z_NUMBER: a number (below)        |
 *
 * A number sent on the structured codec (no user codec) goes as its Float64
 * in words 2..3 with the length word Z_NUMBER, not as the codec's bytes (as
 * the fast buffer's number cells, fast-slots.ts "Number cells"): the sender
 * skips the encode and the byte copy, which are on the hand-off's critical
 * path (the receiver waits for them), and the taker takes it as a number
 * cell's number (ring-slots.ts `takeCell`). It is written and read where
 * the bytes are, between the claim and the publish and between the take's
 * CAS and its freeing store: no new ordering.
 *
 * The positions are the fast buffer's with capacity 1 (fast-slots.ts): H_FTAIL
 * (senders, CAS; bit 1 = SLOW, set under the lock) and H_FHEAD (takers, CAS;
 * bit 1 = HOLD, a select's poll), one lap = 2, so a position is even. The
 * stamp is `pos` when the slot is free for the claimer of `pos`, `pos + 1`
 * once that claimer published its value, and the taker stores `pos + 2`
 * (free for the next). Withdrawing is a take by the value's own sender: the
 * same CAS of the head from `pos`, so exactly one of the sender and the
 * receivers wins it: withdrawn (the send goes on through the lock, or is
 * Broken) or delivered.
 *
 * Invariants (ring-check.ts checks Z1 and Z3 under the lock):
 *  - Z1 tail = head or tail = head + 2 (positions without their bits): at
 *       most one value is claimed or in the slot.
 *  - Z2 A value is published only by a sender that then spins in its own
 *       thread until it sees its stamp change (taken) or withdraws, or dies
 *       (its value stays and is taken as a dead sender's offer would be; a
 *       value in the slot holds no resource: no out-of-line block, no
 *       endpoints, so one left behind when every receiver closed is nothing to
 *       free).
 *  - Z3 SLOW (F1 for this slot, `Ring.unlock`): set while an entry is queued
 *       in the locked ring (H_COUNT > 0) or no receive handle is open. So a
 *       value in the slot is older than every entry queued in the ring, and
 *       takers take the slot first (FIFO among senders); a sender that finds
 *       SLOW, or the slot full, sends through the lock.
 *  - Z4 Promised values first: a receiver registered while HANDOFFS > 0 takes
 *       the promised head entry (ring.ts R2/R3), never the slot.
 *
 * Ordering (every access here is an Atomics operation, sequentially
 * consistent):
 *  - The claimer writes the value, then stores the stamp `pos + 1`; a taker
 *    loads the stamp, CASes the head, reads the value, then stores
 *    `pos + 2`. The claimer writes nothing of the line until it claims the
 *    next position, which needs the stamp `pos + 2` (and the tail, which
 *    only claimers move): the taker has read the value by then.
 *  - The first Dekker pair of fast channels, as is: the claimer stores its
 *    stamp, then reads H_RECV_WAITING and H_ARMED (and bumps under the lock
 *    if a receiver armed); a receiver registers (Atomics.add) and arms
 *    (readSeq), then looks at the slot (`zReady`) before it sleeps. One of
 *    them sees the other.
 *  - The sender's spin reads the stamp: any value but `pos + 1` means a taker
 *    won the head's CAS (only the sender itself could withdraw, and it is
 *    here). Every eighth read it also reads H_RECV_OPEN: once no receive
 *    handle is open it withdraws (BrokenResourceError if the withdrawal wins;
 *    a taker that won before the last close took it: delivered).
 *  - No wake-up is owed by a take: a sender in the slot is never registered
 *    nor asleep.
 * The termination gate (lock.ts) brackets the claim to the publish (and its
 * wake-up), a take's CAS to its stamp store, and a withdrawal, so a
 * terminated thread never leaves the slot claimed but unpublished, nor taken
 * but not freed.
 */
import { FastSlots } from './fast-slots.ts'
import * as L from './layout.ts'
import * as __spin from './spin.ts'
// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const { CODEC_BYTES, CODEC_FLOAT64, CODEC_UINT32, H_FHEAD, H_FTAIL, H_RECV_OPEN, ZERO_SLOT_WORDS } = L
const { spinPause } = __spin

/** Bytes of a byte value the slot holds (words 2..15 of its line). */
export const ZERO_SLOT_BYTES = (ZERO_SLOT_WORDS - 2) * 4

/** Byte codecs: the length word of a number held as a Float64 in words 2..3 (the table above). */
const Z_NUMBER = -1

/** Results of a send through the slot (ring.ts `sendZero`; `zWithdrawOwn` answers the first two). */
export const Z_WITHDRAWN = 0
export const Z_TAKEN = 1
export const Z_BROKEN = 2
/** Not sent: the slot was not free (or not to be used now); the send goes through the lock as before. */
export const Z_NOT_SENT = 3

const LAP = 2
const BIT = 1

/** The views of the size-0 lock-free slot (empty on a channel without one). */
export class ZeroSlot extends FastSlots {
  /** The slot's line: [stamp, number or length, bytes...]. */
  private readonly z: Int32Array
  private readonly zu32: Uint32Array
  private readonly zf64: Float64Array
  private readonly zu8: Uint8Array
  /** The position this thread's last claim took (its value's, until taken or withdrawn). */
  private zPos = 0

  constructor(block: number) {
    super(block)
    const sab = this.a.sab
    const at = block + 4 * L.zeroSlotWord(block)
    const n = this.zslot ? ZERO_SLOT_WORDS : 0
    this.z = new Int32Array(sab, at, n)
    this.zu32 = new Uint32Array(sab, at, n)
    this.zf64 = this.zslot ? new Float64Array(sab, at + 8, 1) : new Float64Array(0)
    this.zu8 = this.zslot ? new Uint8Array(sab, at + 8, ZERO_SLOT_BYTES) : new Uint8Array(0)
  }

  /**
   * Claims the slot for a value: true if claimed (the caller writes the value
   * and calls `zPublish` inside the termination gate), false if SLOW is set,
   * the slot is full or being freed, or another sender claimed it first (the
   * caller sends through the lock).
   */
  private zClaim(): boolean {
    const f = this.fc
    const t = Atomics.load(f, H_FTAIL)
    if ((t & BIT) !== 0 || Atomics.load(this.z, 0) !== t) return false
    // Compares the whole word: fails if SLOW was set since the load.
    if (Atomics.compareExchange(f, H_FTAIL, t, (t + LAP) | 0) !== t) return false
    this.zPos = t
    return true
  }

  /**
   * Claims the slot and writes `num` or `bytes[0..n)` (n <= ZERO_SLOT_BYTES)
   * there, unpublished. `bytes` undefined on a byte codec: `num` is a number
   * sent on the structured codec, held as a Float64 (Z_NUMBER).
   */
  protected zClaimWrite(num: number, bytes: Uint8Array | undefined, n: number): boolean {
    if (!this.zClaim()) return false
    if (bytes !== undefined) {
      this.z[1] = n
      const d = this.zu8
      for (let k = 0; k < n; k++) d[k] = bytes[k]!
    } else if (this.codec === CODEC_BYTES) {
      this.z[1] = Z_NUMBER
      this.zf64[0] = num
    } else if (this.codec === CODEC_FLOAT64) this.zf64[0] = num
    else this.z[1] = num
    return true
  }

  /** Publishes the claimed value: the claimer's half of the first Dekker pair (a store, then the caller reads the waiters). */
  protected zPublish(): void {
    Atomics.store(this.z, 0, (this.zPos + 1) | 0)
  }

  /**
   * The sender of the published value spins up to `n` reads (spin.ts pauses
   * between them) for its take. True: taken (the send is complete). False:
   * not yet, or no receive handle is open any more (a racy read of
   * H_RECV_OPEN, every eighth; `zWithdrawOwn` decides).
   */
  zSpinTaken(n: number): boolean {
    const mine = (this.zPos + 1) | 0
    for (let k = 0; k < n; k++) {
      spinPause()
      if (Atomics.load(this.z, 0) !== mine) return true
      if ((k & 7) === 7 && Atomics.load(this.fc, H_RECV_OPEN) === 0) return false
    }
    return false
  }

  /**
   * Inside the termination gate: takes this thread's published value back
   * (the head's CAS from its position, racing the takers'). Z_WITHDRAWN (the
   * caller sends it through the lock), or Z_TAKEN (a taker won: the send is
   * complete). Waits while a select holds the head (HOLD: its poll must see
   * the channel unchanged).
   */
  protected zWithdrawOwn(): number {
    const f = this.fc
    const pos = this.zPos
    for (;;) {
      const w = Atomics.load(f, H_FHEAD)
      if ((w & ~BIT) !== pos) return Z_TAKEN // the head moved past it: a taker won
      if ((w & BIT) !== 0) {
        spinPause() // HOLD: a select's poll, a few instructions under its lock
        continue
      }
      if (Atomics.compareExchange(f, H_FHEAD, pos, (pos + LAP) | 0) === pos) {
        Atomics.store(this.z, 0, (pos + LAP) | 0) // free for the next claimer
        return Z_WITHDRAWN
      }
    }
  }

  /**
   * Inside the termination gate: takes the slot's value into out* (numbers:
   * `outNum`; bytes: copied to the scratch buffer, OUT_SCRATCH). False if no
   * value is published there, or (`locked` false) a select holds the head.
   */
  protected zTakeInGate(locked: boolean): boolean {
    const f = this.fc
    for (;;) {
      const w = Atomics.load(f, H_FHEAD)
      if (!locked && (w & BIT) !== 0) return false
      const h = w & ~BIT
      if (Atomics.load(this.z, 0) !== ((h + 1) | 0)) return false
      // Compares the whole word: fails if HOLD was set, or the sender withdrew, since the load.
      if (Atomics.compareExchange(f, H_FHEAD, w, (h + LAP) | 0 | (w & BIT)) === w) {
        if (this.codec === CODEC_BYTES) {
          const len = this.z[1]!
          if (len === Z_NUMBER) this.takeCell(this.zf64[0]!)
          else this.takeInlineWords(this.z, 2, len)
        } else if (this.codec === CODEC_FLOAT64) this.outNum = this.zf64[0]!
        else if (this.codec === CODEC_UINT32) this.outNum = this.zu32[1]!
        else this.outNum = this.z[1]!
        Atomics.store(this.z, 0, (h + LAP) | 0) // free for the next claimer
        return true
      }
    }
  }

  /** A racy hint, and the receivers' Dekker look (readSeq): a published value is in the slot. */
  zReady(): boolean {
    if (!this.zslot) return false
    const h = Atomics.load(this.fc, H_FHEAD) & ~BIT
    return Atomics.load(this.z, 0) === ((h + 1) | 0)
  }

  /** Z1, for ring-check.ts: undefined if it holds. */
  zCheck(): string | undefined {
    if (!this.zslot) return undefined
    const h = Atomics.load(this.fc, H_FHEAD) & ~BIT
    const t = Atomics.load(this.fc, H_FTAIL) & ~BIT
    const d = (t - h) | 0
    if (d !== 0 && d !== LAP) return `Z1: the size-0 slot's tail ${t} is neither its head ${h} nor one past it`
    return undefined
  }
}
