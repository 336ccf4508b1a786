/**
 * `select` cases on shared channels: the attempt under the ring lock, and the
 * record a waiting select queues on each shared channel side of its thread.
 *
 * Protocol (ring.ts "Select" states the ring's side of it):
 *  - An attempt is the non-waiting, unregistered one (`sendNowait` /
 *    `receiveNowait`'s rule, under the channel lock): it commits the case or
 *    changes nothing. Whoever attempts runs in the select's own thread.
 *  - A select that found no case ready registers each shared case as a
 *    *watcher* under that ring's lock (`selectRegisterLocked`: counted in
 *    SEND_/RECV_WAITING and H_SELECTS), after re-attempting it under the same
 *    lock ("has it become ready just now?"): a change after that attempt
 *    bumps the side's futex word, which the watcher's value predates.
 *  - The thread's dispatcher for that side (waiting.ts) wakes on the bump and
 *    calls `attemptLocked` of the queued records in order, under the lock. The
 *    first record whose attempt succeeds claims the select (S1, waiter.ts)
 *    and unregisters itself in the same critical section; its action, after
 *    the unlock, withdraws the select's other registrations (each under its
 *    own ring's lock) and wakes the task.
 *  - Withdrawing a record unregisters it under the lock, so a withdrawn
 *    watcher is never counted, and no other thread ever acted on it: a
 *    watcher is never promised a size-0 value (ring.ts).
 * So exactly one case commits, in the select's thread, and a cancelled
 * select (abort withdraws every record; nothing was claimed) changed nothing.
 *
 * Offers (size-0 channels). Watchers alone cannot make two selects meet on a
 * size-0 channel: neither side offers anything. So a waiting select with
 * size-0 shared send cases posts, for one of them (chosen at random), an
 * *offer* (`OfferRecord`; ring.ts `selectOfferLocked`): an entry any receiver
 * in any thread may take, as it takes a waiting plain sender's. The taker's
 * take is that case's commit. The select keeps "exactly one case commits"
 * with two rules:
 *  - O1 at most one offer per select is in a ring at any time;
 *  - O2 before the select commits any other case, fails, or gives up
 *       (cancel, a closed handle), it withdraws the offer under its ring's
 *       lock (`settleOffer`); a withdrawal that finds the offer taken means
 *       that case committed, and nothing else is done.
 * A watcher woken while the offer is live therefore does not attempt its case
 * under its own lock (taking the offer's lock there could deadlock against
 * another thread doing the same): it schedules `OfferRecord.resolve`, which,
 * holding no lock, withdraws the offer (O2), attempts every other case once,
 * and re-posts the offer if none was ready. Its own receive case never takes
 * its own offer: the offer is withdrawn whenever the select attempts
 * anything else (the record and its resolve step: select/offer.ts).
 * selectSync offers by the same rules in its blocking loop (`SyncOffer`,
 * select/sync.ts). A memory case of a select with a live offer keeps O2 too:
 * the memory partner that pairs with its entry (another task of this thread,
 * synchronously) settles the offer before claiming, and if the offer was
 * taken the entry refuses and the partner serves its next waiter as if the
 * entry were not there (select/waiter.ts `MemoryEntry.claim`,
 * memory-channel-state.ts `offer`/`take`).
 */
import { threadId } from 'node:worker_threads'
import * as __errors from '../errors.ts'
import * as __arena from '../shared/arena.ts'
import * as __layout from '../shared/layout.ts'
import * as __ring from '../shared/ring.ts'
import type { Ring } from '../shared/ring.ts'
import type { SharedReceiveChannel } from '../shared/receive-channel.ts'
import type { SharedSendChannel } from '../shared/send-channel.ts'
import * as __waiting from '../shared/waiting.ts'
import { SharedOp } from '../shared/waiting.ts'
import type { Incoming, LocalChannel, LocalSide, Outgoing } from '../shared/waiting.ts'
import * as __waiter from './waiter.ts'
import type { Registration, SelectWaiter } from './waiter.ts'
import type { OfferRecord } from './offer.ts'
// Local bindings (see the note in shared/ring.ts: tsx turns imports into getter reads).
const { ClosedResourceError } = __errors
const { DONE, END, BROKEN, WOULD_BLOCK, SIDE_SEND, SIDE_RECV } = __ring
const { H_HANDOFFS, H_LIVE } = __layout
const { captureIncoming } = __waiting
const { END_MARK, BROKEN_MARK } = __waiter

