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
 * size-0 channel: neither side offers anything. So a select whose cases are
 * all shared posts, for one of its size-0 send cases (chosen at random), an
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
 * anything else. selectSync offers by the same rules in its blocking loop
 * (`SyncOffer`, select/sync.ts). Selects with a memory case post no offer (a
 * memory partner commits synchronously, without asking).
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
// Local bindings (see the note in shared/ring.ts: tsx turns imports into getter reads).
const { ClosedResourceError } = __errors
const { DONE, END, BROKEN, WOULD_BLOCK, WAIT, OFFERED, SIDE_SEND, SIDE_RECV } = __ring
const { B_INLINE_START, H_HANDOFFS, H_LIVE } = __layout
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
 * A select's offer on a size-0 shared channel ("Offers" above): queued with the
 * thread's senders of that channel, whose dispatcher wakes it when a receiver
 * takes the offer (the take bumps SEQ_SEND).
 *
 * States: `registered` (counted as a waiting sender) with `offered` (the entry
 * is in the ring, `ticket`) or not (no slot for an offer yet); or not
 * registered (withdrawn, or never posted).
 */
export class OfferRecord extends SharedCaseRecord {
  /** The offer's entry is in the ring. */
  offered = false
  /** The offer's ticket (ring.ts) while `offered`. */
  ticket = 0
  /** A resolve() is queued (at most one at a time). */
  private resolving = false
  /** The select's other (watcher) records, to attempt in resolve(). */
  others: SharedCaseRecord[] = []
  /** From the last post(), read under its lock: the futex value to wait on, and whether another thread may take the offer. */
  seen = 0
  elsewhere = false

  /** Dispatcher, under the lock: was the offer taken? (or, waiting for a slot, post it now) */
  override attemptLocked(): (() => void) | undefined {
    const sel = this.sel
    if (sel.done || !this.registered) return undefined
    const ring = this.side.local.ring
    const o = this.out!
    let r: number
    if (this.offered) {
      r = ring.offerLocked(threadId, this.ticket, false)
      if (r === WAIT) return undefined
      this.offered = false
      o.ool = 0 // a receiver owns the block now, or the ring dropped it (BROKEN)
    } else {
      r = ring.selectOfferLocked(threadId, o.num, o.bytes, o.ool, o.flags, true)
      if (r === OFFERED) {
        this.posted(ring)
        return undefined
      }
      if (r === WAIT) return undefined
    }
    // DONE (taken) or BROKEN: unregistered by the ring.
    this.registered = false
    sel.claim()
    sel.offer = undefined
    return () => {
      if (r === BROKEN) freeOut(o)
      sel.commit(this, this.index, r === BROKEN ? BROKEN_MARK : undefined)
    }
  }

  /** Under the lock, after OFFERED: the entry is in the ring (its endpoints move with it). */
  private posted(ring: Ring): void {
    this.offered = true
    this.ticket = ring.ticket
    this.out!.committed()
  }

  /**
   * O2: withdraws the offer (lock held by the caller when `locked`). Returns
   * WOULD_BLOCK (withdrawn, or nothing was posted), DONE (a receiver had
   * taken it) or BROKEN (the receivers closed; the ring dropped it).
   */
  withdrawOfferLocked(): number {
    const ring = this.side.local.ring
    if (!this.registered) return WOULD_BLOCK
    this.registered = false
    if (!this.offered) {
      ring.withdrawSendLocked(threadId)
      return WOULD_BLOCK
    }
    this.offered = false
    const o = this.out!
    const r = ring.offerLocked(threadId, this.ticket, true)
    o.ool = 0 // withdrawn (the ring freed the block), taken, or dropped
    if (r === WOULD_BLOCK) o.uncommitted()
    return r
  }

  /**
   * After claim(): this offer's case committed, found outside the dispatcher
   * (which removes what it completes): the record leaves its queue too (S2), or
   * it would stay there, done, for good: the side's dispatcher would never
   * stop and the thread's parked count would never fall.
   */
  commitOffer(value: unknown): void {
    this.side.remove(this)
    this.sel.commit(this, this.index, value)
  }

  /** OfferHook: withdraw; if the offer was taken (or broke), commit this case and say so. */
  settleOffer(): boolean {
    const ring = this.side.local.ring
    let r: number
    ring.lock()
    try {
      r = this.withdrawOfferLocked()
    } finally {
      ring.unlock()
    }
    const sel = this.sel
    sel.offer = undefined
    if (r === WOULD_BLOCK) return false
    sel.claim()
    this.commitOffer(r === BROKEN ? BROKEN_MARK : undefined)
    return true
  }

