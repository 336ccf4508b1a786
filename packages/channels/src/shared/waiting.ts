/**
 * Waiting on a shared channel, per thread: parked async operations, the one
 * `Atomics.waitAsync` per channel side that wakes them, the keep-alive handle,
 * and the blocking `*Sync` loops for worker CPU loops.
 *
 * Thread contract: everything here is thread-local (one `LocalChannel` per
 * channel per thread, shared by every handle of that channel in the thread);
 * all shared state is changed through ring.ts under the channel lock.
 *
 * Order of service: within a thread, parked operations of one side are tried
 * in arrival order, and a new operation takes the fast path only if no earlier
 * one of its thread waits (so tasks of a thread are served FIFO). Across
 * threads, whichever thread's waiter gets the lock first is served: like Go's
 * spec, no order between threads is promised (values stay FIFO always).
 *
 * The waiter seam (what a multi-channel wait such as `select` plugs into):
 *  - register: in one critical section, an attempt that cannot complete
 *    counts the operation in SEND_/RECV_WAITING and the thread's owner entry
 *    (`Ring.register`, done by sendLocked/receiveLocked, or `registerLocked`
 *    for one that queues behind this thread's earlier ones) and reads the
 *    side's futex word (`Ring.readSeq`, which arms it). Any change that may
 *    let it proceed bumps that word later, so a wait on the value read cannot
 *    miss it (ring.ts "Wake-ups").
 *  - retry: after a wake, `attemptLocked` re-runs the attempt as registered
 *    (`registered = true`: it unregisters on any result but WAIT).
 *  - withdraw: under the lock, `withdrawReceiveLocked` (DONE if the receiver
 *    was needed for a promised size-0 value: it must take it) or
 *    `offerLocked(..., withdraw = true)` / `withdrawSendLocked` for senders
 *    (DONE if its offer was already taken). Every withdrawal says whether the
 *    operation took effect, which is what "the cases that did not commit had no
 *    effect" needs.
 *  - the unregistered offer (send-channel.ts, ring.ts) is a sender's private
 *    shortcut: it cannot be withdrawn while it spins, so an operation that may
 *    have to be withdrawn by someone else (a select case) must not use it.
 *
 * Keep-alive (DESIGN.md 2): `Atomics.waitAsync` does not keep Node's event
 * loop alive. While an operation of this thread is parked on a channel side
 * that *another thread* may complete (a handle of the channel is held in
 * another thread, or is in flight; ring.ts `elsewhereLocked`), one ref'd
 * long-period interval is held; it is unref'd when no such side remains. A
 * channel whose handles are all in this thread holds nothing: only this
 * thread can wake its waiters, so if
 * its event loop empties, nothing ever will, and `run` reports a
 * DeadlockError (Node's `beforeExit`) instead of hanging. The answer is
 * read under the lock that registers an operation and at every wake-up;
 * every close (not only the last) bumps the waiters of both sides so they
 * re-check, and moving a handle out of this thread re-checks at once.
 */
import { threadId } from 'node:worker_threads'
import { Parked } from '@gotrio/runtime/lowlevel'
import { Ring } from './ring.ts'
import { peerGoneFor } from '../peer-gone.ts'
import * as __arena from './arena.ts'
import * as __layout from './layout.ts'
import * as __ring from './ring.ts'
import * as __ringSlots from './ring-slots.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { free } = __arena
const { OUT_OOL } = __ringSlots
const { CODEC_BYTES, H_SEQ_RECV, H_SEQ_SEND } = __layout
const { DONE, OFFERED, WAIT, BROKEN, END, WOULD_BLOCK, SIDE_SEND, SIDE_RECV, HANDED } = __ring
// The answer when the other side is gone (../peer-gone.ts), re-exported for the shared handles.
export { peerGone, peerGoneFor } from '../peer-gone.ts'

// ---- keep-alive ------------------------------------------------------------

/** Operations of this thread parked on shared channels. */
let parkedHere = 0
/** Channel sides of this thread whose parked operations another thread may complete. */
let remoteSides = 0
let keepAlive: ReturnType<typeof setInterval> | undefined

