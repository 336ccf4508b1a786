/**
 * A waiting `select`: one `SelectWaiter` (the parked operation, Go's
 * goroutine in `selectgo`) and one registration per case — a `MemoryEntry` in
 * a memory channel's wait queue, or a shared case record (select/shared.ts)
 * in the thread's queue of a shared channel side. Every registration points
 * to the one waiter, and the waiter's `done` flag is the single commit point.
 *
 * Invariants:
 *  - S1 `done` goes false → true once, by `claim()`; whoever claims it decides
 *       the outcome (a case committed, the select failed, or it was
 *       cancelled) and nobody else changes anything on its behalf.
 *  - S2 every registration of a waiter that is not done is live: a memory
 *       entry is linked in its queue, a shared record is queued and counted in
 *       its ring. The claimer withdraws every other registration
 *       synchronously, before any other code of this thread runs, so a queue
 *       never holds an entry of a finished select (Go dequeues the losing
 *       sudogs under the locks; one thread needs no lock for memory channels,
 *       and a shared record's withdrawal takes its ring's lock).
 *  - S3 a registration commits its case only through `claim()`: a plain
 *       operation (or another select) that pairs with a memory entry calls
 *       the entry's `deliver`/`wake`/`end`, which claims; a shared record
 *       claims under its ring's lock in the dispatcher (select/shared.ts).
 *       Nothing in another thread ever completes a select: it only changes the
 *       ring and wakes this thread (ring.ts "Select").
 *  - S4 a select never pairs with itself: it registers only after its poll
 *       found no case ready, all its memory entries are linked in one
 *       synchronous pass, and pairing happens only when *another* operation
 *       arrives at a queue; on a size-0 memory channel its send and receive
 *       entries may then wait in both queues at once (memory-channel-state
 *       M1 allows exactly this), and whoever pairs with one withdraws both.
 *
 * Memory entries duck-type the channel engine's waiting records (SendOp and
 * ReceiveOp in memory-channel-state.ts): the engine shifts the longest waiter
 * off a queue and calls `wake()` (a sender's value was taken), `deliver(v)`
 * (a receiver got v), `end()` (the channel ended) or `fail(e)` (closed,
 * broken), and reads `owner` and `value`. So plain send/receive paths gained
 * no code for select: one queue, whoever waits in it.
 */
import { Parked } from '@gotrio/runtime/lowlevel'
import type { QueueNode, WaiterQueue } from '../waiter-queue.ts'

/** What a receive case got when its channel ended (select.ts turns it into onEnd / EndOfChannel). */
export const END_MARK: unique symbol = Symbol('end of channel')
/** What a send case got when every receiver had closed (select.ts rejects with BrokenResourceError). */
export const BROKEN_MARK: unique symbol = Symbol('broken')

/**
 * The select's one offer on a size-0 shared channel, if it posted one
 * (select/shared.ts "Offers"): a receiver in any thread may take it at any
 * moment, so before the select commits anything else or gives up, the offer
 * is withdrawn, and a withdrawal that finds it taken commits that case.
 */
export interface OfferHook {
  /** Withdraws the offer. True if it had been taken (or its channel broke): the select is then committed by it. */
  settleOffer(): boolean
}

/** One registration of a waiting select (a memory entry or a shared case record). */
export interface Registration {
  /** Takes this registration back (S2); the select is already claimed. Idempotent. */
  withdraw(): void
}

/** A `select` that waits: the parked operation, and the commit point of its registrations. */
export class SelectWaiter extends Parked<void> {
  readonly waitsOn = 'select'
  /** S1: set once, by claim(). */
  done = false
  /** The committed case's index (valid once woken). */
  index = -1
  /** The committed case's outcome: the received value, END_MARK, BROKEN_MARK, or undefined for a send. */
  value: unknown = undefined
  /** Every registration, in the order made. */
  readonly regs: Registration[] = []
  /** The live offer, if any (a select with a size-0 shared send case posts one). */
  offer: OfferHook | undefined = undefined

  /** S1: the single commit point. True if the caller now decides the outcome. */
  claim(): boolean {
    if (this.done) return false
    this.done = true
    return true
  }

  /** S2: withdraws every registration but `keep`. */
  withdrawAll(keep?: Registration): void {
    const regs = this.regs
    for (let k = 0; k < regs.length; k++) if (regs[k] !== keep) regs[k]!.withdraw()
  }

  /** After claim(): case `index` committed with `value`; withdraws the others and wakes the task. */
  commit(from: Registration, index: number, value: unknown): void {
    this.withdrawAll(from)
    this.index = index
    this.value = value
    this.wake()
  }

  /** After claim(): the select fails (a handle closed while it waited); nothing committed. */
  failWith(from: Registration, error: unknown): void {
    this.withdrawAll(from)
    this.fail(error)
  }

  /** Cancellation (Parked contract): withdraw everything unless a case already committed. */
  abort(): boolean {
    if (this.done) return false
    if (this.offer !== undefined && this.offer.settleOffer()) return false // too late: a receiver took the offer
    if (!this.claim()) return false
    this.withdrawAll()
    return true
  }
}

/** A select's case waiting in a memory channel's queue. Duck-types SendOp / ReceiveOp (see above). */
export class MemoryEntry implements QueueNode, Registration {
  queue: WaiterQueue<QueueNode> | undefined = undefined
  qPrev: QueueNode | undefined = undefined
  qNext: QueueNode | undefined = undefined
  /** Read by the engine's receive path for ReceiveOp (plain `receive`, not an iterator). */
  readonly iter = false
  readonly sel: SelectWaiter
  /** The case's index in the select call. */
  readonly index: number
  /** The handle of the case (closing it fails this select with ClosedResourceError). */
  readonly owner: object
  /** A send case's value (taken by the receiver that pairs with it). */
  readonly value: unknown

  constructor(sel: SelectWaiter, index: number, owner: object, value: unknown) {
    this.sel = sel
    this.index = index
    this.owner = owner
    this.value = value
  }

  get waitsOn(): string {
    return 'select'
  }

  withdraw(): void {
    const q = this.queue
    if (q !== undefined) q.remove(this)
  }

  /**
   * S1 for this entry, after O2 (select/shared.ts "Offers"): a live offer of
   * the select is withdrawn first, and if a receiver in another thread had
   * already taken it, the select committed by that take and this entry
   * *refuses*: it returns false and its partner goes on as if the entry had
   * not been there (the engine serves the next waiter, memory-channel-state).
   */
  private claim(): boolean {
    const sel = this.sel
    if (sel.done) return false
    if (sel.offer !== undefined && sel.offer.settleOffer()) return false
    return sel.claim()
  }

  /** A receiver took this send case's value (S3). False: refused (the receiver must not use the value). */
  wake(): boolean {
    if (!this.claim()) return false
    this.sel.commit(this, this.index, undefined)
    return true
  }

  /** The engine wakes a buffered channel's sender later (memory-channel-state `wakeLater`); a select commits now. */
  wakeLater(): boolean {
    return this.wake()
  }

  /** A sender handed this receive case `v` (S3). False: refused (the sender still holds `v`). */
  deliver(v: unknown): boolean {
    if (!this.claim()) return false
    this.sel.commit(this, this.index, v)
    return true
  }

  /** The last sender closed: this receive case is ready with END_MARK. */
  end(): void {
    if (this.claim()) this.sel.commit(this, this.index, END_MARK)
  }

  /** This case's handle closed (ClosedResourceError), or every receiver did (BrokenResourceError). */
  fail(error: unknown): boolean {
    if (!this.claim()) return false
    this.sel.failWith(this, error)
    return true
  }
}
