/**
 * The ring protocol of a shared channel: every state change of a channel, made
 * inside the channel's lock (lock.ts; Go's hchan.lock), on the header laid out
 * in layout.ts. This file knows nothing of tasks or promises: it moves entries
 * and keeps counts; waiting.ts parks tasks, the endpoint classes (send-channel.ts,
 * receive-channel.ts) are the public face.
 *
 * Invariants (all under the lock; `checkInvariants`, ring-check.ts `checkRing`, checks them in tests):
 *  - R1 0 <= LIVE <= COUNT <= SLOTS = CAPACITY + OVERFLOW_SLOTS (RENDEZVOUS_SLOTS for size 0;
 *       OVERFLOW_RING_SLOTS for a channel with overflow chunks, overflow.ts; OVERFLOW_SLOTS
 *       for a fast channel, whose locked ring holds only offers: see "Fast channels").
 *  - R2 HANDOFFS <= RECV_WAITING - (select receive watchers, H_SELECTS), and
 *       HANDOFFS = 0 when CAPACITY > 0.
 *  - R3 (size 0) the first HANDOFFS live entries from the head are ENTRY_VALUE
 *       (promised to waiting receivers); later ones are ENTRY_OFFERs, or values
 *       whose waiting receiver's thread died (forgetWaitersLocked).
 *  - R4 RECV_OPEN = 0 implies COUNT = 0 (the last receiver dropped the buffer).
 *  - R5 a registered waiter is counted in SEND_/RECV_WAITING and in its thread's
 *       owner entry until it completes or withdraws, both under the lock.
 *  - R6 BYTES_USED is the sum of out-of-line lengths of the entries in the ring
 *       and in the overflow of an unbounded channel (overflow.ts, O1-O4).
 *
 * Fast channels (H_FAST; capacity 1..MAX_RING_CAPACITY, every codec):
 * the buffer is the lock-free ring of fast-slots.ts (its invariants F1-F3 and
 * its two Dekker pairs are argued there), and this file's ring is the queue
 * of the offers of senders that found it full. R1-R6 speak of that queue
 * (LIVE/COUNT count offers; R4 also holds for the lock-free buffer, F2). An
 * offer's send is complete once `serviceLocked` moved it into the buffer
 * (its ticket passed: HEAD_SEQ counts moves and takes of offers), which any
 * operation under the lock does first and a lock-free receive does when it
 * sees SLOW; a receive under the lock that finds the buffer empty takes the
 * oldest offer itself. So values stay FIFO and a waiting sender owns the next
 * free slot. `trySendFast`/`tryReceiveFast` are the lock-free operations;
 * `sendFastLocked`/`receiveFastLocked` the locked ones, which use the same
 * CAS steps (lock-free operations run meanwhile). Ring.unlock recomputes SLOW
 * (F1) and clears a select's HOLD (`holdLocked`).
 *
 * Rendezvous (size 0), Go's direct handoff made cross-thread:
 *  - A receiver that finds no value registers as waiting (RECV_WAITING++).
 *  - A sender that finds an unpromised waiting receiver (RECV_WAITING >
 *    HANDOFFS) and no offer ahead of it (LIVE = HANDOFFS) pushes an
 *    ENTRY_VALUE and HANDOFFS++: the value now belongs to
 *    the waiting receivers collectively, and the send is complete (this is what
 *    `sendNowait` on size 0 needs). Otherwise `send` pushes an ENTRY_OFFER and
 *    waits until HEAD_SEQ passes its ticket (a receiver took it).
 *  - Only registered receivers take while HANDOFFS > 0 (a newcomer queues
 *    behind them, as in Trio); a registered receiver that takes decrements
 *    RECV_WAITING and, if it took a promised value, HANDOFFS.
 *  - A waiting receiver withdraws (cancel, close) only if RECV_WAITING - 1 >=
 *    HANDOFFS (it is not needed for a promise); otherwise it is too late: it
 *    takes the head value and completes with it. So a promised value is always
 *    received, and a cancelled receive took nothing.
 *  - A waiting sender withdraws its ENTRY_OFFER (making it a tombstone that
 *    receivers skip) only if HEAD_SEQ has not passed its ticket; otherwise it is
 *    too late and the send completed. So a cancelled send delivered nothing.
 *  - Before all this, an async send with a receiver in another thread tries
 *    the lock-free slot (zero-slot.ts; H_FAST = FAST_ZERO_SLOT): its value is
 *    older than every entry here (Z3), so every receive takes it first, except
 *    a registered receiver while HANDOFFS > 0 (Z4). Ring.unlock recomputes the
 *    slot's SLOW; readSeq, selectRegisterLocked and the withdrawals look at it.
 *
 * Wake-ups: waiters sleep on H_SEQ_SEND / H_SEQ_RECV with the value they read
 * under the lock when they registered or last failed (`readSeq`). Every change
 * that may let the other side proceed bumps the word under the lock, and the
 * changer notifies after unlocking (still inside its critical section, so a
 * terminated thread cannot drop the notify) if someone is registered. A waiter
 * that read the word before the bump sees a different value in
 * `Atomics.wait(Async)` and returns at once, so no wake-up is lost (the
 * crossbeam "has it become ready just now?" check is the lock itself).
 *
 * A bump is needed only if some waiter has read the word since the last bump:
 * every other waiter holds an older value, so it is woken by that bump's notify
 * or returns at once from its wait. `readSeq` sets the side's bit in H_ARMED,
 * a bump clears it, and a change with the bit clear skips the bump and the
 * notify. So a side that stays registered while the other side streams values
 * (a sender waiting for room while the consumer drains) costs one bump and one
 * notify per wait, not one per value (Go dequeues the parked goroutine it
 * readies, for the same effect).
 *
 * Select (select/shared.ts). A `select` waiting on this channel registers one
 * *watcher* per case: counted in SEND_/RECV_WAITING (so every change that may
 * let that side proceed bumps and notifies, and statistics count it) and in
 * H_SELECTS. A watcher never completes by another thread's hand: its own
 * thread retries the case under the lock with the unregistered, non-waiting
 * attempts (`sendLocked`/`receiveLocked` with registered = nowait = false /
 * true) and commits the select there, so exactly one case commits and a
 * withdrawn watcher took and delivered nothing. Hence, on size 0:
 *  - a sender hands a value over (HANDOFFS++) only to *plain* waiting
 *    receivers: R2 reads HANDOFFS <= RECV_WAITING - select receivers, and a
 *    plain receiver's withdrawal counts only plain receivers (a watcher can
 *    neither be promised a value nor take a promised one: it takes only when
 *    HANDOFFS = 0, like any unregistered receiver);
 *  - a select's send case completes only by handing its value to a plain
 *    waiting receiver (sendNowait's rule), so a plain receiver that registers
 *    bumps SEQ_SEND when select senders watch;
 *  - a select's receive case takes a waiting sender's offer (an offer's push
 *    bumps SEQ_RECV, which watchers count in).
 * So that two selects can meet on a size-0 channel, a select may also post
 * one withdrawable offer there (`selectOfferLocked`): an ENTRY_OFFER like a
 * waiting plain sender's, taken by any receiver; the select withdraws it
 * (`offerLocked`) before it commits anything else (select/shared.ts "Offers").
 *
 * The unregistered offer (spinning senders, spin.ts). An async `send` whose
 * value goes into the ring as an ENTRY_OFFER (size 0, or a full buffer) or as
 * a size-0 value HANDED to a waiting receiver, while a receive handle is held
 * in another thread, first spins instead of registering: `sendLocked(...,
 * spinFirst)` pushes the entry but does not count the sender in SEND_WAITING,
 * and it reads HEAD_SEQ (and RECV_OPEN) without the lock (`spinOffer`).
 *  - The entry itself is an ordinary one: R1-R6 speak of entries and of
 *    registered waiters, and an unregistered sender is neither counted nor
 *    asleep, so nothing else changes. Receivers take it as any offer;
 *    `advanceHead`'s bumpSend finds no registered sender (or one not armed)
 *    and skips the notify, which is the point.
 *  - Done without the lock: HEAD_SEQ only grows (a take or a skipped
 *    tombstone; only this sender could tombstone its entry, and it does not
 *    while spinning; the last receiver's close drops entries without moving
 *    HEAD_SEQ). So once a racy read shows HEAD_SEQ past the ticket (size 0:
 *    taken) or within `capacity` of it (inside the buffer), that is final and
 *    the send is complete, as `offerLocked` would say. The sender reads nothing
 *    of the entry afterwards, so no ordering beyond that read is needed; its
 *    next operation takes the lock, which orders it after the take.
 *  - Otherwise (the spin ran out, or RECV_OPEN read 0): `offerLocked(...,
 *    registered = false)` decides under the lock: DONE (taken meanwhile) or
 *    BROKEN without touching the counts, or it registers the sender and reads
 *    the futex word (arming it) in the same critical section: from there on
 *    it is a registered offer, withdrawable (cancel, close), woken by the take
 *    that passes its ticket. A take between the spin's last read and that
 *    critical section is seen there (DONE), so no wake-up can be missed.
 *  - Cancellation cannot interleave: the spin is synchronous in the sender's
 *    thread, and the handle cannot close meanwhile (only that thread uses it).
 *  - A thread that dies while spinning leaves an entry with no waiter: it is
 *    delivered as any offer of a dead sender (README, "A dead thread's handles").
 */
