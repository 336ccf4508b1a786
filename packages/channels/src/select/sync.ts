/**
 * `selectSync`'s step 3 (select.ts): register on every case, then block the
 * worker thread with `Atomics.wait` and retry until one case commits.
 *
 * Protocol (the async select's, select/shared.ts, in one blocking loop):
 *  - Every case but the offered one registers a *watcher* under its ring's
 *    lock (`selectRegisterLocked`), after re-attempting it there; a change
 *    after that attempt bumps the side's futex word, whose value the watcher
 *    read (ring.ts "Wake-ups"), so a wait on it cannot miss the change.
 *  - One size-0 send case, chosen at random, is *offered* instead
 *    (`SyncOffer`): an entry any receiver in any thread may take, as it takes
 *    a waiting plain sender's; the take is that case's commit. So a selectSync
 *    meets another select (sync or not) on a size-0 channel.
 *  - O1: at most one offer is out. O2: before the loop attempts any other
 *    case, commits, fails or gives up (cancellation), it withdraws the offer
 *    under its ring's lock; a withdrawal that finds it taken means that case
 *    committed, and nothing else is done. Cases on the offer's own ring are
 *    attempted, and the offer posted again, in the same critical section as
 *    reading their futex words, so the re-post's own bump is not taken for a
 *    change (a select with a send and a receive case on one size-0 channel
 *    would otherwise wake itself for ever) and no change is missed.
 *  - One `Atomics.wait` watches one word, so with several cases the thread
 *    waits on each case's word in turn, in slices growing from MIN_SLICE_MS to
 *    MAX_MULTI_SLICE_MS, and re-reads all of them between slices.
 * So exactly one case commits, in this thread, and a cancelled selectSync
 * committed nothing (unless its offer had been taken: then that case did).
 */
import * as __lowlevel from '@gotrio/runtime/lowlevel'
import { threadId } from 'node:worker_threads'
import * as __arena from '../shared/arena.ts'
import * as __layout from '../shared/layout.ts'
import * as __ring from '../shared/ring.ts'
import type { Ring } from '../shared/ring.ts'
import type { SharedReceiveChannel } from '../shared/receive-channel.ts'
import type { SharedSendChannel } from '../shared/send-channel.ts'
import type { Outgoing } from '../shared/waiting.ts'
import * as __case from './case.ts'
import type { SelectCase } from './case.ts'
import * as __order from './order.ts'
import * as __shared from './shared.ts'
import * as __waiter from './waiter.ts'
// Local bindings (see the note in shared/ring.ts: tsx turns imports into getter reads).
const { checkCancelledSync, syncWaitBegin, syncWaitSlice } = __lowlevel
const { RECEIVE } = __case
const { identity, drawNext, offerCase } = __order
const { attemptLocked, outcome, takeIncoming, freeOut } = __shared
const { BROKEN_MARK } = __waiter
const { WOULD_BLOCK, DONE, BROKEN, WAIT, OFFERED, SIDE_SEND, SIDE_RECV } = __ring
const { H_SEQ_RECV, H_SEQ_SEND, B_INLINE_START } = __layout

type AnyCase = SelectCase<unknown>
type SharedHandle = SharedSendChannel<unknown> | SharedReceiveChannel<unknown>

const SPINS = 200
/** The longest single Atomics.wait of selectSync (cancellation is seen between slices, as in sync.ts). */
const SLICE_MS = 20
/** With several cases, waits rotate over their futex words in slices growing from MIN to MAX_MULTI_SLICE_MS. */
const MIN_SLICE_MS = 0.05
const MAX_MULTI_SLICE_MS = 2

/** The committed case's outcome, as select.ts's `got` (a received value, END_MARK, BROKEN_MARK, or undefined). */
let got: unknown

/** The outcome of the last waitSync (once). */
export function syncGot(): unknown {
  const v = got
  got = undefined
  return v
}

/**
 * Registers a watcher per case (and the offer), then waits and retries until
 * one commits. Returns its index; its outcome is `syncGot()`. The caller has
 * begun the sync wait (syncWaitBegin) and ends it.
 */