function parkedUp(): void {
  parkedHere++
}

function parkedDown(): void {
  parkedHere--
}

function remoteUp(): void {
  if (remoteSides++ === 0) {
    keepAlive ??= setInterval(() => {}, 0x7fffffff)
    keepAlive.ref()
  }
}

function remoteDown(): void {
  if (--remoteSides === 0) keepAlive!.unref()
}

/** Operations of this thread parked on shared channels (tests). */
export function parkedSharedOperations(): number {
  return parkedHere
}

/** True while this thread holds the keep-alive handle for its parked operations (tests of the keep-alive rule). */
export function sharedKeepAliveHeld(): boolean {
  return remoteSides > 0
}

// ---- the value an operation carries ------------------------------------------

/** A value ready to commit: the number, or encoded bytes (+ out-of-line block). */
export interface Outgoing {
  num: number
  bytes: Uint8Array | undefined
  /** Arena block holding `bytes` when too long for a slot; owned by the sender until committed. */
  ool: number
  flags: number
  /** Called once the entry is in the ring (endpoints inside move), and undone if an offer is withdrawn. */
  committed(): void
  uncommitted(): void
}

/** What a receive took, copied out under the lock; decoded after unlocking. */
export interface Incoming {
  num: number
  bytes: Uint8Array | undefined
  len: number
  hasEndpoints: boolean
}

export function captureIncoming(ring: Ring): Incoming {
  const bytes = ring.codec === CODEC_BYTES && ring.outAt !== OUT_OOL ? ring.inlineCopy() : undefined
  return { num: ring.outNum, bytes, len: ring.outLen, hasEndpoints: ring.outHasEndpoints }
}

/**
 * A batch being taken (receiveMany): the numbers (numeric codecs), or the
 * captured entries (byte codecs), in FIFO order.
 */
export interface Batch {
  nums: number[]
  items: Incoming[]
}

export function newBatch(): Batch {
  return { nums: [], items: [] }
}

/**
 * Under the lock, right after a take that returned DONE: records that value in
 * `b`, then takes up to `max - 1` more that are there now, in the same
 * critical section (values of senders already waiting included: their offers
 * are in the ring; size 0 takes the waiting senders' offers but never a value
 * promised to another waiting receiver, because these extra takes are
 * unregistered ones: ring.ts R3). One lock, one wake-up and one promise for
 * the batch. Stops at WOULD_BLOCK or END (the END is seen by the next call).
 */
export function takeBatchLocked(ring: Ring, max: number, b: Batch): void {
  const numeric = ring.codec !== CODEC_BYTES
  for (let k = 1; ; k++) {
    if (numeric) b.nums.push(ring.outNum)
    else b.items.push(captureIncoming(ring))
    if (k >= max) return
    if (ring.receiveLocked(threadId, false, true) !== DONE) return
  }
}

/** The bytes of a taken byte value (out-of-line: a view valid until `release`). */
export function incomingBytes(ring: Ring, v: Incoming): Uint8Array {
  return v.bytes ?? ring.a.u8.subarray(v.num, v.num + v.len)
}

export function releaseIncoming(v: Incoming): void {
  if (v.bytes === undefined && v.num !== 0) free(v.num)
}

/** Hooks the public handles give the waiting machinery. */
export interface Decoder {
  decode(v: Incoming): unknown
  /** After unlocking: a taken batch's values (every captured entry is released, even if one fails to decode). */
  decodeBatch(b: Batch): unknown[]
}

// ---- per-thread channel state ---------------------------------------------------

export class LocalChannel {
  readonly send: LocalSide
  readonly recv: LocalSide
  /** Open handles of this channel in this thread. */
  handles = 0
  readonly ring: Ring
  constructor(ring: Ring) {
    this.ring = ring
    this.send = new LocalSide(this, SIDE_SEND)
    this.recv = new LocalSide(this, SIDE_RECV)
  }
}

const locals = new Map<number, LocalChannel>()