import * as __lock from './lock.ts'
import * as __overflow from './overflow.ts'
import { ownerAdd, ownerGet, ownerTake } from './owners.ts'
import { checkRing } from './ring-check.ts'
import { V_OK } from './fast-slots.ts'
import * as __zeroSlot from './zero-slot.ts'
import * as __ringSlots from './ring-slots.ts'
import * as __arena from './arena.ts'
import * as __spin from './spin.ts'
import { threadId } from 'node:worker_threads'
import type { Outgoing } from './waiting.ts'
import * as L from './layout.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { lock, unlock, criticalEnter, criticalLeave } = __lock
const { overflowDrop, overflowPush, overflowReserve, overflowShift } = __overflow
const { SpinBudget, spinAllowed, spinPause, spinPauseLocked, LOCKED_SLOWER } = __spin
const { free } = __arena
const { OUT_OOL } = __ringSlots
const { ZeroSlot, Z_TAKEN, Z_BROKEN, Z_WITHDRAWN, Z_NOT_SENT } = __zeroSlot
/** trailSender: reads of the next line's stamp before taking anyway (~10 µs with spinPause), and line starts it then stays off. */
const TRAIL_POLLS = 96
const TRAIL_OFF = 64

// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const {
  CODEC_BYTES,
  ENTRY_OWNER_SHIFT,
  ENTRY_WAITER,
  ENTRY_KIND_MASK,
  ENTRY_OFFER,
  ENTRY_TOMBSTONE,
  ENTRY_VALUE,
  H_BYTES_USED,
  H_COUNT,
  H_HANDOFFS,
  H_HEAD_IDX,
  H_HEAD_SEQ,
  H_LIVE,
  H_LOCK,
  H_PEAK,
  H_RECV_OPEN,
  H_RECV_WAITING,
  H_SEND_OPEN,
  H_SEND_WAITING,
  H_SEQ_RECV,
  H_SEQ_SEND,
  O_RECV_HANDLES,
  O_RECV_WAITING,
  O_SEND_HANDLES,
  O_SEND_WAITING,
  O_SELECTS,
  H_ARMED,
  ARMED_SEND,
  ARMED_RECV,
  H_OV_COUNT,
  H_SELECTS,
  SELECT_RECV_ONE,
  SELECT_SEND_ONE,
  SELECT_FIELD_MASK,
} = L

export const DONE = 0
export const OFFERED = 1
export const WAIT = 2
export const BROKEN = 3
export const WOULD_BLOCK = 4
export const END = 5
/** Size 0: handed to a waiting receiver (delivered; `ticket` says when it is taken). */
export const HANDED = 6

/** spinOffer results. */
export const SPIN_TIMEOUT = 0
export const SPIN_TAKEN = 1
export const SPIN_BROKEN = 2

export const SIDE_SEND = 0
export const SIDE_RECV = 1

/**
 * The meta bits that mark an offer as registered thread `tid`'s (ENTRY_WAITER,
 * tid + 1 from ENTRY_OWNER_SHIFT up, kept below the sign bit), or 0 for a
 * thread past that (2^23 - 1 workers started in one process): its offers are
 * not marked, and it unregisters itself when it finds its offer taken, as on
 * the locked ring.
 */
function waiterMark(tid: number): number {
  return tid + 1 < 1 << (31 - ENTRY_OWNER_SHIFT) ? ENTRY_WAITER | ((tid + 1) << ENTRY_OWNER_SHIFT) : 0
}

/** One thread's access object to one channel, shared by every handle of it in this thread. */
export class Ring extends ZeroSlot {
  /** Output of a WAIT result: the futex value read under the lock. */
  seen = 0
  /** Output of an OFFERED result: the offer's ticket. */
  ticket = 0
  /** Set by a receive/close that changed state the other side waits on: notify after unlock. */
  private notifySend = false
  private notifyRecv = false
  /** Set by offerCompleted: notify SEQ_SEND after unlock even if no sender is registered any more. */
  private wakeSend = false
  /** Set when a send in this critical section waits for byte budget, not room (readSeq's re-check does not apply). */
  private budgetBlocked = false

  lock(): void {
    lock(this.i32, this.h + H_LOCK)
  }

  /**
   * Unlocks, then notifies the side(s) the critical section asked for. The
   * notify stays inside this thread's critical section (termination gate): a
   * bump whose notify was lost would never be repeated (see "Wake-ups").
   */
  unlock(): void {
    const i = this.i32
    // F1 (fast-slots.ts): lock-free sends stay closed while a sender waits or an offer is queued.
    const held = this.holding
    if (held) this.releaseHold()
    if (this.fast) this.syncSlow(this.get(H_COUNT) > 0 || this.get(H_SEND_WAITING) > 0 || this.get(H_RECV_OPEN) === 0, held)
    // Z3 (zero-slot.ts): the size-0 slot stays closed while an entry is queued in the ring.
    else if (this.zslot) this.syncSlow(this.get(H_COUNT) > 0 || this.get(H_RECV_OPEN) === 0, held)
    const ns = (this.notifySend && i[this.h + H_SEND_WAITING]! > 0) || this.wakeSend
    const nr = this.notifyRecv && i[this.h + H_RECV_WAITING]! > 0
    // Cleared on every unlock: a flag left over would notify after a later,
    // unrelated critical section (a futex syscall for nothing).
    this.notifySend = this.notifyRecv = this.wakeSend = this.budgetBlocked = false
    if (!ns && !nr) {
      unlock(i, this.h + H_LOCK)
      return
    }
    criticalEnter()
    unlock(i, this.h + H_LOCK)
    if (ns) Atomics.notify(i, this.h + H_SEQ_SEND)
    if (nr) Atomics.notify(i, this.h + H_SEQ_RECV)
    criticalLeave()
  }

  /**
   * The futex word of `side`, read under the lock by a waiter that will sleep
   * on it: arms the side, so the next change bumps the word (see "Wake-ups").
   *
   * `recheck` (fast channels): the caller attempted its operation before this
   * call, so a lock-free change between that attempt and the arm may have
   * skipped the bump; look once more and answer a stale word if it could
   * have. A caller that arms before it attempts (the dispatcher,
   * waiting.ts) passes false: the stale answer would make it retry at once
   * even when its waiters cannot use what is there (a select whose offer
   * must be resolved first), a loop that never yields (TestSelectStress
   * across threads hung that way).
   */
  readSeq(side: number, recheck = true): number {
    const i = this.i32
    // Atomics: on a fast channel, lock-free senders read H_ARMED (the third Dekker pair, below).
    Atomics.or(i, this.h + H_ARMED, side === SIDE_SEND ? ARMED_SEND : ARMED_RECV)
    const seen = Atomics.load(i, this.h + (side === SIDE_SEND ? H_SEQ_SEND : H_SEQ_RECV))
    // The size-0 slot's pair (zero-slot.ts "Ordering"): armed, then look at the slot.
    if (this.zslot && recheck && side === SIDE_RECV && this.zReady()) return (seen - 1) | 0
    if (!this.fast || !recheck) return seen
    // The third Dekker pair (fast-slots.ts "Ordering"): a lock-free send
    // publishes, then bumps only if ARMED_RECV is set; this receiver armed,
    // then looks at the buffer. If a value is there that may not have seen
    // the arm, the waiter gets a `seen` the word no longer holds, so its wait
    // returns at once and it retries.
    if (side === SIDE_RECV && this.fastCount() > 0) return (seen - 1) | 0
    // The sender's half of the fourth pair: a lock-free receive frees a slot,
    // then locks to service the senders only if an offer is queued or a
    // sender armed (tryReceiveFast). A sender that waits for room arms, then
    // looks: room there may have been freed by a receive that skipped it.
    // (A sender waiting for byte budget, not room, passes false: the take of
    // an out-of-line value always locks and bumps.)
    if (side === SIDE_SEND && !this.budgetBlocked && this.fastCount() < this.capacity) return (seen - 1) | 0
    return seen
  }

  /*
   * Bumps happen only when the other side has registered waiters (read under
   * the lock) and one of them has read the word since the last bump (H_ARMED):
   * a waiter registers, and reads the word, under the lock, so one registered
   * before this critical section sees the bump (or an earlier one), and one
   * registering after sees the new state. That keeps the futex words' cache
   * line and the notify syscall out of the common path.
   */
  private bumpSend(): void {
    const i = this.i32
    if (i[this.h + H_SEND_WAITING]! === 0) return
    const armed = i[this.h + H_ARMED]!
    if ((armed & ARMED_SEND) === 0) return
    Atomics.and(i, this.h + H_ARMED, ~ARMED_SEND)
    Atomics.add(i, this.h + H_SEQ_SEND, 1)
    this.notifySend = true
  }