export function waitSync(cases: readonly AnyCase[], outs: (Outgoing | undefined)[] | undefined): number {
  const n = cases.length
  const rings: Ring[] = []
  const seqIndex: number[] = []
  const seen: number[] = []
  const sides: number[] = []
  /** Watchers registered so far (the offered case has none). */
  const watching: boolean[] = []
  const unwatchAll = (skip: number): void => {
    for (let j = 0; j < n; j++) {
      if (j === skip || !watching[j]) continue
      const ring = rings[j]!
      ring.lock()
      ring.selectUnregisterLocked(sides[j]!)
      ring.unlock()
      watching[j] = false
    }
  }
  const offerAt = offerCase(cases)
  // Register, re-attempting each case under its lock first.
  for (let k = 0; k < n; k++) {
    const c = cases[k]!
    const receive = c.kind === RECEIVE
    const ring = (c.channel as SharedHandle).selectLocal().ring
    rings[k] = ring
    sides[k] = receive ? SIDE_RECV : SIDE_SEND
    seqIndex[k] = ring.h + (receive ? H_SEQ_RECV : H_SEQ_SEND)
    watching[k] = false
    if (k === offerAt) continue
    let r: number
    ring.lock()
    try {
      r = attemptLocked(ring, receive, outs?.[k])
      if (r === WOULD_BLOCK) {
        seen[k] = ring.selectRegisterLocked(sides[k]!)
        watching[k] = true
      }
    } finally {
      ring.unlock()
    }
    if (r !== WOULD_BLOCK) {
      unwatchAll(k)
      got = outcome(r, c.channel, outs?.[k], receive ? takeIncoming() : undefined)
      return k
    }
  }
  let offer: SyncOffer | undefined
  if (offerAt >= 0) {
    const o = new SyncOffer(rings[offerAt]!, outs![offerAt]!)
    const ring = o.ring
    let r: number
    ring.lock()
    try {
      r = o.postLocked()
      if (r !== BROKEN) seen[offerAt] = ring.readSeq(SIDE_SEND)
    } finally {
      ring.unlock()
    }
    if (r === BROKEN) {
      unwatchAll(-1)
      freeOut(o.out)
      got = BROKEN_MARK
      return offerAt
    }
    offer = o
  }
  if (n === 0) {
    for (;;) {
      checkCancelledSync()
      syncWaitBegin()
      syncWaitSlice('selectSync() with no case') // deadlock detection: this thread waits for good
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SLICE_MS)
    }
  }
  let slice = MIN_SLICE_MS
  let turn = 0
  for (;;) {
    // Wait until some case's futex word moved (ring.ts "Wake-ups"), a slice at a time.
    let moved = false
    for (let s = 0; s < SPINS && !moved; s++) {
      for (let k = 0; k < n; k++) if (Atomics.load(rings[k]!.i32, seqIndex[k]!) !== seen[k]) moved = true
    }
    if (!moved) {
      const k = turn++ % n
      // Blocked until selectSync returns (syncWaitEnd there), as sendSync is: the pool
      // places no task behind this thread, also between two slices (runtime README).
      syncWaitBegin()
      // Deadlock detection: every case is watched (registered), so only another thread, a
      // cancellation or a deadline can end this wait; a case made ready meanwhile is seen
      // within one slice (<= MAX_MULTI_SLICE_MS), long before the detector's next tick.
      syncWaitSlice('selectSync')
      Atomics.wait(rings[k]!.i32, seqIndex[k]!, seen[k]!, n === 1 ? SLICE_MS : slice)
      if (slice < MAX_MULTI_SLICE_MS) slice *= 2
    } else slice = MIN_SLICE_MS
    try {
      checkCancelledSync()
    } catch (e) {
      // O2 first: an offer taken meanwhile is this select's commit, not a cancellation.
      if (offer !== undefined) {
        const w = settle(offer)
        if (w !== WOULD_BLOCK) {
          unwatchAll(-1)
          return committedOffer(offerAt, offer, w)
        }
      }
      unwatchAll(-1) // nothing was claimed: every watcher goes, having taken and delivered nothing
      throw e
    }
    const k =
      offer === undefined
        ? retryAll(cases, outs, rings, sides, seen, -1)
        : retryWithOffer(cases, outs, rings, sides, seqIndex, seen, offerAt, offer)
    if (k === -1) continue
    unwatchAll(k)
    return k
  }
}

/** Withdraws the offer under its lock (O2): WOULD_BLOCK, DONE or BROKEN. */
function settle(offer: SyncOffer): number {
  const ring = offer.ring
  ring.lock()
  try {
    return offer.withdrawLocked()
  } finally {
    ring.unlock()
  }
}

/** The offered case committed: DONE (a receiver took the value) or BROKEN (every receiver closed). */
function committedOffer(offerAt: number, offer: SyncOffer, r: number): number {
  if (r === BROKEN) {
    freeOut(offer.out)
    got = BROKEN_MARK
  } else got = undefined
  return offerAt
}

/**
 * Retries every watched case (all but `skip`) in a uniformly random order,
 * each under its lock; the committed index (its watcher unregistered, outcome
 * in `got`), or -1 (every `seen` re-read under the lock that found it not ready).
 */
function retryAll(
  cases: readonly AnyCase[],
  outs: (Outgoing | undefined)[] | undefined,
  rings: Ring[],
  sides: number[],
  seen: number[],
  skip: number,
): number {
  const n = cases.length
  const order = identity(n)
  for (let i = 0; i < n; i++) {
    const k = drawNext(order, i)
    if (k === skip) continue
    if (retryOne(cases, outs, rings, sides, seen, k)) return k
  }
  return -1
}