export function localChannel(block: number): LocalChannel {
  let l = locals.get(block)
  if (!l) {
    l = new LocalChannel(new Ring(block))
    locals.set(block, l)
  }
  return l
}

/** Forgets the thread's state of a channel once no handle of it is open here. */
export function dropLocal(l: LocalChannel): void {
  if (l.handles === 0 && l.send.queue.length === 0 && l.recv.queue.length === 0 && locals.get(l.ring.block) === l) {
    locals.delete(l.ring.block)
  }
}

/**
 * A parked operation that the side's dispatcher retries under the lock.
 * Exported for select/shared.ts, whose case records (one per shared case of a
 * waiting `select`) queue here too: they are never parked themselves (the
 * select is), and set `fromSelect`.
 */
export abstract class SharedOp<T> extends Parked<T> {
  /**
   * A select's case: its attempt may fail where a later plain receiver's
   * succeeds (a size-0 value promised to plain receivers), so the dispatcher
   * goes on past it.
   */
  readonly fromSelect: boolean = false
  readonly side: LocalSide
  readonly owner: object
  /** performance.now() when it was queued: how long it parked decides the side's next spin budget (spin.ts). */
  readonly parkedAt = performance.now()
  constructor(side: LocalSide, owner: object) {
    super()
    this.side = side
    this.owner = owner
  }
  /** Under the lock: try to complete. Returns a settle action to run after unlocking, or undefined to keep waiting. */
  abstract attemptLocked(): (() => void) | undefined
  /** Under the lock: the handle closed; returns the settle action. */
  abstract closeLocked(): () => void
}

/**
 * An empty array that already holds objects as far as V8 is concerned (its
 * elements kind is PACKED_ELEMENTS, not PACKED_SMI_ELEMENTS). Why: `[]` starts
 * as an array of small integers and changes its map when the first operation
 * is pushed; code optimized on an earlier channel's queue (that map) then meets
 * a new channel's fresh `[]` (the other map) and is thrown away ("wrong map"
 * deoptimizations of `send` and of the async iterator's step at the start of
 * every new channel; measured with bench/diag/phases.ts and --trace-deopt).
 */
function objectArray<E>(): E[] {
  const a: (E | null)[] = [null]
  a.length = 0
  return a as E[]
}

export class LocalSide {
  readonly queue: SharedOp<unknown>[] = objectArray()
  private running = false
  /** Counted in `remoteSides`: parked operations here that another thread may complete. */
  private remote = false
  readonly local: LocalChannel
  readonly side: number
  constructor(local: LocalChannel, side: number) {
    this.local = local
    this.side = side
  }

  private get seqIndex(): number {
    return this.local.ring.h + (this.side === SIDE_SEND ? H_SEQ_SEND : H_SEQ_RECV)
  }

  /**
   * Queues a registered op (its attempt returned WAIT with `seen`) and makes
   * sure a dispatcher watches. `elsewhere` is `ring.elsewhereLocked(threadId)`
   * read in the same critical section that registered the op, so the
   * keep-alive is right from the moment the op waits, also when a dispatcher
   * is already running (it re-checks only when it wakes).
   */
  enqueue(op: SharedOp<unknown>, seen: number, elsewhere: boolean): void {
    this.queue.push(op)
    parkedUp()
    if (elsewhere) this.setRemote(true)
    if (!this.running) void this.dispatch(seen)
  }

  remove(op: SharedOp<unknown>): void {
    const k = this.queue.indexOf(op)
    if (k >= 0) {
      this.queue.splice(k, 1)
      parkedDown()
      if (this.queue.length === 0) this.setRemote(false)
    }
  }

  private setRemote(v: boolean): void {
    if (v === this.remote) return
    this.remote = v
    if (v) remoteUp()
    else remoteDown()
  }

  /** Under the lock: may another thread complete the parked operations? */
  private recheckLocked(): void {
    this.setRemote(this.queue.length > 0 && this.local.ring.elsewhereLocked(threadId))
  }

  /** A handle of the channel left this thread (moved): its waiters here may now be completed from elsewhere. */
  handleMovedOut(): void {
    if (this.queue.length > 0) this.setRemote(true)
  }