  private bumpRecv(): void {
    const i = this.i32
    if (i[this.h + H_RECV_WAITING]! === 0) return
    const armed = i[this.h + H_ARMED]!
    if ((armed & ARMED_RECV) === 0) return
    Atomics.and(i, this.h + H_ARMED, ~ARMED_RECV)
    Atomics.add(i, this.h + H_SEQ_RECV, 1)
    this.notifyRecv = true
  }

  /**
   * Under the lock: wakes the waiters of `side` to retry (a bump, gated as
   * any: a waiter that has not read the word since the last bump holds an
   * older value and returns at once). Retrying is always safe.
   */
  kickLocked(side: number): void {
    if (side === SIDE_SEND) this.bumpSend()
    else this.bumpRecv()
  }

  // ---- spinning (spin.ts) -------------------------------------------------

  /**
   * This thread's adaptive spin budgets for the two sides (spin.ts). Only
   * size-0 channels and fast channels spin: on a locked buffered ring (byte
   * codecs, unbounded channels, GOTRIO_SHARED_FAST=0) a spinning side reads
   * the header line every lock holder writes, and a consumer that parks lets
   * the producer fill a batch undisturbed (measured, seed_producer buffered
   * and fan_in with structured values: 1.2-1.3x slower with spinning; size 0
   * 12x faster with it, fast channels up to 2x).
   */
  readonly sendSpin = new SpinBudget(this.capacity === 0 || this.fast, SIDE_SEND)
  readonly recvSpin = new SpinBudget(this.capacity === 0 || this.fast, SIDE_RECV)

  /**
   * Before registering as a waiter, spin (reads only, no lock) while the other
   * side is probably mid-operation on another core: a wake-up (futex syscall,
   * promise, event-loop turn) costs microseconds, a value ~0.1-1 µs. Returns
   * true once a receive (`forReceive`) or a send could proceed, or the channel
   * ended; the caller still decides under the lock. False: the spin ran out.
   */
  spin(forReceive: boolean, spins: number): boolean {
    const i = this.i32
    if (this.fast) {
      const lineHints = this.lineHints
      // A sender waits for a quarter of the buffer while the first half of the
      // budget lasts (fast-slots.ts farRoom), then for a line, reading every
      // few steps (roomPollSteps). The budget counts steps, so the time bound holds.
      const far = this.farRoom
      const farSteps = this.roomPollSteps(far)
      const near = this.nearRoom
      const nearSteps = this.roomPollSteps(near)
      const farUntil = (spins >> 1) - farSteps
      // Racy reads of the spinner's own position and one stamp (fast-slots.ts
      // nextLineReady, headReady, roomAhead): no ordering is needed, since a true answer only
      // ends the spin and the operation then decides with its own CAS (or the lock).
      for (let k = 0; k < spins; k++) {
        if (forReceive) {
          // Mostly the next line's first stamp (nextLineReady), every eighth
          // read the head's own: a value the sender stopped after still ends the spin.
          // A buffer too short for line hints: the head's stamp on every read
          // (nextLineReady is always false there, so the spin saw a value only
          // every eighth read: ~1 µs late; measured, capacity 1 with a worker
          // producer was hardly faster than size 0).
          if ((k & 7) === 7 ? !this.looksBlocked(true) : lineHints ? this.nextLineReady() : this.headReady()) return true
        } else {
          const isFar = k <= farUntil
          if (this.roomAhead(isFar ? far : near) || Atomics.load(i, H_RECV_OPEN) === 0) return true
          const steps = isFar ? farSteps : nearSteps
          for (let q = 1; q < steps; q++) spinPause()
          k += steps - 1
        }
        spinPause()
      }
      return false
    }
    if (this.zslot && forReceive) {
      // The size-0 slot's line (a value there is the usual case), and every
      // eighth read the lock's line (an offer in the ring, or no sender left).
      for (let k = 0; k < spins; k++) {
        spinPause()
        if (this.zReady()) return true
        if ((k & 7) === 7 && (Atomics.load(i, H_LIVE) > 0 || Atomics.load(i, H_SEND_OPEN) === 0)) return true
      }
      return false
    }
    // The lock's line: fewer, slower reads (spin.ts LOCKED_SLOWER).
    for (let k = 0, n = (spins / LOCKED_SLOWER) | 0; k < n; k++) {
      spinPauseLocked()
      if (forReceive) {
        if (Atomics.load(i, H_LIVE) > 0 || Atomics.load(i, H_SEND_OPEN) === 0) return true
      } else if (
        Atomics.load(i, H_LIVE) + (this.overflows ? Atomics.load(i, H_OV_COUNT) : 0) < this.capacity ||
        Atomics.load(i, H_RECV_OPEN) === 0
      )
        return true
    }
    return false
  }

  /**
   * Spins (adaptively, spin.ts) before an operation of `side` that looks
   * blocked takes the lock to register, if a partner may act meanwhile. True
   * if the spin saw the change: on a fast channel the caller tries its
   * lock-free path again before the lock (each lock acquisition writes the
   * header line that a lock-free sender reads after every push).
   */
  spinIfUseful(side: number): boolean {
    const forReceive = side === SIDE_RECV
    const b = forReceive ? this.recvSpin : this.sendSpin
    if (b.n === 0 || !this.looksBlocked(forReceive) || !this.partnerElsewhere(threadId, side) || !spinAllowed()) return false
    // A lost spin decides nothing yet: the park's length does (spin.ts).
    if (!this.spin(forReceive, b.n)) return false
    b.won()
    return true
  }

  /**
   * A sender whose entry with `ticket` is in the ring (an offer, or a size-0
   * value handed to a waiting receiver) and who is *not* registered spins
   * until the entry is taken (size 0) or inside the buffer (capacity > 0).
   * Returns SPIN_TAKEN (the send is complete: see "The unregistered offer"
   * at the top of this file), SPIN_BROKEN (every receiver closed: decide under the lock) or
   * SPIN_TIMEOUT (register under the lock, `offerLocked`, and park).
   */
  spinOffer(ticket: number): number {
    const i = this.i32
    const b = this.sendSpin
    const cap = this.capacity
    // Not fast: H_HEAD_SEQ is on the lock's line (spin.ts LOCKED_SLOWER).
    const fast = this.fast
    for (let k = 0, n = fast ? b.n : (b.n / LOCKED_SLOWER) | 0; k < n; k++) {
      if (fast) spinPause()
      else spinPauseLocked()
      const ahead = (ticket - Atomics.load(i, H_HEAD_SEQ)) | 0
      // Fast channels: an offer is inside the buffer once moved into it (ahead < 0).
      if (ahead < 0 || (cap > 0 && !this.fast && ahead < cap)) {
        b.won()
        return SPIN_TAKEN
      }
      if (Atomics.load(i, H_RECV_OPEN) === 0) return SPIN_BROKEN
    }
    return SPIN_TIMEOUT
  }

  /** Receive handles held in this thread (owner table; under the lock, or racy). */
  localReceivers(): number {
    return ownerGet(this.i32, threadId, O_RECV_HANDLES)
  }

  /**
   * True if a handle of the side opposite to `side` is open outside thread
   * `tid` (or in flight): someone who may complete this side's operation while
   * this thread spins. A racy read (no lock): a hint for spinning only.
   */
  partnerElsewhere(tid: number, side: number): boolean {
    return side === SIDE_RECV
      ? Atomics.load(this.i32, H_SEND_OPEN) > ownerGet(this.i32, tid, O_SEND_HANDLES)
      : Atomics.load(this.i32, H_RECV_OPEN) > ownerGet(this.i32, tid, O_RECV_HANDLES)
  }

  /** True if a receive or send would have to wait now (a racy read, for deciding whether to spin). */
  looksBlocked(forReceive: boolean): boolean {
    const i = this.i32
    if (this.fast) {
      if (forReceive) return !this.headReady() && Atomics.load(i, H_COUNT) === 0 && Atomics.load(i, H_SEND_OPEN) > 0
      return !this.tailFree() && Atomics.load(i, H_RECV_OPEN) > 0
    }
    if (forReceive) return Atomics.load(i, H_LIVE) === 0 && Atomics.load(i, H_SEND_OPEN) > 0 && !this.zReady()
    // H_OV_COUNT is 0 on a channel without overflow: not read there (it shares the hot header line).
    return (
      this.capacity > 0 &&
      Atomics.load(i, H_LIVE) + (this.overflows ? Atomics.load(i, H_OV_COUNT) : 0) >= this.capacity &&
      Atomics.load(i, H_RECV_OPEN) > 0
    )
  }

  // ---- owner table (owners.ts) ------------------------------------------

  /** Adds `delta` to field `f` of thread `tid`'s owner entry. Under the lock. */
  ownerAdd(tid: number, f: number, delta: number): void {
    ownerAdd(this.i32, tid, f, delta)
  }