/** One retry of watched case k under its ring's lock. True: committed (outcome in `got`). */
function retryOne(
  cases: readonly AnyCase[],
  outs: (Outgoing | undefined)[] | undefined,
  rings: Ring[],
  sides: number[],
  seen: number[],
  k: number,
): boolean {
  const ring = rings[k]!
  let r: number
  ring.lock()
  try {
    r = retryLocked(cases, outs, rings, sides, seen, k)
  } finally {
    ring.unlock()
  }
  return r !== WOULD_BLOCK && commitWatched(cases, outs, k, r)
}

/** Under rings[k]'s lock: one attempt of watched case k; unregistered if it committed, else its word re-read. */
function retryLocked(
  cases: readonly AnyCase[],
  outs: (Outgoing | undefined)[] | undefined,
  rings: Ring[],
  sides: number[],
  seen: number[],
  k: number,
): number {
  const ring = rings[k]!
  const r = attemptLocked(ring, cases[k]!.kind === RECEIVE, outs?.[k])
  if (r === WOULD_BLOCK) seen[k] = ring.readSeq(sides[k]!)
  else ring.selectUnregisterLocked(sides[k]!)
  return r
}

/** After unlocking: watched case k committed with attempt result r; its outcome into `got` (user codecs run here, not under the lock). */
function commitWatched(cases: readonly AnyCase[], outs: (Outgoing | undefined)[] | undefined, k: number, r: number): true {
  const c = cases[k]!
  got = outcome(r, c.channel, outs?.[k], c.kind === RECEIVE ? takeIncoming() : undefined)
  return true
}

/**
 * A round with the offer out: if the offer's word moved, was it taken? If
 * another case's word moved: withdraw the offer (O2), retry the cases on other
 * rings, then, under the offer ring's lock, the cases on it and the re-post.
 * The committed index (outcome in `got`), or -1.
 */
function retryWithOffer(
  cases: readonly AnyCase[],
  outs: (Outgoing | undefined)[] | undefined,
  rings: Ring[],
  sides: number[],
  seqIndex: number[],
  seen: number[],
  offerAt: number,
  offer: SyncOffer,
): number {
  const n = cases.length
  const oring = offer.ring
  if (Atomics.load(oring.i32, seqIndex[offerAt]!) !== seen[offerAt]) {
    let r: number
    oring.lock()
    try {
      r = offer.checkLocked()
      if (r === WOULD_BLOCK) seen[offerAt] = oring.readSeq(SIDE_SEND)
    } finally {
      oring.unlock()
    }
    if (r !== WOULD_BLOCK) return committedOffer(offerAt, offer, r)
  }
  let others = false
  for (let k = 0; k < n && !others; k++) if (k !== offerAt && Atomics.load(rings[k]!.i32, seqIndex[k]!) !== seen[k]) others = true
  if (!others) return -1
  const w = settle(offer)
  if (w !== WOULD_BLOCK) return committedOffer(offerAt, offer, w)
  // The offer is withdrawn: other rings first, each under its own lock.
  const order = identity(n)
  for (let i = 0; i < n; i++) {
    const k = drawNext(order, i)
    if (k === offerAt || rings[k] === oring) continue
    if (retryOne(cases, outs, rings, sides, seen, k)) return k
  }
  // Then the offer's ring: its other cases, and the re-post, in one critical section.
  let hit = -1
  let r = WOULD_BLOCK
  let posted = DONE
  oring.lock()
  try {
    for (let i = 0; i < n && hit < 0; i++) {
      const k = order[i]!
      if (k === offerAt || rings[k] !== oring) continue
      r = retryLocked(cases, outs, rings, sides, seen, k)
      if (r !== WOULD_BLOCK) hit = k
    }
    if (hit < 0) {
      posted = offer.postLocked()
      if (posted !== BROKEN) {
        seen[offerAt] = oring.readSeq(SIDE_SEND)
        // The post bumped this ring's receive word (this select's own watcher armed it): read
        // again, in the critical section that found these cases not ready, so the select's own
        // post is not taken for a change (a size-0 self-select would wake itself for ever).
        for (let k = 0; k < n; k++) if (k !== offerAt && rings[k] === oring) seen[k] = oring.readSeq(sides[k]!)
      }
    }
  } finally {
    oring.unlock()
  }
  if (hit >= 0) return commitWatched(cases, outs, hit, r) && hit
  if (posted === BROKEN) return committedOffer(offerAt, offer, BROKEN)
  return -1
}

/**
 * selectSync's offer (select/shared.ts "Offers", rules O1 and O2, in a blocking loop
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