  private async dispatch(seen: number): Promise<void> {
    this.running = true
    const ring = this.local.ring
    try {
      await null // the op being enqueued is parked (Parked.begin) synchronously after enqueue(): let that happen first
      for (;;) {
        const r = Atomics.waitAsync(ring.i32, this.seqIndex, seen)
        if (r.async) await r.value
        if (this.queue.length === 0) return
        const actions: (() => void)[] = []
        ring.lock()
        try {
          // Arm and read the word before the attempts, not after: a lock-free
          // operation that lands after the arm bumps it (the third and fourth
          // Dekker pairs, ring.ts), one before it is seen by the attempts, so
          // the word needs no re-check (`readSeq(side, false)`).
          seen = ring.readSeq(this.side, false)
          // FIFO among this thread's senders: once one that has no place in the
          // ring yet must wait (no room, or the byte budget for its large value),
          // later ones without a place wait behind it rather than overtake it.
          // Senders whose offers are already in the ring are in line: check them all.
          //
          // Until no operation completes: one that completes may let an earlier
          // one that failed in this pass proceed now. A plain receiver that takes
          // a size-0 value promised to plain receivers (HANDOFFS falls) leaves the
          // entries behind it to a select watcher tried before it; the receive's
          // baton bump (ring.ts receiveLocked) finds the word unarmed, since this
          // dispatcher reads it only below, so no later wake-up would come for
          // that watcher (issue 15: TestSelectStress across threads hung on Node 22).
          const spinBudget = this.side === SIDE_SEND ? ring.sendSpin : ring.recvSpin
          for (let progress = true; progress && this.queue.length > 0; ) {
            progress = false
            let sendBlocked = false
            for (const op of [...this.queue]) {
              if (sendBlocked && !(op as SendOp).inLine) continue
              const act = op.attemptLocked()
              if (act) {
                this.remove(op)
                actions.push(act)
                progress = true
                spinBudget.parked(performance.now() - op.parkedAt)
              } else if (this.side === SIDE_RECV && !op.fromSelect)
                break // nothing more to take for later receivers
              else if (!(op as SendOp).inLine) sendBlocked = true
            }
          }
          this.recheckLocked()
        } finally {
          ring.unlock()
        }
        for (const act of actions) act()
        if (this.queue.length === 0) return
      }
    } finally {
      this.running = false
      dropLocal(this.local)
    }
  }

  /**
   * Under the lock, after an operation of this side left the queue without
   * completing (cancelled, or its handle closed): if others of this thread
   * still wait, make the dispatcher retry them. A later sender may be queued
   * behind the one that left without a place in the ring (FIFO within a
   * thread), and nothing else would wake it: its progress was to come from
   * the earlier one's offer being taken (soak, 2026-12-02: a size-0 sender on
   * main parked forever after the sender ahead of it was cancelled, with two
   * receivers waiting; also the model test's known disagreement "send, send,
   * cancel(first), receiveNowait").
   */
  kickLocked(): void {
    if (this.queue.length > 0) this.local.ring.kickLocked(this.side)
  }

  /** This handle closed: settle its parked operations (ClosedResourceError, or too late: completed). */
  closeOwner(owner: object): void {
    const mine = this.queue.filter((op) => op.owner === owner)
    if (mine.length === 0) return
    const actions: (() => void)[] = []
    this.local.ring.lock()
    try {
      for (const op of mine) {
        this.remove(op)
        actions.push(op.closeLocked())
      }
      this.kickLocked()
    } finally {
      this.local.ring.unlock()
    }
    for (const act of actions) act()
  }
}

// ---- the two parked operations ----------------------------------------------------