  /** Posts the offer (again), under the lock; registered is false on entry. Returns the ring's answer (BROKEN: nothing posted). */
  private postLocked(ring: Ring): number {
    const o = this.out!
    if (o.ool === 0 && o.bytes !== undefined && o.bytes.length > ring.slotBytes - B_INLINE_START) {
      o.ool = __arena.alloc(o.bytes.length) // a withdrawn offer's block was freed with it
      ring.a.u8.set(o.bytes, o.ool)
    }
    const r = ring.selectOfferLocked(threadId, o.num, o.bytes, o.ool, o.flags, false)
    if (r === BROKEN) return r
    if (r === OFFERED) this.posted(ring)
    this.registered = true
    this.seen = r === OFFERED ? ring.readSeq(SIDE_SEND) : ring.seen
    this.elsewhere = ring.elsewhereLocked(threadId)
    this.sel.offer = this
    return r
  }

  /** Posts the offer (again). Returns the ring's answer; BROKEN commits nothing yet. */
  post(): number {
    const ring = this.side.local.ring
    ring.lock()
    try {
      return this.postLocked(ring)
    } finally {
      ring.unlock()
    }
  }

  scheduleResolve(): void {
    if (this.resolving) return
    this.resolving = true
    queueMicrotask(() => {
      this.resolving = false
      this.resolve()
    })
  }

  /**
   * A watcher woke while the offer was live: withdraw the offer (O2), attempt
   * the other cases once, re-post if none was ready. Cases on the offer's own
   * channel are attempted under the same lock as the withdrawal (and, if the
   * select waits on no other channel, the re-post too), so two selects
   * offering on one size-0 channel always find each other's offer instead of
   * both withdrawing at once (Go's TestSelfSelect across threads).
   */
  resolve(): void {
    const sel = this.sel
    if (sel.done || sel.offer !== this) return
    const ring = this.side.local.ring
    const order = shuffled(this.others)
    let w: number
    let hit: { rec: SharedCaseRecord; r: number; v: Incoming | undefined } | undefined
    let reposted = -1
    ring.lock()
    try {
      w = this.withdrawOfferLocked()
      if (w === WOULD_BLOCK) {
        for (const rec of order) {
          if (rec.side.local.ring !== ring) continue
          hit = attemptRecordLocked(rec)
          if (hit !== undefined) break
        }
        if (hit === undefined && order.every((rec) => rec.side.local.ring === ring)) reposted = this.postLocked(ring)
      }
    } finally {
      ring.unlock()
    }
    if (w !== WOULD_BLOCK) {
      sel.offer = undefined
      sel.claim()
      this.commitOffer(w === BROKEN ? BROKEN_MARK : undefined)
      return
    }
    if (hit === undefined && reposted === -1) {
      sel.offer = undefined
      for (const rec of order) {
        if (rec.side.local.ring === ring) continue
        const r = rec.side.local.ring
        r.lock()
        try {
          hit = attemptRecordLocked(rec)
        } finally {
          r.unlock()
        }
        if (hit !== undefined) break
      }
      if (hit === undefined) reposted = this.post()
    }
    if (hit !== undefined) {
      sel.offer = undefined
      hit.rec.side.remove(hit.rec)
      sel.claim()
      let value: unknown
      try {
        value = outcome(hit.r, hit.rec.owner, hit.rec.out, hit.v)
      } catch (e) {
        sel.failWith(hit.rec, e)
        return
      }
      sel.commit(hit.rec, hit.rec.index, value)
      return
    }
    if (reposted === BROKEN) {
      sel.claim()
      freeOut(this.out)
      this.commitOffer(BROKEN_MARK)
    }
  }

  /** Under the lock: this offer's send handle closed while the select waited. */
  override closeLocked(): () => void {
    const sel = this.sel
    const r = this.withdrawOfferLocked()
    sel.offer = undefined
    return () => {
      if (sel.done) return
      sel.claim()
      if (r === WOULD_BLOCK) {
        freeOut(this.out)
        sel.failWith(this, new ClosedResourceError('select: this SharedSendChannel was closed while select() waited on it'))
      } else sel.commit(this, this.index, r === BROKEN ? BROKEN_MARK : undefined) // too late: taken (or broken)
    }
  }

  /** S2: the select is claimed (O2 already withdrew the offer): out of the queue. */
  override withdraw(): void {
    this.side.remove(this)
    if (this.registered) {
      // Only reached if a claim skipped O2: a bug. Withdraw anyway, so the ring stays consistent.
      const ring = this.side.local.ring
      ring.lock()
      try {
        this.withdrawOfferLocked()
      } finally {
        ring.unlock()
      }
    }
  }
}

