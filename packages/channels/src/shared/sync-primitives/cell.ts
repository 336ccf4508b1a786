/**
 * The protocol of a shared sync primitive: every state change, on the block
 * laid out in layout.ts, made inside the primitive's guard (a futex mutex,
 * ../lock.ts) — except the lock's uncontended fast path, one CAS on the lock
 * word. This file knows nothing of tasks or promises: it keeps counts, a FIFO
 * of waiting nodes and the lock word; local.ts parks tasks; the handle
 * classes are the public face.
 *
 * Invariants (under the guard):
 *  - K1 lock: CONTENDED is set in W ⇔ the queue is non-empty. Hence a
 *       non-empty queue implies W ≠ 0 (held), and a fast-path CAS (which only
 *       succeeds from W = 0) can never overtake a queued waiter.
 *  - K2 a node in the queue has N_WORD = NODE_WAITING; a node leaves the queue
 *       either granted (N_WORD = NODE_GRANTED, stored before the notify, and
 *       the primitive is already its: W names its thread, or the token is
 *       counted) or withdrawn by its owner (cancellation) or by the dead-thread
 *       hook. A granted node is never withdrawn: the waiter finds GRANTED
 *       under the guard and keeps what it was given ("too late").
 *  - K3 semaphore: value > 0 ⇒ empty queue; limiter: borrowed < total ⇒ empty
 *       queue (tokens are handed to the oldest waiter at once).
 *  - K4 S_WAITING = the queue's length (event: the registered waiters, 0 once set).
 *
 * Ordering. Who writes W: a fast acquirer only by CAS 0 → me; the holder's
 * fast release only by CAS me → 0 (fails while CONTENDED is set); everything
 * else under the guard. While CONTENDED is set both CASes fail, so W changes
 * only under the guard and the holder's release takes the slow path, which
 * hands W directly to the queue head (`W = head | CONTENDED-if-more`). A
 * waiter registers by CAS w → w | CONTENDED *under the guard* and only then
 * links its node, both before the guard is released, so a release that takes
 * the guard after it sees the node; a release that got in before it (fast CAS
 * to 0) makes the registration's CAS fail, and the registrant retries and
 * finds W = 0 (it takes the lock instead of queueing). No wake-up can be lost:
 * the granter stores NODE_GRANTED and then notifies the node's word; a waiter
 * waits with `Atomics.wait(Async)(word, NODE_WAITING)`, which returns at once
 * if the store came first. (Spin model: ../../../model/sync.pml.)
 *
 * FIFO: a registered waiter is served before every later one and before any
 * newcomer (K1, K3). A newcomer that finds the primitive free takes it
 * without queueing; that is the only "barging", and it can only happen while
 * nobody is queued.
 */
import * as __lock from '../lock.ts'
import * as __arena from '../arena.ts'
import * as L from './layout.ts'
const { lock, unlock } = __lock
const { getArena } = __arena
const {
  S_GUARD,
  S_STATE,
  S_LIMIT,
  S_QHEAD,
  S_QTAIL,
  S_WAITING,
  S_POISONED,
  S_HANDLES,
  S_OWNERS,
  O_THREAD,
  O_HANDLES,
  O_HELD,
  O_WAITING,
  OWNER_FIELDS,
  OWNERS,
  HEADER_WORDS,
  CONTENDED,
  NO_MAX,
  N_WORD,
  N_NEXT,
  N_THREAD,
  NODE_GRANTED,
  NODE_WAITING,
} = L

export const ACQUIRED = 0
export const QUEUED = 1
export const WOULD_BLOCK = 2
export const WITHDRAWN = 3
export const TOO_LATE = 4
export const OVER_MAX = 5

export class Cell {
  /** Fixed-length view of the header (hot: the lock word). */
  readonly i: Int32Array
  /** The arena-wide view, for node words (contended paths only). */
  readonly a: Int32Array

  readonly block: number

  constructor(block: number) {
    this.block = block
    const arena = getArena()
    this.i = new Int32Array(arena.sab, block, HEADER_WORDS)
    this.a = arena.i32
  }

  guard(): void {
    lock(this.i, S_GUARD)
  }

  unguard(): void {
    unlock(this.i, S_GUARD)
  }