export class SendOp extends SharedOp<void> {
  readonly waitsOn = 'SharedSendChannel.send'
  /** The offer's ticket once published. */
  private ticket = 0
  private offered = false
  /** True once its value is in the ring (an offer, or handed over): later sends of this thread may go behind it. */
  get inLine(): boolean {
    return this.offered
  }
  /** Size 0: handed to a waiting receiver; delivered, waiting only for the take (not cancellable). */
  private promised = false
  /**
   * Taken, and unregistered from SEND_WAITING under the lock; only the wake
   * (deferred by a macrotask, below) is left. A cancellation arriving in that
   * gap must not withdraw again: a second `offerLocked` would unregister a
   * second time, leaving SEND_WAITING one short, so a later waiting sender
   * would never be bumped (soak bug 2).
   */
  private taken = false
  readonly out: Outgoing
  readonly errors: { broken(): Error; closed(): Error }
  constructor(
    side: LocalSide,
    owner: object,
    out: Outgoing,
    offeredTicket: number | undefined,
    promised: boolean,
    errors: { broken(): Error; closed(): Error },
  ) {
    super(side, owner)
    this.out = out
    this.errors = errors
    if (offeredTicket !== undefined) {
      this.offered = true
      this.ticket = offeredTicket
    }
    this.promised = promised
  }

  attemptLocked(): (() => void) | undefined {
    const ring = this.side.local.ring
    const o = this.out
    if (!this.offered) {
      const r = ring.sendLocked(threadId, o.num, o.bytes, o.ool, o.flags, true, false)
      if (r === WAIT) return undefined
      if (r === BROKEN) return () => (o.ool !== 0 && free(o.ool), this.fail(peerGoneFor(this, this.errors.broken)))
      o.committed()
      if (r === DONE) return () => this.wake()
      this.offered = true // OFFERED or HANDED
      this.promised = r === HANDED
      this.ticket = ring.ticket
      return undefined
    }
    const r = ring.offerLocked(threadId, this.ticket, false)
    if (r === WAIT) return undefined
    if (r === BROKEN && !this.promised) return () => this.fail(peerGoneFor(this, this.errors.broken))
    // Taken. Like Trio's send, which yields to the receiver it handed the value
    // to, resume the sender a macrotask later, so a receiver of this thread runs
    // its continuation first (`send` returns after the receiver has the value).
    // When every receive handle is in other threads, the taker was one of them
    // and nothing of this thread runs in between: resume at once (a macrotask
    // per value is most of a cross-thread hand-off's cost).
    this.taken = true
    if (ring.partnerElsewhere(threadId, SIDE_SEND) && ring.localReceivers() === 0) return () => this.wake()
    return () => setImmediate(() => this.wake())
  }

  /** Under the lock: stop waiting. WOULD_BLOCK (withdrawn, nothing delivered), DONE (too late: taken) or BROKEN. */
  private withdrawLocked(): number {
    const ring = this.side.local.ring
    if (!this.offered) {
      ring.withdrawSendLocked(threadId)
      return WOULD_BLOCK
    }
    return ring.offerLocked(threadId, this.ticket, true)
  }

  /** After a withdrawal: the value is the sender's again (an offer's block was freed by the ring). */
  private reclaim(): void {
    if (this.offered) this.out.uncommitted()
    else if (this.out.ool !== 0) free(this.out.ool)
  }

  closeLocked(): () => void {
    if (this.promised) return () => this.wake() // delivered: the receiver it was handed to will take it
    const r = this.withdrawLocked()
    if (r === DONE) return () => this.wake()
    if (r === BROKEN) return () => this.fail(peerGoneFor(this, this.errors.broken))
    return () => (this.reclaim(), this.fail(this.errors.closed()))
  }

  abort(): boolean {
    if (this.promised) return false // too late: delivered; stays queued until the take wakes it
    if (this.taken) return false // too late: taken; the deferred wake settles it
    this.side.remove(this)
    const ring = this.side.local.ring
    let r: number
    ring.lock()
    try {
      r = this.withdrawLocked()
      this.side.kickLocked()
    } finally {
      ring.unlock()
    }
    if (r === DONE) {
      this.wake() // too late: a receiver took it, so the send completed
      return false
    }
    if (r === WOULD_BLOCK) this.reclaim()
    return true
  }
}