/** What the last successful receive attempt took, captured under the lock; `takeIncoming()` hands it on. */
let taken: Incoming | undefined

/** The Incoming of the last successful receive attempt (once). */
export function takeIncoming(): Incoming | undefined {
  const v = taken
  taken = undefined
  return v
}

/**
 * One attempt of a shared case, under `ring`'s lock: DONE (a receive took a
 * value, captured in `taken`; a send's value is in the ring: call
 * `out.committed()` after unlocking), END, BROKEN, or WOULD_BLOCK (nothing
 * changed).
 */
export function attemptLocked(ring: Ring, receive: boolean, out: Outgoing | undefined): number {
  if (receive) {
    const r = ring.receiveLocked(threadId, false, true)
    if (r === DONE) taken = captureIncoming(ring)
    return r
  }
  const o = out!
  return ring.sendLocked(threadId, o.num, o.bytes, o.ool, o.flags, false, true)
}

/**
 * After unlocking: a successful attempt's outcome as the select's value:
 * END_MARK, BROKEN_MARK (the send's block freed), undefined for a delivered
 * send (its endpoints move now), or the received value decoded (`incoming`).
 */
export function outcome(r: number, channel: object, out: Outgoing | undefined, incoming: Incoming | undefined): unknown {
  if (r === END) return END_MARK
  if (r === BROKEN) {
    freeOut(out)
    return BROKEN_MARK
  }
  if (out !== undefined) {
    out.committed()
    return undefined
  }
  return (channel as SharedReceiveChannel<unknown>).decode(incoming!)
}

/** A send case's value that was never committed gives its arena block back. */
export function freeOut(out: Outgoing | undefined): void {
  if (out !== undefined && out.ool !== 0) {
    __arena.free(out.ool)
    out.ool = 0
  }
}

/**
 * A waiting select's case on a shared channel side, queued with the thread's
 * plain operations of that side (waiting.ts LocalSide). Never parked itself:
 * the SelectWaiter is.
 */
export class SharedCaseRecord extends SharedOp<void> implements Registration {
  readonly waitsOn = 'select'
  override readonly fromSelect = true
  /** Counted in its ring (selectRegisterLocked) until committed or withdrawn. */
  registered = true

  readonly sel: SelectWaiter
  /** The case's index in the select call. */
  readonly index: number
  /** A send case's value, encoded (undefined for a receive case). */
  readonly out: Outgoing | undefined

  constructor(side: LocalSide, owner: object, sel: SelectWaiter, index: number, out: Outgoing | undefined) {
    super(side, owner)
    this.sel = sel
    this.index = index
    this.out = out
  }

  /**
   * Never holds back this thread's later senders (waiting.ts FIFO): a select's
   * send case is retried on every wake-up like an offer already in line.
   */
  get inLine(): boolean {
    return true
  }

  /** Dispatcher, under the lock: try the case; on success claim the select (S1) and commit after unlocking. */
  attemptLocked(): (() => void) | undefined {
    const sel = this.sel
    if (sel.done) return undefined // a sibling claimed it in this round; its action withdraws this record
    const ring = this.side.local.ring
    const side = this.side.side
    if (sel.offer !== undefined) {
      const offer = sel.offer as OfferRecord
      if (side === SIDE_RECV && offer.side.local.ring === ring) return this.receiveBesideOwnOfferLocked(offer)
      // O2: the offer goes first, without this lock held (see "Offers").
      offer.scheduleResolve()
      return undefined
    }
    const r = attemptLocked(ring, side === SIDE_RECV, this.out)
    if (r === WOULD_BLOCK) return undefined
    sel.claim()
    ring.selectUnregisterLocked(side)
    this.registered = false
    const v = r === DONE && side === SIDE_RECV ? takeIncoming() : undefined
    return () => {
      let value: unknown
      try {
        value = outcome(r, this.owner, this.out, v)
      } catch (e) {
        sel.failWith(this, e) // a user codec's decode threw: the value was taken, as for receive()
        return
      }
      sel.commit(this, this.index, value)
    }
  }