  /**
   * True if another thread may complete an operation waiting in thread `tid`:
   * some handle of the channel, of either side, is held elsewhere or is in
   * flight (moved, not yet revived: counted open but in no owner entry, as are
   * the handles of a thread beyond the owner table). Either side, because a
   * waiter is woken by the other side (a value, a free slot, a close) and by
   * its own side too (a receiver passing the baton of promised values, R3, or
   * withdrawing). Otherwise only `tid` itself can complete it. Under the lock.
   */
  elsewhereLocked(tid: number): boolean {
    return (
      this.get(H_SEND_OPEN) > ownerGet(this.i32, tid, O_SEND_HANDLES) || this.get(H_RECV_OPEN) > ownerGet(this.i32, tid, O_RECV_HANDLES)
    )
  }

  /** Removes thread `tid`'s entry: [send, recv, sendWaiting, recvWaiting]. Under the lock. */
  ownerTake(tid: number): number[] | undefined {
    return ownerTake(this.i32, tid)
  }

  // ---- sending -----------------------------------------------------------

  /** Can an entry with `oolBytes` out-of-line bytes enter the ring now? (a free slot and the byte budget) */
  private hasRoom(oolBytes: number): boolean {
    if (oolBytes !== 0) {
      const used = this.get(H_BYTES_USED)
      if (used !== 0 && used + oolBytes > this.budget) return false
    }
    if (this.overflows && this.needsOverflow()) return overflowReserve(this)
    // A ring full of entries may be partly withdrawn offers: tombstones at the
    // head are skipped here too, not only by receivers. Otherwise receivers
    // that registered (LIVE = 0) before the offers ahead of them were withdrawn
    // sleep, no receive attempt runs to skip the tombstones, and a sender that
    // finds no room waits for a bump only such an attempt would make: both
    // sides parked forever (soak, 2026-12-02, size 0, seed 920873146).
    if (this.get(H_COUNT) === this.slots) this.skipTombstones()
    return this.get(H_COUNT) !== this.slots
  }

  /** Channels with overflow: a value sent now goes to the overflow (O2: behind any value already there). */
  private needsOverflow(): boolean {
    return this.get(H_COUNT) === this.slots || this.get(H_OV_COUNT) > 0
  }

  /**
   * One send attempt, under the lock. `num` is the number (numeric codecs) or
   * `bytes`/`ool` the encoded value and its out-of-line block (0 if inline).
   * `registered`: the caller is counted in SEND_WAITING (R5) and is removed
   * from it on any result but WAIT. `nowait`: never register nor offer.
   * Returns DONE, OFFERED (size 0; `ticket` set), WAIT (`seen` set; now
   * registered), WOULD_BLOCK or BROKEN.
   */
  sendLocked(
    tid: number,
    num: number,
    bytes: Uint8Array | undefined,
    ool: number,
    flags: number,
    registered: boolean,
    nowait: boolean,
    spinFirst = false,
  ): number {
    if (this.fast) return this.sendFastLocked(tid, num, bytes, ool, flags, registered, nowait, spinFirst)
    if (this.get(H_RECV_OPEN) === 0) {
      if (registered) this.unregister(tid, SIDE_SEND)
      return BROKEN
    }
    const oolBytes = ool === 0 ? 0 : bytes!.length
    if (this.hasRoom(oolBytes)) {
      if (this.capacity > 0) {
        // Entries at positions < capacity from the head are the buffer; a
        // sender whose entry lands beyond it waits (an offer) until the head
        // brings it inside (or a receiver takes it). So a waiting sender's value
        // is already in line: a receive that frees a slot "moves it into the
        // buffer" at once, in any thread (Trio: a waiting sender owns the next
        // free slot). COUNT counts tombstones, so this is conservative.
        const count = this.get(H_COUNT)
        if (this.get(H_LIVE) + (this.overflows ? this.get(H_OV_COUNT) : 0) < this.capacity) {
          this.push(ENTRY_VALUE | flags, num, bytes, ool)
          if (registered) this.unregister(tid, SIDE_SEND)
          return DONE
        }
        // Full. A channel with overflow has no place for an offer beyond its
        // capacity (overflow.ts, "Waiting senders"): it waits for room below.
        if (!nowait && !this.overflows) {
          this.ticket = (this.get(H_HEAD_SEQ) + count) | 0
          this.push(ENTRY_OFFER | flags, num, bytes, ool)
          if (!registered && !spinFirst) this.register(tid, SIDE_SEND)
          return OFFERED
        }
      } else {
        const rw = this.get(H_RECV_WAITING)
        const ho = this.get(H_HANDOFFS)
        // Select watchers are not promised values ("Select"): H_SELECTS is read only when a hand-off is possible.
        if (rw > ho && this.get(H_LIVE) === ho && this.plainReceiversLocked() > ho) {
          // Direct handoff: promised to the waiting receivers. R2 holds (plain receivers > ho);
          // R3 holds because every live entry before it is promised (LIVE = HANDOFFS).
          this.ticket = (this.get(H_HEAD_SEQ) + this.get(H_COUNT)) | 0
          this.push(ENTRY_VALUE | flags, num, bytes, ool)
          this.set(H_HANDOFFS, ho + 1)
          if (nowait) return DONE
          // Delivered (a waiting receiver will take it, R2). `send` still waits
          // for the take (`ticket`), as Trio's send yields to the receiver it woke,
          // and stays registered so the take notifies it; no longer cancellable.
          if (!registered && !spinFirst) this.register(tid, SIDE_SEND)
          return HANDED
        }
        if (!nowait) {
          // R3: an offer goes after every promised value; later senders offer too
          // until the offers are taken (FIFO among senders).
          this.ticket = (this.get(H_HEAD_SEQ) + this.get(H_COUNT)) | 0
          this.push(ENTRY_OFFER | flags, num, bytes, ool)
          if (!registered && !spinFirst) this.register(tid, SIDE_SEND)
          return OFFERED
        }
      }
    }
    if (nowait) return WOULD_BLOCK
    if (!registered) this.register(tid, SIDE_SEND)
    this.seen = this.readSeq(SIDE_SEND)
    return WAIT
  }

  /**
   * A registered size-0 sender whose offer has `ticket`: DONE if taken, BROKEN
   * if the receivers all closed (the offer was dropped), else WAIT. With
   * `withdraw`, a WAIT becomes a withdrawal (tombstone) and returns WOULD_BLOCK.
   */
  offerLocked(tid: number, ticket: number, withdraw: boolean, registered = true): number {
    // A fast channel: room may have been freed by a lock-free receive that did
    // not lock to move offers (tryReceiveFast, the fourth pair): move them now.
    if (this.fast && !withdraw) this.serviceLocked()
    const ahead = (ticket - this.get(H_HEAD_SEQ)) | 0 // entries before it; < 0: taken
    if (ahead < 0 || (this.capacity > 0 && !this.fast && this.liveAhead(ahead) < this.capacity)) {
      // Taken, or (capacity > 0) inside the buffer: the send is complete, even
      // if the last receiver has closed since (it was buffered, then dropped).
      // A fast channel's mover or taker unregistered a registered sender
      // already (ENTRY_WAITER), in that critical section.
      if (registered && !(this.fast && waiterMark(tid) !== 0)) this.unregister(tid, SIDE_SEND)
      return DONE
    }
    if (this.get(H_RECV_OPEN) === 0) {
      if (registered) this.unregister(tid, SIDE_SEND)
      return BROKEN
    }
    if (!withdraw) {
      // An unregistered offer (its sender spun first) registers now, in the
      // critical section that reads the futex word: see "The unregistered offer".
      if (!registered) {
        this.register(tid, SIDE_SEND)
        if (this.fast) this.markWaiter(ticket, tid) // its mover unregisters it now
      }
      this.seen = this.readSeq(SIDE_SEND)
      return WAIT
    }
    const pos = (ticket - this.get(H_HEAD_SEQ)) | 0 // 0 <= pos < COUNT: still in the ring
    const slot = (this.get(H_HEAD_IDX) + pos) % this.slots
    this.dropEntry(slot)
    this.i32[this.meta + slot] = ENTRY_TOMBSTONE
    this.set(H_LIVE, this.get(H_LIVE) - 1)
    this.unregister(tid, SIDE_SEND)
    return WOULD_BLOCK
  }

  /**
   * Live entries among the first `ahead` from the head (tombstones of withdrawn
   * offers do not count), counting no further than `capacity`. Slow path only:
   * a waiting sender checking whether its offer is inside the buffer yet.
   */
  private liveAhead(ahead: number): number {
    if (ahead < this.capacity) return ahead
    let live = 0
    const head = this.get(H_HEAD_IDX)
    for (let k = 0; k < ahead && live < this.capacity; k++) {
      if ((this.i32[this.meta + ((head + k) % this.slots)]! & ENTRY_KIND_MASK) !== ENTRY_TOMBSTONE) live++
    }
    return live
  }