  // ---- the FIFO of nodes (guard held) ------------------------------------------

  private push(node: number, tid1: number): void {
    const a = this.a
    const n = node >> 2
    Atomics.store(a, n + N_WORD, NODE_WAITING)
    a[n + N_NEXT] = 0
    a[n + N_THREAD] = tid1
    const tail = this.i[S_QTAIL]!
    if (tail === 0) this.i[S_QHEAD] = node
    else a[(tail >> 2) + N_NEXT] = node
    this.i[S_QTAIL] = node
    this.i[S_WAITING]!++
  }

  private shift(): number {
    const node = this.i[S_QHEAD]!
    if (node === 0) return 0
    const next = this.a[(node >> 2) + N_NEXT]!
    this.i[S_QHEAD] = next
    if (next === 0) this.i[S_QTAIL] = 0
    this.i[S_WAITING]!--
    return node
  }

  /** Unlinks the nodes for which `pick` is true; returns them. */
  private removeWhere(pick: (node: number) => boolean): number[] {
    const a = this.a
    const out: number[] = []
    let prev = 0
    for (let node = this.i[S_QHEAD]!; node !== 0; ) {
      const next = a[(node >> 2) + N_NEXT]!
      if (pick(node)) {
        if (prev === 0) this.i[S_QHEAD] = next
        else a[(prev >> 2) + N_NEXT] = next
        if (next === 0) this.i[S_QTAIL] = prev
        this.i[S_WAITING]!--
        out.push(node)
      } else prev = node
      node = next
    }
    return out
  }

  /** K2: the primitive is the node's now; the store comes before the notify. */
  private grant(node: number): void {
    const w = (node >> 2) + N_WORD
    Atomics.store(this.a, w, NODE_GRANTED)
    Atomics.notify(this.a, w)
  }

  private nodeThread(node: number): number {
    return this.a[(node >> 2) + N_THREAD]!
  }

  // ---- the owner table (guard held) ----------------------------------------------

  ownerAdd(tid1: number, f: number, delta: number): void {
    const i = this.i
    let freeAt = -1
    for (let e = 0; e < OWNERS; e++) {
      const at = S_OWNERS + e * OWNER_FIELDS
      const t = i[at + O_THREAD]!
      if (t === tid1) {
        i[at + f] = Math.max(0, i[at + f]! + delta)
        if (i[at + O_HANDLES] === 0 && i[at + O_HELD] === 0 && i[at + O_WAITING] === 0) i[at + O_THREAD] = 0
        return
      }
      if (t === 0 && freeAt < 0) freeAt = at
    }
    if (freeAt >= 0 && delta > 0) {
      i.fill(0, freeAt, freeAt + OWNER_FIELDS)
      i[freeAt + O_THREAD] = tid1
      i[freeAt + f] = delta
    }
    // More than OWNERS threads: this one's share is not recovered if it dies (README).
  }

  /** Removes thread `tid1`'s entry: [handles, held, waiting]. */
  private ownerTake(tid1: number): [number, number, number] {
    const i = this.i
    for (let e = 0; e < OWNERS; e++) {
      const at = S_OWNERS + e * OWNER_FIELDS
      if (i[at + O_THREAD] === tid1) {
        const r: [number, number, number] = [i[at + O_HANDLES]!, i[at + O_HELD]!, i[at + O_WAITING]!]
        i.fill(0, at, at + OWNER_FIELDS)
        return r
      }
    }
    return [0, 0, 0]
  }

  // ---- handles ---------------------------------------------------------------

  /** A handle opened in thread `tid1` (`countOpen`: a new handle; false: one moved in). */
  addHandle(tid1: number, countOpen: boolean): void {
    this.guard()
    if (countOpen) this.i[S_HANDLES]!++
    this.ownerAdd(tid1, O_HANDLES, 1)
    this.unguard()
  }

  /** A handle of thread `tid1` moved out (the count stays). */
  moveHandleOut(tid1: number): void {
    this.guard()
    this.ownerAdd(tid1, O_HANDLES, -1)
    this.unguard()
  }

  /** A handle closed; true if it was the last one anywhere (the caller frees the block). */
  closeHandle(tid1: number): boolean {
    this.guard()
    this.ownerAdd(tid1, O_HANDLES, -1)
    const last = --this.i[S_HANDLES]! === 0
    this.unguard()
    return last
  }