export class ReceiveOp<T> extends SharedOp<T> {
  readonly waitsOn = 'SharedReceiveChannel.receive'
  readonly decoder: Decoder
  readonly errors: { end(): Error; closed(): Error }
  constructor(side: LocalSide, owner: object, decoder: Decoder, errors: { end(): Error; closed(): Error }) {
    super(side, owner)
    this.decoder = decoder
    this.errors = errors
  }

  private deliver(v: Incoming): () => void {
    return () => {
      let value: unknown
      try {
        value = this.decoder.decode(v)
      } catch (e) {
        this.fail(e)
        return
      }
      this.wake(value as T)
    }
  }

  attemptLocked(): (() => void) | undefined {
    const ring = this.side.local.ring
    const r = ring.receiveLocked(threadId, true, false)
    if (r === WAIT) return undefined
    if (r === END) return () => this.fail(peerGoneFor(this, this.errors.end))
    return this.deliver(captureIncoming(ring))
  }

  closeLocked(): () => void {
    const ring = this.side.local.ring
    const r = ring.withdrawReceiveLocked(threadId)
    if (r === DONE) return this.deliver(captureIncoming(ring))
    return () => this.fail(this.errors.closed())
  }

  abort(): boolean {
    this.side.remove(this)
    const ring = this.side.local.ring
    let r: number
    let v: Incoming | undefined
    ring.lock()
    try {
      r = ring.withdrawReceiveLocked(threadId)
      if (r === DONE) v = captureIncoming(ring)
      this.side.kickLocked()
    } finally {
      ring.unlock()
    }
    if (r === WOULD_BLOCK) return true
    this.deliver(v!)() // too late: a promised value is ours (a cancelled receive loses nothing)
    return false
  }
}

/**
 * A parked `receiveMany(max)`: one registered receiver, exactly like a
 * ReceiveOp until its first value; in the critical section that takes it, it
 * also takes what else is there (takeBatchLocked). Withdrawal is ReceiveOp's:
 * a cancelled batch took nothing, or (too late, a promised size-0 value) it
 * completes with that one value.
 */
export class ReceiveManyOp<T> extends SharedOp<T[]> {
  readonly waitsOn = 'SharedReceiveChannel.receiveMany'
  readonly max: number
  readonly decoder: Decoder
  readonly errors: { end(): Error; closed(): Error }
  constructor(side: LocalSide, owner: object, max: number, decoder: Decoder, errors: { end(): Error; closed(): Error }) {
    super(side, owner)
    this.max = max
    this.decoder = decoder
    this.errors = errors
  }

  private deliver(b: Batch): () => void {
    return () => {
      let values: unknown[]
      try {
        values = this.decoder.decodeBatch(b)
      } catch (e) {
        this.fail(e)
        return
      }
      this.wake(values as T[])
    }
  }

  attemptLocked(): (() => void) | undefined {
    const ring = this.side.local.ring
    const r = ring.receiveLocked(threadId, true, false)
    if (r === WAIT) return undefined
    if (r === END) return () => this.fail(peerGoneFor(this, this.errors.end))
    const b = newBatch()
    takeBatchLocked(ring, this.max, b)
    return this.deliver(b)
  }

  closeLocked(): () => void {
    const ring = this.side.local.ring
    const r = ring.withdrawReceiveLocked(threadId)
    if (r !== DONE) return () => this.fail(this.errors.closed())
    const b = newBatch()
    takeBatchLocked(ring, 1, b)
    return this.deliver(b)
  }

  abort(): boolean {
    this.side.remove(this)
    const ring = this.side.local.ring
    let r: number
    const b = newBatch()
    ring.lock()
    try {
      r = ring.withdrawReceiveLocked(threadId)
      if (r === DONE) takeBatchLocked(ring, 1, b)
      this.side.kickLocked()
    } finally {
      ring.unlock()
    }
    if (r === WOULD_BLOCK) return true
    this.deliver(b)() // too late: a promised value is ours (a cancelled receive loses nothing)
    return false
  }
}

export { DONE, OFFERED, WAIT, BROKEN, END, WOULD_BLOCK }