  /** A registered sender (not offered) gives up waiting. */
  withdrawSendLocked(tid: number): void {
    this.unregister(tid, SIDE_SEND)
  }

  private push(meta: number, num: number, bytes: Uint8Array | undefined, ool: number): void {
    if (this.overflows && this.needsOverflow()) {
      overflowPush(this, meta, num, bytes, ool) // hasRoom reserved its place (overflowReserve)
    } else {
      const count = this.get(H_COUNT)
      this.writeSlot((this.get(H_HEAD_IDX) + count) % this.slots, meta, num, bytes, ool)
      this.set(H_COUNT, count + 1)
      this.set(H_LIVE, this.get(H_LIVE) + 1)
    }
    // Offers beyond the buffer are not "buffer used", nor are values that waiting
    // receivers will take (Trio hands those over without buffering them).
    if (this.fast) {
      // A fast channel's ring holds only offers, which are not "buffer used".
      this.bumpRecv()
      return
    }
    const live = this.get(H_LIVE)
    const used = (live < this.capacity ? live : this.capacity) + (this.overflows ? this.get(H_OV_COUNT) : 0) - this.get(H_RECV_WAITING)
    if (used > this.get(H_PEAK)) this.set(H_PEAK, used)
    this.bumpRecv()
  }

  // ---- receiving ---------------------------------------------------------

  /**
   * One receive attempt, under the lock. DONE (value in out*), END (every
   * sender closed and nothing is left), WAIT (`seen` set; now registered) or
   * WOULD_BLOCK (nowait). `registered` as for sendLocked.
   */
  receiveLocked(tid: number, registered: boolean, nowait: boolean): number {
    if (this.fast) return this.receiveFastLocked(tid, registered, nowait)
    this.skipTombstones()
    if (this.overflows) this.refill()
    const ho = this.get(H_HANDOFFS)
    // The size-0 slot first: its value is older than every entry in the ring
    // (Z3), but not for a receiver a value is promised to (Z4, R2).
    if (this.zslot && (!registered || ho === 0) && this.zTake(true)) {
      if (registered) this.unregister(tid, SIDE_RECV)
      if (this.get(H_LIVE) > 0 || this.get(H_SEND_OPEN) === 0) this.bumpRecv() // pass the baton (below)
      return DONE
    }
    if (this.get(H_LIVE) > 0 && (registered || ho === 0)) {
      this.takeHead()
      if (registered) {
        this.unregister(tid, SIDE_RECV)
        // R3: with HANDOFFS > 0 the head was a promised value.
        if (ho > 0) this.set(H_HANDOFFS, ho - 1)
      }
      // Pass the baton: a receiver that registered while values were reserved
      // for others (HANDOFFS > 0) sleeps on SEQ_RECV; if values remain, it may
      // take one now, and nobody else would bump the word for it. Likewise if
      // every sender has closed: the close's bump came while the value it
      // sleeps behind was still in the ring, so this take may have made END
      // true for it (spin model, model/README.md: "receiver never gets
      // EndOfChannel").
      if (this.get(H_LIVE) > 0 || this.get(H_SEND_OPEN) === 0) this.bumpRecv()
      return DONE
    }
    // A dead sender's value may still be in the size-0 slot (Z2), promised values ahead of it.
    if (this.get(H_LIVE) === 0 && this.get(H_SEND_OPEN) === 0 && !this.zReady()) {
      if (registered) this.unregister(tid, SIDE_RECV)
      return END
    }
    if (nowait) return WOULD_BLOCK
    if (!registered) this.register(tid, SIDE_RECV)
    this.seen = this.readSeq(SIDE_RECV)
    return WAIT
  }

  /**
   * A registered receiver stops waiting (cancelled, or its handle closed).
   * Returns WOULD_BLOCK if it withdrew having taken nothing, or DONE if it was
   * needed for a promised value (R2) and took it (value in out*).
   */
  withdrawReceiveLocked(tid: number): number {
    const rw = this.plainReceiversLocked()
    const ho = this.get(H_HANDOFFS)
    if (rw - 1 >= ho) {
      this.unregister(tid, SIDE_RECV)
      // A promised value may now be for a receiver that registered behind it
      // and sleeps on SEQ_RECV: wake it, or the value is stranded and its
      // sender waits for the take forever (spin model, model/README.md:
      // "a cancelled receiver strands a promised value").
      if (this.get(H_LIVE) > 0 || (this.fast && this.fastCount() > 0) || this.zReady()) this.bumpRecv()
      return WOULD_BLOCK
    }
    return this.receiveLocked(tid, true, true)
  }

  /**
   * Channels with overflow: moves the oldest overflow values into the ring's free
   * slots (O2, O3). Done at the start of a receive, not right after a take:
   * the taken value's inline bytes stay in its slot until the caller has
   * copied them (takeHead), and that slot is the one a refill would reuse.
   */
  private refill(): void {
    while (this.get(H_OV_COUNT) > 0 && this.get(H_COUNT) < this.slots) {
      const count = this.get(H_COUNT)
      overflowShift(this, (this.get(H_HEAD_IDX) + count) % this.slots)
      this.set(H_COUNT, count + 1)
      this.set(H_LIVE, this.get(H_LIVE) + 1)
    }
  }

  private skipTombstones(): void {
    const i = this.i32
    while (this.get(H_COUNT) > 0 && (i[this.meta + this.get(H_HEAD_IDX)]! & ENTRY_KIND_MASK) === ENTRY_TOMBSTONE) {
      this.advanceHead()
    }
  }

  private advanceHead(): void {
    this.set(H_HEAD_IDX, (this.get(H_HEAD_IDX) + 1) % this.slots)
    this.set(H_HEAD_SEQ, (this.get(H_HEAD_SEQ) + 1) | 0)
    this.set(H_COUNT, this.get(H_COUNT) - 1)
    this.bumpSend() // a slot freed, or an offer's ticket passed
  }

  /** Removes the head entry into out*; returns its kind. */
  private takeHead(): number {
    const m = this.readSlot(this.get(H_HEAD_IDX))
    this.set(H_LIVE, this.get(H_LIVE) - 1)
    this.advanceHead()
    return m & ENTRY_KIND_MASK
  }

  // ---- the size-0 lock-free slot (zero-slot.ts) ------------------------------

  /** A take from the size-0 slot (zero-slot.ts), inside the termination gate. */
  zTake(locked: boolean): boolean {
    criticalEnter()
    const ok = this.zTakeInGate(locked)
    criticalLeave()
    return ok
  }

  /**
   * A plain async send through the size-0 slot (zero-slot.ts): the number
   * `num` (on a byte codec, `bytes` undefined: a number sent on the
   * structured codec, held as a Float64), or `bytes[0..n)` (n <=
   * ZERO_SLOT_BYTES, inline, no endpoints).
   * Z_TAKEN: a receiver took it, the send is complete. Z_BROKEN: every
   * receive handle closed before any took it. Z_WITHDRAWN: the spin ran out
   * and the value was taken back: send it through the lock, without spinning
   * again. Z_NOT_SENT: the slot was not free, or spinning would not pay (no
   * receive handle in another thread, spin.ts): send it through the lock as
   * before. The caller checked that its thread has no waiting send (FIFO).
   */
  sendZero(num: number, bytes: Uint8Array | undefined, n: number): number {
    const b = this.sendSpin
    if (b.n === 0 || !this.partnerElsewhere(threadId, SIDE_SEND) || !spinAllowed()) return Z_NOT_SENT
    criticalEnter()
    if (!this.zClaimWrite(num, bytes, n)) {
      criticalLeave()
      return Z_NOT_SENT
    }
    this.zPublish()
    this.wakeArmedReceivers()
    criticalLeave()
    if (this.zSpinTaken(b.n)) {
      b.won()
      return Z_TAKEN
    }
    criticalEnter()
    const r = this.zWithdrawOwn()
    criticalLeave()
    if (r === Z_TAKEN) {
      b.won()
      return Z_TAKEN
    }
    // Withdrawn: with no receive handle open that is the send's answer (Trio's
    // BrokenResourceError); otherwise the locked ring decides (and may register).
    return Atomics.load(this.i32, H_RECV_OPEN) === 0 ? Z_BROKEN : Z_WITHDRAWN
  }

  /**
   * After a lock-free push has published its value (a stamp store: the fast
   * buffer's, or the size-0 slot's): the first Dekker pair (fast-slots.ts and
   * zero-slot.ts "Ordering"), the stamp store, then the waiter count. A
   * receiver counted here may sleep on SEQ_RECV: bump it under the lock, as
   * any change that lets receivers proceed does, but only if one has read the
   * word since the last bump (ARMED_RECV; the third pair, `readSeq`): the
   * others were bumped already and will retry, or will see this value when
   * they arm. So a producer that outruns a sleeping consumer takes the lock
   * once per wake-up, not once per value.
   */
  private wakeArmedReceivers(): void {
    const i = this.i32
    if (Atomics.load(i, H_RECV_WAITING) > 0 && (Atomics.load(i, H_ARMED) & ARMED_RECV) !== 0) {
      this.lock()
      this.bumpRecv()
      this.unlock()
    }
  }