  /**
   * A receive case on the channel where its own select's offer sits, under
   * that channel's lock. Every post of the offer wakes this watcher, so it
   * must not answer by withdrawing and re-posting (that would wake it again,
   * for ever): it acts only if an entry other than its own offer can be taken
   * (HANDOFFS = 0: no value promised to plain receivers; LIVE > 1: another
   * entry besides the offer), and then withdraws the offer and takes under
   * this one lock (O2).
   */
  private receiveBesideOwnOfferLocked(offer: OfferRecord): (() => void) | undefined {
    const ring = this.side.local.ring
    if (ring.get(H_HANDOFFS) !== 0 || ring.get(H_LIVE) <= 1) return undefined
    const sel = this.sel
    const w = offer.withdrawOfferLocked()
    sel.offer = undefined
    sel.claim()
    if (w !== WOULD_BLOCK) return () => offer.commitOffer(w === BROKEN ? BROKEN_MARK : undefined) // the offer was taken first
    const r = attemptLocked(ring, true, undefined)
    ring.selectUnregisterLocked(SIDE_RECV)
    this.registered = false
    const v = r === DONE ? takeIncoming() : undefined
    return () => {
      let value: unknown
      try {
        value = outcome(r, this.owner, undefined, v)
      } catch (e) {
        sel.failWith(this, e)
        return
      }
      sel.commit(this, this.index, value)
    }
  }

  /** Under the lock: this case's handle closed while the select waited. */
  closeLocked(): () => void {
    const ring = this.side.local.ring
    if (this.registered) {
      ring.selectUnregisterLocked(this.side.side)
      this.registered = false
    }
    const sel = this.sel
    const what = this.side.side === SIDE_SEND ? 'SharedSendChannel' : 'SharedReceiveChannel'
    return () => {
      if (sel.done || (sel.offer !== undefined && sel.offer.settleOffer())) return // O2: a taken offer commits instead
      sel.claim()
      freeOut(this.out)
      sel.failWith(this, new ClosedResourceError(`select: this ${what} was closed while select() waited on it`))
    }
  }

  /** S2: takes the record back: out of the thread's queue, and uncounted under the lock. */
  withdraw(): void {
    this.side.remove(this)
    if (this.registered) {
      const ring = this.side.local.ring
      ring.lock()
      try {
        ring.selectUnregisterLocked(this.side.side)
      } finally {
        ring.unlock()
      }
      this.registered = false
    }
  }

  /** Never parked (the SelectWaiter is): nothing to abort here. */
  abort(): boolean {
    return false
  }
}

/**
 * Pass 2 for one shared case: under its lock, attempt once more, and if still
 * not ready register a watcher and queue a record. Returns the attempt's
 * result (WOULD_BLOCK: registered).
 */
export function registerShared(
  sel: SelectWaiter,
  index: number,
  handle: SharedSendChannel<unknown> | SharedReceiveChannel<unknown>,
  receive: boolean,
  out: Outgoing | undefined,
): number {
  const l: LocalChannel = handle.selectLocal()
  const ring = l.ring
  const sideNo = receive ? SIDE_RECV : SIDE_SEND
  let r: number
  let seen = 0
  let elsewhere = false
  const side = receive ? l.recv : l.send
  // FIFO within the thread: plain operations of this side that wait here came first.
  const behind = receive ? side.queue.some((op) => !op.fromSelect) : side.queue.some((op) => !(op as unknown as { inLine: boolean }).inLine)
  ring.lock()
  try {
    r = behind ? WOULD_BLOCK : attemptLocked(ring, receive, out)
    if (r === WOULD_BLOCK) {
      seen = ring.selectRegisterLocked(sideNo)
      elsewhere = ring.elsewhereLocked(threadId)
    }
  } finally {
    ring.unlock()
  }
  if (r === WOULD_BLOCK) {
    const rec = new SharedCaseRecord(side, handle, sel, index, out)
    sel.regs.push(rec)
    side.enqueue(rec, seen, elsewhere)
  }
  return r
}
