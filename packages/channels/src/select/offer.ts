/**
 * A select's offer on a size-0 shared channel (select/shared.ts "Offers": rules
 * O1, O2): the record queued with its thread's senders, its withdrawal, and
 * the `resolve` step that withdraws it, attempts the other cases and posts it
 * again. Split from shared.ts, which keeps the watcher record it extends.
 */
import { threadId } from 'node:worker_threads'
import * as __errors from '../errors.ts'
import * as __arena from '../shared/arena.ts'
import * as __layout from '../shared/layout.ts'
import * as __ring from '../shared/ring.ts'
import type { Ring } from '../shared/ring.ts'
import type { SharedSendChannel } from '../shared/send-channel.ts'
import type { Incoming, LocalChannel, Outgoing } from '../shared/waiting.ts'
import * as __shared from './shared.ts'
import { SharedCaseRecord } from './shared.ts'
import * as __waiter from './waiter.ts'
import type { SelectWaiter } from './waiter.ts'
// Local bindings (see the note in shared/ring.ts: tsx turns imports into getter reads).
const { ClosedResourceError } = __errors
const { DONE, BROKEN, WOULD_BLOCK, WAIT, OFFERED, SIDE_SEND, SIDE_RECV } = __ring
const { B_INLINE_START } = __layout
const { attemptLocked, outcome, freeOut, takeIncoming } = __shared
const { BROKEN_MARK } = __waiter

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
 * Pass 2's last step for a select with a size-0 shared send case: posts the offer
 * of size-0 send case `index` (O1). Returns WOULD_BLOCK (posted or waiting for
 * a slot: queued) or BROKEN (nothing posted; the caller commits the broken case).
 */
export function registerOffer(sel: SelectWaiter, index: number, handle: SharedSendChannel<unknown>, out: Outgoing): number {
  const l: LocalChannel = handle.selectLocal()
  const rec = new OfferRecord(l.send, handle, sel, index, out)
  rec.registered = false
  // The watchers, to attempt in resolve(); memory entries need no attempt: a memory partner arrives at them (waiter.ts `claim`).
  rec.others = sel.regs.filter((r): r is SharedCaseRecord => r instanceof SharedCaseRecord)
  const r = rec.post()
  if (r === BROKEN) return BROKEN
  sel.regs.push(rec)
  l.send.enqueue(rec, rec.seen, rec.elsewhere)
  return WOULD_BLOCK
}