  // ---- the lock-free buffer (fast channels, fast-slots.ts) ------------------

  /**
   * A send without the lock: true if `num` is in the buffer (the send is
   * complete), false if the caller must take the lock (full, SLOW set: a
   * sender waits or an offer is queued, or no receiver is open). Inside the
   * termination gate from the CAS to the wake-up it may owe.
   */
  trySendFast(num: number): boolean {
    criticalEnter()
    if (this.vpush(num, false) !== V_OK) {
      criticalLeave()
      return false
    }
    this.pushedFast()
    return true
  }

  /**
   * trySendFast for an encoded value that is inline and carries no endpoints
   * (byte codecs): nothing to account under the lock. A value with an
   * out-of-line block or endpoints takes the lock (`sendFastLocked`).
   */
  trySendFastBytes(bytes: Uint8Array, n = bytes.length): boolean {
    criticalEnter()
    if (this.vpushBytes(bytes, 0, 0, false, n) !== V_OK) {
      criticalLeave()
      return false
    }
    this.pushedFast()
    return true
  }

  /**
   * trySendFast for a number sent on the structured codec, into a number cell
   * (fast-slots.ts "Number cells"; `num` is not NaN). False on a channel
   * without the lock-free buffer, or when the push must take the lock (then
   * the caller sends the number's bytes as any value).
   */
  trySendFastCell(num: number): boolean {
    if (!this.fast) return false
    criticalEnter()
    if (this.vpushCell(num) !== V_OK) {
      criticalLeave()
      return false
    }
    this.pushedFast()
    return true
  }

  /**
   * A lock-free push of a send's value: the number `num` (numeric codecs,
   * `out` undefined), or `out`'s bytes if inline and without endpoints (an
   * out-of-line block or endpoints are accounted under the lock). False on a
   * channel without the lock-free buffer, or when the push must take the lock.
   */
  trySendFastOut(num: number, out: Outgoing | undefined): boolean {
    if (!this.fast) return false
    return out === undefined ? this.trySendFast(num) : out.ool === 0 && out.flags === 0 && this.trySendFastBytes(out.bytes!)
  }

  /** After a lock-free push, inside its gate: the wake-up it may owe, peakBufferUsed; leaves the gate. */
  private pushedFast(): void {
    const i = this.i32
    this.wakeArmedReceivers()
    // peakBufferUsed: exact (raisePeak reads the receivers' line) only when the
    // bound from this thread's last view of the head could raise it.
    const peak = Atomics.load(i, H_PEAK)
    if (peak < this.capacity) {
      const bound = this.pushedBound()
      if (bound < 0 || bound - Atomics.load(i, H_RECV_WAITING) > peak) this.raisePeak()
    }
    criticalLeave()
  }

  /**
   * Before a lock-free take of a receive that may wait (not of the Nowait
   * forms): if this thread's last take left the head at the start of a stamp
   * line and the first stamp of the line after it is not published, a sender
   * in another thread may still be writing the head's line. Taking from it
   * now reads each value right after its store, and the sender then misses on
   * each of its next stores (the stamp and data lines come back from this
   * core; measured in a CPU profile of the seed's buffered program with a
   * worker producer: the producer's stamp store 22% of its time, 2.5% with
   * this wait). So spin until the sender moved past the line
   * (`nextLineReady`), at most TRAIL_POLLS reads; a wait that runs out (a
   * sender slower than a line per TRAIL_POLLS reads, or none) turns this off
   * for the next TRAIL_OFF line starts. A hint: it reads no word whose value
   * decides anything, and the take that follows is the usual one. Only where
   * spinning is allowed and a sender is held in another thread.
   *
   * Inside a batch too (every take of `receiveMany`/`receiveManySync` among
   * its first `capacity` values, not only the first): a batch that runs into
   * the line the sender is writing costs the sender the same misses, and the
   * batch still takes every value that is there when it ends, a few
   * microseconds later at most (measured, ab.ts, 7 rounds, int32 `sendSync`
   * against a main thread `receiveMany(64)`: 0.67x the time per value).
   */
  private trailSender(): void {
    this.headAtLineStart = false
    if (this.trailOff > 0) {
      this.trailOff--
      return
    }
    if (this.recvSpin.n === 0 || this.nextLineReady() || !this.partnerElsewhere(threadId, SIDE_RECV) || !spinAllowed()) return
    for (let k = 0; k < TRAIL_POLLS; k++) {
      spinPause()
      if (this.nextLineReady()) return
    }
    this.trailOff = TRAIL_OFF
  }

  /** Line starts left with `trailSender` off (after a wait ran out). */
  private trailOff = 0

  /**
   * A lock-free take of a receive that may wait (async, iterator, sync, and
   * every take of a batch): `trailSender` if the last take left the head at a
   * line start, then `tryReceiveFast`. False on a channel without the
   * lock-free buffer. The Nowait forms call `tryReceiveFast` (no waiting).
   */
  receiveFastTrailing(): boolean {
    if (!this.fast) return this.zslot && this.zTake(false)
    if (this.headAtLineStart) this.trailSender()
    return this.tryReceiveFast()
  }

  /**
   * The next lock-free take of a batch that holds `taken` values: trailing
   * the sender (`receiveFastTrailing`) while `trail` and fewer than
   * `capacity` are taken (a sender that keeps up would otherwise keep a
   * `receiveMany(Infinity)` waiting for its next line for as long as it
   * sends), else `tryReceiveFast`.
   */
  receiveFastInBatch(taken: number, trail: boolean): boolean {
    return trail && taken < this.capacity ? this.receiveFastTrailing() : this.tryReceiveFast()
  }

  /**
   * A receive without the lock: true with the value in `outNum`, false if the
   * caller must take the lock (nothing published: empty, or a sender is
   * writing it; offers and EndOfChannel are decided under the lock).
   */
  tryReceiveFast(): boolean {
    if (this.zslot) return this.zTake(false)
    criticalEnter()
    if (!this.vpop(false)) {
      criticalLeave()
      return false
    }
    // An out-of-line value leaves H_BYTES_USED (R6) under the lock, which
    // also wakes a sender waiting for that byte budget (it is registered, so
    // SLOW is set: the same work as below).
    if (this.codec === CODEC_BYTES && this.outAt === OUT_OOL) {
      this.lock()
      this.set(H_BYTES_USED, this.get(H_BYTES_USED) - this.outLen)
      this.serviceLocked()
      this.bumpSend()
      this.unlock()
    } else if (this.slowSet() && (Atomics.load(this.i32, H_COUNT) > 0 || (Atomics.load(this.i32, H_ARMED) & ARMED_SEND) !== 0)) {
      // The second Dekker pair: the stamp store (a slot freed), then SLOW. A
      // waiting sender owns the freed slot: move the oldest offers in and wake
      // the senders, before this receive returns. Only if there is an offer
      // to move or a sender armed since the last bump (the fourth pair,
      // `readSeq`): senders registered but bumped already (their offers moved,
      // their threads not yet awake) keep SLOW set, and locking for them on
      // every take cost more than the lock-free path saved (fan-in, 4
      // producers: 1.28x slower than the locked ring before this check).
      // Ordering: H_ARMED is set with Atomics.or, so the arm-then-look of a
      // sender (readSeq) and this store-then-load pair up (sequentially
      // consistent). H_COUNT is written under the lock with plain stores, so
      // this read may miss an offer just queued; that is safe: its sender
      // reads the word next (readSeq, after the arm) and sees the room, or,
      // spinning first, moves the offers itself (offerLocked).
      this.lock()
      this.serviceLocked()
      this.bumpSend()
      this.unlock()
    }
    criticalLeave()
    return true
  }

  /**
   * peakBufferUsed on a fast channel: values in the buffer minus the waiting
   * receivers they will go to (as `push` counts it), raised by CAS (lock-free
   * senders race for it; only raised, never lowered).
   */
  private raisePeak(): void {
    const i = this.i32
    let peak = Atomics.load(i, H_PEAK)
    const used = this.fastCount() - Atomics.load(i, H_RECV_WAITING)
    while (used > peak) {
      const p = Atomics.compareExchange(i, H_PEAK, peak, used)
      if (p === peak) return
      peak = p
    }
  }

  /**
   * Under the lock (fast channels): moves queued offers, oldest first, into
   * free slots of the buffer; each move passes the offer's ticket, so its
   * sender's send is complete ("a waiting sender owns the next free slot").
   * Copies the offers without touching out* (a receiver's value is there); an
   * out-of-line offer stays counted in H_BYTES_USED (R6).
   */
  private serviceLocked(): void {
    while (this.get(H_COUNT) > 0) {
      const slot = this.get(H_HEAD_IDX)
      const meta = this.i32[this.meta + slot]!
      if ((meta & ENTRY_KIND_MASK) !== ENTRY_TOMBSTONE) {
        if (this.vpushOffer(slot, meta) !== V_OK) return
        this.offerCompleted(meta)
        this.set(H_LIVE, this.get(H_LIVE) - 1)
        this.raisePeak()
        this.bumpRecv()
      }
      this.advanceHead() // passes the ticket; bumps senders
    }
  }