  // ---- lock ----------------------------------------------------------------------

  /** The uncontended acquire: W 0 → me. */
  lockFast(me2: number): boolean {
    return Atomics.compareExchange(this.i, S_STATE, 0, me2) === 0
  }

  /** The uncontended release: W me → 0; false if CONTENDED is set (use `unlockSlow`). */
  unlockFast(me2: number): boolean {
    return Atomics.compareExchange(this.i, S_STATE, me2, 0) === me2
  }

  /** Takes the lock if free, otherwise links `node` as the newest waiter (sets CONTENDED, K1). */
  lockOrQueue(me2: number, tid1: number, node: number): number {
    const i = this.i
    this.guard()
    try {
      for (;;) {
        const w = Atomics.load(i, S_STATE)
        if (w === 0) {
          if (Atomics.compareExchange(i, S_STATE, 0, me2) === 0) return ACQUIRED
        } else if (Atomics.compareExchange(i, S_STATE, w, w | CONTENDED) === w) {
          this.push(node, tid1)
          return QUEUED
        }
        // A fast release or acquire changed W between the load and the CAS: look again.
      }
    } finally {
      this.unguard()
    }
  }

  /** The holder's release while CONTENDED may be set: hands W to the queue head (FIFO), or frees it. */
  unlockSlow(): void {
    this.guard()
    this.handOffLocked()
    this.unguard()
  }

  private handOffLocked(): void {
    const node = this.shift()
    if (node === 0) {
      Atomics.store(this.i, S_STATE, 0) // K1: no waiter, so nobody else writes W while it is held
      return
    }
    const more = this.i[S_QHEAD] !== 0 ? CONTENDED : 0
    Atomics.store(this.i, S_STATE, (this.nodeThread(node) << 1) | more)
    this.grant(node)
  }

  /** The holder's thread (id + 1), 0 when free. */
  holderThread(): number {
    return Atomics.load(this.i, S_STATE) >> 1
  }

  poisoned(): boolean {
    return Atomics.load(this.i, S_POISONED) !== 0
  }

  // ---- semaphore and limiter -----------------------------------------------------------

  /**
   * Takes a token if one is free and nobody waits (K3); otherwise links `node`
   * (QUEUED), or with `node` 0 returns WOULD_BLOCK. `limiter`: the state is
   * the borrowed count against S_LIMIT; else the semaphore's value.
   */
  acquireToken(tid1: number, node: number, limiter: boolean): number {
    const i = this.i
    this.guard()
    try {
      const free = limiter ? i[S_STATE]! < i[S_LIMIT]! : i[S_STATE]! > 0
      if (free && i[S_QHEAD] === 0) {
        i[S_STATE] = i[S_STATE]! + (limiter ? 1 : -1)
        this.ownerAdd(tid1, O_HELD, 1)
        return ACQUIRED
      }
      if (node === 0) return WOULD_BLOCK
      this.push(node, tid1)
      return QUEUED
    } finally {
      this.unguard()
    }
  }

  /** Gives a token back (to the oldest waiter first). Semaphore past maxValue: OVER_MAX, nothing changed. */
  releaseToken(tid1: number, limiter: boolean): number {
    this.guard()
    try {
      if (!limiter && this.i[S_QHEAD] === 0 && this.i[S_LIMIT] !== NO_MAX && this.i[S_STATE]! >= this.i[S_LIMIT]!) return OVER_MAX
      this.ownerAdd(tid1, O_HELD, -1)
      this.giveBackLocked(1, limiter)
      return ACQUIRED
    } finally {
      this.unguard()
    }
  }

  private giveBackLocked(n: number, limiter: boolean): void {
    const i = this.i
    if (limiter) {
      i[S_STATE] = Math.max(0, i[S_STATE]! - n)
      this.handOutLocked()
      return
    }
    for (let k = 0; k < n; k++) {
      const node = this.shift()
      if (node !== 0) {
        this.ownerAdd(this.nodeThread(node), O_HELD, 1)
        this.grant(node)
      } else if (i[S_LIMIT] === NO_MAX || i[S_STATE]! < i[S_LIMIT]!) i[S_STATE]!++
    }
  }