/** Under the record's ring lock: one attempt of a watcher; on success it is unregistered and what it got is returned. */
function attemptRecordLocked(rec: SharedCaseRecord): { rec: SharedCaseRecord; r: number; v: Incoming | undefined } | undefined {
  const ring = rec.side.local.ring
  const receive = rec.side.side === SIDE_RECV
  const r = attemptLocked(ring, receive, rec.out)
  if (r === WOULD_BLOCK) return undefined
  ring.selectUnregisterLocked(rec.side.side)
  rec.registered = false
  return { rec, r, v: receive && r === DONE ? takeIncoming() : undefined }
}

function shuffled<T>(xs: readonly T[]): T[] {
  const out = xs.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

/**
 * Pass 2's last step for a select whose cases are all shared: posts the offer
 * of size-0 send case `index` (O1). Returns WOULD_BLOCK (posted or waiting for
 * a slot: queued) or BROKEN (nothing posted; the caller commits the broken case).
 */
export function registerOffer(sel: SelectWaiter, index: number, handle: SharedSendChannel<unknown>, out: Outgoing): number {
  const l: LocalChannel = handle.selectLocal()
  const rec = new OfferRecord(l.send, handle, sel, index, out)
  rec.registered = false
  rec.others = sel.regs.slice() as SharedCaseRecord[] // all shared: every other registration is a watcher
  const r = rec.post()
  if (r === BROKEN) return BROKEN
  sel.regs.push(rec)
  l.send.enqueue(rec, rec.seen, rec.elsewhere)
  return WOULD_BLOCK
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

/**
 * selectSync's offer ("Offers" above, rules O1 and O2, in a blocking loop
 * instead of a dispatcher): one size-0 send case whose value any receiver in
 * any thread may take; the take is that case's commit. The loop withdraws it
 * (`withdrawLocked`) before it attempts any other case, commits, fails or gives
 * up, and posts it again when nothing was ready.
 *
 * States as OfferRecord's: `registered` (counted as a waiting sender) with
 * `offered` (the entry is in the ring, `ticket`) or not (no slot yet); or
 * neither (withdrawn, or not posted).
 */
export class SyncOffer {
  readonly ring: Ring
  readonly out: Outgoing
  registered = false
  offered = false
  ticket = 0

  constructor(ring: Ring, out: Outgoing) {
    this.ring = ring
    this.out = out
  }

  /** Under the lock: posts the offer (again). OFFERED, WAIT (registered, no slot yet) or BROKEN (nothing posted). */
  postLocked(): number {
    const ring = this.ring
    const o = this.out
    if (o.ool === 0 && o.bytes !== undefined && o.bytes.length > ring.slotBytes - B_INLINE_START) {
      o.ool = __arena.alloc(o.bytes.length) // a withdrawn offer's block was freed with it
      ring.a.u8.set(o.bytes, o.ool)
    }
    const r = ring.selectOfferLocked(threadId, o.num, o.bytes, o.ool, o.flags, this.registered)
    if (r === BROKEN) {
      this.registered = false
      return r
    }
    this.registered = true
    if (r === OFFERED) {
      this.offered = true
      this.ticket = ring.ticket
      o.committed()
    }
    return r
  }

  /** Under the lock: DONE (a receiver took it), BROKEN (dropped, or nothing posted), else WOULD_BLOCK (still out; posted now if it waited for a slot). */
  checkLocked(): number {
    if (!this.registered) return WOULD_BLOCK
    if (!this.offered) return this.postLocked() === BROKEN ? BROKEN : WOULD_BLOCK
    const r = this.ring.offerLocked(threadId, this.ticket, false)
    if (r === WAIT) return WOULD_BLOCK
    this.registered = this.offered = false
    this.out.ool = 0 // a receiver owns the block now, or the ring dropped it
    return r
  }

  /** Under the lock, O2: WOULD_BLOCK (withdrawn, or nothing was out), DONE (taken first) or BROKEN (dropped). */
  withdrawLocked(): number {
    if (!this.registered) return WOULD_BLOCK
    this.registered = false
    if (!this.offered) {
      this.ring.withdrawSendLocked(threadId)
      return WOULD_BLOCK
    }
    this.offered = false
    const r = this.ring.offerLocked(threadId, this.ticket, true)
    this.out.ool = 0 // withdrawn (the ring freed the block), taken, or dropped
    if (r === WOULD_BLOCK) this.out.uncommitted()
    return r
  }
}