  /**
   * Under the lock (fast channels): an offer with meta word `meta` was just
   * moved into the buffer or taken, so its send is complete. If its sender is
   * registered (ENTRY_WAITER), it stops counting as waiting now, not when its
   * thread wakes up: SEND_WAITING > 0 keeps SLOW set (F1), and every send of
   * every thread takes the lock while it is. A sender's thread busy with other
   * tasks may take a millisecond to wake (measured, fan-in with 4 producer
   * tasks on 2 threads: 20-30% of sends went to the lock that way, 1.6x slower
   * than the locked ring). The sender, finding its ticket passed, does not
   * unregister again (offerLocked).
   */
  private offerCompleted(meta: number): void {
    if ((meta & ENTRY_WAITER) === 0) return
    this.unregister((meta >>> ENTRY_OWNER_SHIFT) - 1, SIDE_SEND)
    // Its sender sleeps on SEQ_SEND, read when it registered: bump and notify
    // whatever the counts now say (bumpSend would skip a side with no
    // registered sender left, and this one no longer counts).
    const i = this.i32
    Atomics.and(i, this.h + H_ARMED, ~ARMED_SEND)
    Atomics.add(i, this.h + H_SEQ_SEND, 1)
    this.wakeSend = true
  }

  /** Under the lock (fast channels): the offer with `ticket`, still queued, is now a registered sender's (ENTRY_WAITER). */
  private markWaiter(ticket: number, tid: number): void {
    const slot = (this.get(H_HEAD_IDX) + ((ticket - this.get(H_HEAD_SEQ)) | 0)) % this.slots
    this.i32[this.meta + slot] = this.i32[this.meta + slot]! | waiterMark(tid)
  }

  /**
   * Under the lock (fast channels): thread `tid` died and its waiters were
   * forgotten (forgetWaitersLocked): its queued offers stay (delivered as any
   * dead sender's) but no longer count it as waiting.
   */
  forgetOffersLocked(tid: number): void {
    if (!this.fast) return
    const low = (1 << ENTRY_OWNER_SHIFT) - 1
    for (let k = 0, c = this.get(H_COUNT); k < c; k++) {
      const at = this.meta + ((this.get(H_HEAD_IDX) + k) % this.slots)
      const m = this.i32[at]!
      if ((m & ENTRY_WAITER) !== 0 && m >>> ENTRY_OWNER_SHIFT === tid + 1) this.i32[at] = m & low & ~ENTRY_WAITER
    }
  }

  /**
   * sendLocked on a fast channel (same contract; never HANDED: capacity > 0).
   * Byte codecs: `bytes`, `ool` and `flags` as for sendLocked; an out-of-line
   * value must also fit the byte budget (as `hasRoom`), else it waits
   * registered (SLOW set), woken by the take of an out-of-line value, which
   * gives its bytes back under the lock (tryReceiveFast).
   */
  private sendFastLocked(
    tid: number,
    num: number,
    bytes: Uint8Array | undefined,
    ool: number,
    flags: number,
    registered: boolean,
    nowait: boolean,
    spinFirst: boolean,
  ): number {
    if (this.get(H_RECV_OPEN) === 0) {
      if (registered) this.unregister(tid, SIDE_SEND)
      return BROKEN
    }
    this.serviceLocked()
    const oolBytes = ool === 0 ? 0 : bytes!.length
    if (oolBytes !== 0) {
      const used = this.get(H_BYTES_USED)
      if (used !== 0 && used + oolBytes > this.budget) {
        // A select's retry reads the word after this (readSeq with the
        // re-check): room in the buffer is no use to this sender, so no stale
        // word for it (it would retry at once, for as long as the budget is spent).
        this.budgetBlocked = true
        if (nowait) return WOULD_BLOCK
        if (!registered) this.register(tid, SIDE_SEND) // sets SLOW (F1)
        this.seen = this.readSeq(SIDE_SEND, false)
        return WAIT
      }
    }
    // No live offer is queued after serviceLocked unless the buffer was full:
    // an offer goes before this value.
    if (this.get(H_COUNT) === 0) {
      let r = bytes === undefined ? this.vpush(num, true) : this.vpushBytes(bytes, ool, flags, true)
      if (r !== V_OK) {
        // Full: SLOW first, then look again (fast-slots.ts "Ordering", the
        // second pair): a receive that freed a slot and did not see SLOW is
        // seen by this second look; one that did will move the offer below.
        this.setSlow()
        r = bytes === undefined ? this.vpush(num, true) : this.vpushBytes(bytes, ool, flags, true)
      }
      if (r === V_OK) {
        if (oolBytes !== 0) this.set(H_BYTES_USED, this.get(H_BYTES_USED) + oolBytes) // R6
        if (registered) this.unregister(tid, SIDE_SEND)
        this.raisePeak()
        this.bumpRecv()
        return DONE
      }
    }
    if (nowait) return WOULD_BLOCK
    this.setSlow() // F1: from here on a sender waits or an offer is queued
    if (this.get(H_COUNT) < this.slots) {
      this.ticket = (this.get(H_HEAD_SEQ) + this.get(H_COUNT)) | 0
      // A registered sender's offer says so (ENTRY_WAITER): its mover unregisters it.
      this.push(ENTRY_OFFER | flags | (registered || !spinFirst ? waiterMark(tid) : 0), num, bytes, ool) // writeSlot counts an out-of-line offer (R6)
      if (!registered && !spinFirst) this.register(tid, SIDE_SEND)
      return OFFERED
    }
    if (!registered) this.register(tid, SIDE_SEND)
    this.seen = this.readSeq(SIDE_SEND)
    return WAIT
  }

  /** receiveLocked on a fast channel (same contract). */
  private receiveFastLocked(tid: number, registered: boolean, nowait: boolean): number {
    for (;;) {
      if (this.vpop(true)) {
        if (this.codec === CODEC_BYTES && this.outAt === OUT_OOL) this.set(H_BYTES_USED, this.get(H_BYTES_USED) - this.outLen)
        if (registered) this.unregister(tid, SIDE_RECV)
        this.serviceLocked()
        this.bumpSend() // a slot freed: senders waiting without an offer, select send cases
        // Pass the baton (see receiveLocked): another waiting receiver may take the next value.
        if (this.fastCount() > 0 || this.get(H_SEND_OPEN) === 0) this.bumpRecv()
        return DONE
      }
      if (this.get(H_COUNT) > 0) {
        // Offers wait only behind a full buffer; it emptied since without a
        // move (lock-free receivers move offers only when they see SLOW, which
        // is set). A value claimed but not yet published is older than every
        // offer: wait for its stamp (its sender is inside its gate, a few
        // instructions from the store).
        if (!this.fastEmptyExactly()) continue
        this.skipTombstones()
        if (this.get(H_COUNT) > 0) {
          this.offerCompleted(this.i32[this.meta + this.get(H_HEAD_IDX)]!)
          this.takeHead() // passes the offer's ticket: its send is complete
          if (registered) this.unregister(tid, SIDE_RECV)
          this.serviceLocked() // the next offer owns the room this receive left
          return DONE
        }
      }
      if (this.get(H_SEND_OPEN) === 0) {
        // Every send handle closed: no send is in flight (a send completes
        // before its handle can close; a terminated thread left its gate), so
        // an empty buffer stays empty.
        if (registered) this.unregister(tid, SIDE_RECV)
        return END
      }
      if (nowait) return WOULD_BLOCK
      if (!registered) {
        // The first Dekker pair: count this receiver (Atomics.add), then look again.
        this.register(tid, SIDE_RECV)
        registered = true
        continue
      }
      this.seen = this.readSeq(SIDE_RECV)
      return WAIT
    }
  }

  /**
   * The last receiver closed (fast channel, under the lock): SLOW (no
   * lock-free send completes from here), then every value taken out (F2).
   * A send that claimed a slot before SLOW publishes within its gate; the
   * drain waits for it, so nothing is left behind. Byte values are dropped as
   * `dropEntry` does (blocks freed; the bytes of values with endpoints go to
   * `dropped`, whose endpoints the caller closes).
   */
  private drainFastLocked(dropped: Uint8Array[]): void {
    this.setSlow()
    for (;;) {
      if (this.vpop(true)) {
        if (this.codec === CODEC_BYTES) this.dropTaken(dropped)
        continue
      }
      if (this.fastEmptyExactly()) return
    }
  }

  /** Drops the byte value just taken from the lock-free buffer (drainFastLocked). */
  private dropTaken(dropped: Uint8Array[]): void {
    if (this.outAt === OUT_OOL) {
      const ool = this.outNum
      if (this.outHasEndpoints) dropped.push(this.a.u8.slice(ool, ool + this.outLen))
      this.set(H_BYTES_USED, this.get(H_BYTES_USED) - this.outLen)
      free(ool)
    } else if (this.outHasEndpoints) dropped.push(this.inlineCopy())
  }