  /** K3 for a limiter: lends free tokens to the oldest waiters. */
  private handOutLocked(): void {
    const i = this.i
    while (i[S_STATE]! < i[S_LIMIT]!) {
      const node = this.shift()
      if (node === 0) return
      i[S_STATE]!++
      this.ownerAdd(this.nodeThread(node), O_HELD, 1)
      this.grant(node)
    }
  }

  /** A limiter's new total (hands new tokens out at once). */
  setLimit(total: number): void {
    this.guard()
    this.i[S_LIMIT] = total
    this.handOutLocked()
    this.unguard()
  }

  /**
   * A waiter gives up (cancelled, or its handle closed): WITHDRAWN (it got
   * nothing; the caller frees the node) or TOO_LATE (it was granted: it keeps
   * what it got). Keeps K1 for a lock.
   */
  withdraw(node: number, isLock: boolean): number {
    this.guard()
    try {
      if (Atomics.load(this.a, (node >> 2) + N_WORD) === NODE_GRANTED) return TOO_LATE
      this.removeWhere((n) => n === node)
      if (isLock && this.i[S_QHEAD] === 0) Atomics.and(this.i, S_STATE, ~CONTENDED)
      return WITHDRAWN
    } finally {
      this.unguard()
    }
  }

  // ---- event -------------------------------------------------------------------

  /** Registers a waiter of thread `tid1`; false if the event is already set (nothing registered). */
  eventRegister(tid1: number): boolean {
    this.guard()
    try {
      if (this.i[S_STATE] !== 0) return false
      this.i[S_WAITING]!++
      this.ownerAdd(tid1, O_WAITING, 1)
      return true
    } finally {
      this.unguard()
    }
  }

  /** A registered waiter gives up; false if the event was set meanwhile (too late: it is woken). */
  eventUnregister(tid1: number, n = 1): boolean {
    this.guard()
    try {
      if (this.i[S_STATE] !== 0) return false
      this.i[S_WAITING]! -= n
      this.ownerAdd(tid1, O_WAITING, -n)
      return true
    } finally {
      this.unguard()
    }
  }

  /** Sets the event (idempotent) and wakes every thread waiting on it. */
  eventSet(): void {
    const i = this.i
    this.guard()
    if (i[S_STATE] === 0) {
      Atomics.store(i, S_STATE, 1)
      i[S_WAITING] = 0
      for (let e = 0; e < OWNERS; e++) {
        const at = S_OWNERS + e * OWNER_FIELDS
        if (i[at + O_THREAD] === 0) continue
        i[at + O_WAITING] = 0
        if (i[at + O_HANDLES] === 0 && i[at + O_HELD] === 0) i[at + O_THREAD] = 0
      }
      Atomics.notify(i, S_STATE)
    }
    this.unguard()
  }

  // ---- a dead thread -------------------------------------------------------------

  /**
   * Thread `tid1` died: forget its waiting nodes (returned: the caller frees
   * them), give back what it held (a lock: released and poisoned; tokens:
   * returned), and drop its handles. Returns true if no handle is left (free
   * the block).
   */
  deadThread(tid1: number, kind: number): { nodes: number[]; last: boolean } {
    const i = this.i
    this.guard()
    try {
      const nodes = this.removeWhere((n) => this.nodeThread(n) === tid1 && Atomics.load(this.a, (n >> 2) + N_WORD) === NODE_WAITING)
      const [handles, held, waiting] = this.ownerTake(tid1)
      if (kind === L.KIND_LOCK) {
        if (i[S_QHEAD] === 0) Atomics.and(i, S_STATE, ~CONTENDED)
        if (Atomics.load(i, S_STATE) >> 1 === tid1) {
          i[S_POISONED] = 1
          this.handOffLocked()
        }
      } else if (kind === L.KIND_EVENT) {
        if (i[S_STATE] === 0) i[S_WAITING] = Math.max(0, i[S_WAITING]! - waiting)
      } else if (held > 0) {
        this.giveBackLocked(held, kind === L.KIND_LIMITER)
      }
      i[S_HANDLES] = Math.max(0, i[S_HANDLES]! - handles)
      return { nodes, last: i[S_HANDLES] === 0 && handles > 0 }
    } finally {
      this.unguard()
    }
  }
}