  // ---- open counts -------------------------------------------------------

  register(tid: number, side: number): void {
    const f = side === SIDE_SEND ? H_SEND_WAITING : H_RECV_WAITING
    // Atomics: lock-free senders read H_RECV_WAITING after publishing (fast-slots.ts "Ordering").
    Atomics.add(this.i32, this.h + f, 1)
    // F1 before the caller's re-check: no lock-free send completes past this waiting sender.
    if (this.fast && side === SIDE_SEND) this.setSlow()
    this.ownerAdd(tid, side === SIDE_SEND ? O_SEND_WAITING : O_RECV_WAITING, 1)
    // Size 0: a select's send case may now hand its value to this receiver ("Select").
    if (side === SIDE_RECV && this.capacity === 0 && this.get(H_SELECTS) >= SELECT_SEND_ONE) this.bumpSend()
  }

  // ---- select watchers ("Select" above) ------------------------------------

  /** Receivers registered by plain operations (not select watchers): the ones a size-0 value may be promised to. */
  plainReceiversLocked(): number {
    return this.get(H_RECV_WAITING) - (this.get(H_SELECTS) & SELECT_FIELD_MASK)
  }

  /**
   * Registers a select's case of this thread as a watcher of `side`; returns
   * the futex value to wait on. Counted in the thread's owner entry too
   * (O_SELECTS), so the watchers of a thread that dies (in `selectSync`, or
   * with a select pending) are forgotten with its other waiters
   * (`forgetWaitersLocked`). Under the lock.
   */
  selectRegisterLocked(side: number): number {
    const f = side === SIDE_SEND ? H_SEND_WAITING : H_RECV_WAITING
    Atomics.add(this.i32, this.h + f, 1)
    const one = side === SIDE_SEND ? SELECT_SEND_ONE : SELECT_RECV_ONE
    this.set(H_SELECTS, this.get(H_SELECTS) + one)
    this.ownerAdd(threadId, O_SELECTS, one)
    const seen = this.readSeq(side)
    if (this.fast) {
      // The select tried this case before registering; a lock-free operation of
      // the other side may have made it ready in between without seeing the
      // registration. The Dekker re-check (fast-slots.ts "Ordering"): if ready
      // now, move the futex word past `seen`, so the select's wait returns at
      // once and it retries the case under the lock.
      if (side === SIDE_SEND) this.setSlow()
      const ready = side === SIDE_SEND ? this.fastCount() < this.capacity : this.fastCount() > 0 || this.get(H_COUNT) > 0
      if (ready) Atomics.add(this.i32, this.h + (side === SIDE_SEND ? H_SEQ_SEND : H_SEQ_RECV), 1)
    } else if (side === SIDE_RECV && this.zReady()) {
      // The same re-check for the size-0 slot's lock-free senders (zero-slot.ts "Ordering").
      Atomics.add(this.i32, this.h + H_SEQ_RECV, 1)
    }
    return seen
  }

  /**
   * A select's offer on a size-0 channel (select/shared.ts "Offers"): like a
   * waiting plain sender's, but never a hand-off, so the only way the value
   * leaves the select is a receiver taking the offer, which the select sees
   * with `offerLocked` (and can refuse by withdrawing first). Returns OFFERED
   * (`ticket` set, registered as a waiting sender), WAIT (no slot for an
   * offer: registered, `seen` set) or BROKEN (unregistered). Under the lock.
   */
  selectOfferLocked(tid: number, num: number, bytes: Uint8Array | undefined, ool: number, flags: number, registered: boolean): number {
    if (this.get(H_RECV_OPEN) === 0) {
      if (registered) this.unregister(tid, SIDE_SEND)
      return BROKEN
    }
    if (!registered) this.register(tid, SIDE_SEND)
    if (this.hasRoom(ool === 0 ? 0 : bytes!.length)) {
      this.ticket = (this.get(H_HEAD_SEQ) + this.get(H_COUNT)) | 0
      this.push(ENTRY_OFFER | flags, num, bytes, ool)
      return OFFERED
    }
    this.seen = this.readSeq(SIDE_SEND)
    return WAIT
  }

  /** Withdraws one watcher of `side` (its case committed, or the select ended). Under the lock. */
  selectUnregisterLocked(side: number): void {
    const f = side === SIDE_SEND ? H_SEND_WAITING : H_RECV_WAITING
    Atomics.sub(this.i32, this.h + f, 1)
    const one = side === SIDE_SEND ? SELECT_SEND_ONE : SELECT_RECV_ONE
    this.set(H_SELECTS, this.get(H_SELECTS) - one)
    this.ownerAdd(threadId, O_SELECTS, -one)
    // Like a plain receiver's withdrawal: a value left in the ring may be for a
    // receiver that sleeps behind this one's registration.
    if (side === SIDE_RECV && (this.get(H_LIVE) > 0 || (this.fast && this.fastCount() > 0) || this.zReady())) this.bumpRecv()
  }

  unregister(tid: number, side: number): void {
    const f = side === SIDE_SEND ? H_SEND_WAITING : H_RECV_WAITING
    Atomics.sub(this.i32, this.h + f, 1)
    this.ownerAdd(tid, side === SIDE_SEND ? O_SEND_WAITING : O_RECV_WAITING, -1)
  }

  /**
   * Closes `n` handles of `side` (a handle closing, or a dead thread's). The
   * last sender wakes receivers (EndOfChannel once drained); the last receiver
   * drops the buffer (R4) and wakes senders (BrokenResourceError). Returns the
   * encoded values with endpoints that were dropped (the caller closes them
   * after unlocking). Under the lock.
   */
  closeLocked(side: number, n: number): Uint8Array[] {
    const dropped: Uint8Array[] = []
    if (side === SIDE_SEND) {
      const left = this.get(H_SEND_OPEN) - n
      this.set(H_SEND_OPEN, left)
      // The last sender: receivers may end. Any close: waiters of both sides
      // re-check whether they still need a keep-alive (waiting.ts); closes are rare.
      this.bumpRecv()
      this.bumpSend()
    } else {
      const left = this.get(H_RECV_OPEN) - n
      this.set(H_RECV_OPEN, left)
      if (left === 0) {
        if (this.fast) this.drainFastLocked(dropped)
        for (let k = 0, c = this.get(H_COUNT); k < c; k++) {
          const slot = (this.get(H_HEAD_IDX) + k) % this.slots
          if ((this.i32[this.meta + slot]! & ENTRY_KIND_MASK) === ENTRY_TOMBSTONE) continue
          const b = this.dropEntry(slot)
          if (b) dropped.push(b)
        }
        if (this.overflows) overflowDrop(this, dropped)
        // HEAD_SEQ is not advanced: a waiting sender's offer reads as "not taken" and, with RECV_OPEN = 0, as broken.
        this.set(H_HEAD_IDX, 0)
        this.set(H_COUNT, 0)
        this.set(H_LIVE, 0)
        this.set(H_HANDOFFS, 0)
      }
      this.bumpSend() // broken senders, or (not the last) keep-alives to re-check
      this.bumpRecv()
    }
    return dropped
  }

  /**
   * A dead thread's registered waiters vanish (R5), its select watchers with
   * them (`selects`, packed as H_SELECTS), and promises made to them are
   * released (R2). Under the lock.
   */
  forgetWaitersLocked(sendWaiting: number, recvWaiting: number, selects = 0): void {
    const sendWatchers = (selects >>> 15) & SELECT_FIELD_MASK
    const recvWatchers = selects & SELECT_FIELD_MASK
    this.set(H_SELECTS, this.get(H_SELECTS) - selects)
    this.set(H_SEND_WAITING, this.get(H_SEND_WAITING) - sendWaiting - sendWatchers)
    this.set(H_RECV_WAITING, this.get(H_RECV_WAITING) - recvWaiting - recvWatchers)
    // Promised values beyond the remaining plain waiters stay in the ring as values any receiver may take.
    const rw = this.plainReceiversLocked()
    if (this.get(H_HANDOFFS) > rw) this.set(H_HANDOFFS, rw < 0 ? 0 : rw)
    this.bumpSend()
    this.bumpRecv()
  }

  /** Registers the caller as waiting without trying (an earlier op of its thread waits: FIFO). Returns the futex value. */
  registerLocked(tid: number, side: number): number {
    this.register(tid, side)
    return this.readSeq(side)
  }

  /** True once no handle of either side is open anywhere: the block can be freed. */
  deadLocked(): boolean {
    return this.get(H_SEND_OPEN) === 0 && this.get(H_RECV_OPEN) === 0
  }

  /** Checks R1–R4, R6 and (weakly) R5 (tests; ring-check.ts). Under the lock. */
  checkInvariants(): string | undefined {
    return checkRing(this)
  }
}
