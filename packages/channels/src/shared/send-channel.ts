/**
 * `SharedSendChannel`, the sending handle of a shared channel (the handle
 * state machine, moves and close are SharedEndpoint's, endpoint-base.ts).
 *
 * Every operation follows runtime/lowlevel's pattern: `current()` once,
 * checkpoint, fast path under the lock, else park a SendOp whose abort()
 * withdraws under the lock (or reports "too late"). FIFO within a thread: a
 * send queues behind this thread's earlier senders that have no place in the
 * ring yet (senders whose offers are in the ring are in line already).
 */
import { threadId } from 'node:worker_threads'
import { SendOp, type LocalChannel } from './waiting.ts'
import * as __lowlevel from '@gotrio/runtime/lowlevel'
import type { TaskContext } from '@gotrio/runtime/lowlevel'
import * as __errors from '../errors.ts'
import type { SendChannel } from '../types.ts'
import * as __arena from './arena.ts'
import * as __codec from './codec.ts'
import * as __fastStructured from './fast-structured.ts'
import type { ResolvedCodec } from './codec.ts'
import { SharedEndpoint } from './endpoint-base.ts'
import * as __base from './endpoint-base.ts'
import * as L from './layout.ts'
import * as __ring from './ring.ts'
import type { Ring } from './ring.ts'
import * as __spin from './spin.ts'
import * as __sync from './sync.ts'
import * as __waiting from './waiting.ts'
import * as __zeroSlot from './zero-slot.ts'
import type { Outgoing } from './waiting.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { checkCancelled, current, macrotask, park, yieldDue } = __lowlevel
const { BrokenResourceError, ClosedResourceError, WouldBlock } = __errors
const { alloc, free } = __arena
const { encodeBytes, checkNumber } = __codec
const { encodeScratch, fastEncodeScratch } = __fastStructured
const { SIDE_SEND, HANDED, SPIN_TAKEN } = __ring
const { ZERO_SLOT_BYTES, Z_BROKEN, Z_NOT_SENT, Z_TAKEN, Z_WITHDRAWN } = __zeroSlot
const { spinAllowed } = __spin
const { blockingSend } = __sync
const { DONE, OFFERED, WAIT, BROKEN, WOULD_BLOCK, peerGone } = __waiting

// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const { B_INLINE_START, CODEC_BYTES, ENTRY_HAS_ENDPOINTS } = L

const newBrokenError = (): Error => new BrokenResourceError('every receive handle of this shared channel is closed')
/** For the operation's own call (its task's context): Cancelled instead if the task's cancellation is requested (waiting.ts `peerGone`). */
const brokenError = (): Error => peerGone(newBrokenError)
const closedSendError = (): Error => new ClosedResourceError('this SharedSendChannel was closed while send() waited')
const sendErrors = { broken: newBrokenError, closed: closedSendError }

/**
 * The sending end of a shared channel; usable from any thread it is moved to.
 * `send` waits while the buffer is full (size 0: until a receiver in some
 * thread took the value); it either completes or throws `Cancelled` having
 * delivered nothing. `sendSync` is the same for worker CPU loops.
 */
export class SharedSendChannel<T> extends SharedEndpoint implements SendChannel<T> {
  protected readonly kind = 'SharedSendChannel'

  /** @internal use openSharedChannel */
  constructor(local: LocalChannel, gen: number, codec: ResolvedCodec) {
    super(local, gen, SIDE_SEND, codec)
  }

  /**
   * Encodes `value` for a byte codec (throws TypeError/DataCloneError, nothing
   * written). Numeric codecs need no Outgoing on the fast path: `checkNumber`,
   * then `numericOut` only if the operation must wait.
   */
  private encode(ring: Ring, fn: string, value: T, fastTried = false): Outgoing {
    const enc = encodeBytes(this.codec, fn, value, fastTried)
    return outgoing(ring, enc.bytes, enc.endpoints as SharedEndpoint[])
  }

  /**
   * As `encode`, but a small plain value's bytes stay a view of the scratch
   * buffer (no copy): for sendNowait and sendSync, which use them up before
   * this thread runs anything else.
   */
  private encodeForNow(ring: Ring, fn: string, value: T): Outgoing {
    // The structured codec's small plain values (fast-structured.ts): n bytes in the scratch.
    const scratch = this.codec.user === undefined
    const n = scratch ? fastEncodeScratch(value) : -1
    return n >= 0 ? outgoing(ring, encodeScratch().subarray(0, n), NONE) : this.encode(ring, fn, value, scratch)
  }

  /**
   * The number cell a send of `value` may use (fast-slots.ts "Number cells"):
   * `value` if it is a number other than NaN sent on the structured codec of
   * a channel with the lock-free buffer, else NaN (send its bytes).
   */
  private cellOf(ring: Ring, value: T): number {
    return ring.fast && this.structuredNumber(ring, value) && !Number.isNaN(value) ? value : Number.NaN
  }

  /** `value` is a number sent on the structured codec (no user codec): it may travel as a Float64 (a number cell, the size-0 slot). */
  private structuredNumber(ring: Ring, value: unknown): value is number {
    return typeof value === 'number' && ring.codec === CODEC_BYTES && this.codec.user === undefined
  }

  /**
   * Not an async function: a send that completes at once returns one shared
   * resolved promise instead of allocating one (a worker producer's
   * `await send()` loop spent ~10% of its time in the collector), and a
   * waiting one returns its park's promise itself. A throw before the first
   * wait still reaches the caller as a rejection, as from an async function.
   */
  send(value: T): Promise<void> {
    try {
      return this.sendNow(value)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  private sendNow(value: T): Promise<void> {
    const ctx = current()
    checkCancelled(ctx)
    const l = this.open()
    const ring = l.ring
    const numeric = ring.codec !== CODEC_BYTES
    const num = numeric ? checkNumber(ring.codec, 'SharedSendChannel.send', value) : 0
    const idle = l.send.queue.length === 0
    // A small plain value (structured codec) that fits a slot goes from the
    // scratch buffer straight into the lock-free buffer: no copy, no allocation.
    const scratch = !numeric && ring.lockFree && idle && this.codec.user === undefined
    // A number (structured codec, not NaN) goes into a number cell instead (fast-slots.ts "Number cells");
    // if that push fails (full, or SLOW), its bytes are not pushed lock-free a moment later either.
    const cell = idle ? this.cellOf(ring, value) : Number.NaN
    if (!Number.isNaN(cell) && ring.trySendFastCell(cell)) return yieldDue() ? macrotask() : RESOLVED
    // The size-0 lock-free slot (zero-slot.ts): sent there and taken, or sent through the lock below.
    // A number on the structured codec goes there as a Float64, not encoded (zero-slot.ts, Z_NUMBER).
    const zNumber = ring.zslot && idle && this.structuredNumber(ring, value)
    let z = zNumber ? ring.sendZero(value as number, undefined, 0) : Z_NOT_SENT
    if (z === Z_TAKEN) return yieldDue() ? macrotask() : RESOLVED
    const n = scratch ? fastEncodeScratch(value) : -1
    let enc: Outgoing | undefined
    if (n >= 0) {
      if (ring.zslot) {
        if (!zNumber && n <= ZERO_SLOT_BYTES) z = ring.sendZero(0, encodeScratch(), n)
      } else if (Number.isNaN(cell) && n <= ring.slotBytes - B_INLINE_START && ring.trySendFastBytes(encodeScratch(), n)) {
        return yieldDue() ? macrotask() : RESOLVED
      }
      if (z !== Z_TAKEN && z !== Z_BROKEN) enc = outgoing(ring, encodeScratch().slice(0, n), NONE)
    } else {
      enc = numeric ? undefined : this.encode(ring, 'SharedSendChannel.send', value, scratch)
      if (ring.zslot) {
        if (idle && !zNumber && (enc === undefined || (enc.ool === 0 && enc.flags === 0 && enc.bytes!.length <= ZERO_SLOT_BYTES))) {
          z = ring.sendZero(num, enc?.bytes, enc === undefined ? 0 : enc.bytes!.length)
        }
      } else if (idle && Number.isNaN(cell) && ring.trySendFastOut(num, enc)) {
        // The lock-free buffer (fast-slots.ts): only when no send of this thread waits (FIFO).
        return yieldDue() ? macrotask() : RESOLVED
      }
    }
    if (z === Z_TAKEN) return yieldDue() ? macrotask() : RESOLVED
    return this.sendSlow(ctx, l, ring, num, enc, idle, z, cell)
  }

  /**
   * `sendNow`'s paths that spin, lock or park, in a function of their own.
   * Why: V8 optimizes `sendNow` for the paths it has run, and the first run
   * of any other branch throws that code away (a deoptimization: "insufficient
   * type feedback"); it is optimized again only after it has run hot once
   * more. Here the first spin, offer or park after optimization costs
   * `sendNow` one such deopt (the call below), not one per branch.
   */
  private sendSlow(
    ctx: TaskContext,
    l: LocalChannel,
    ring: Ring,
    num: number,
    enc: Outgoing | undefined,
    idle: boolean,
    z: number,
    cell: number,
  ): Promise<void> {
    if (z === Z_BROKEN) throw brokenError()
    // A spin that saw room goes back to the lock-free push (a number cell if `cell` is one), not to the lock.
    if (idle && ring.spinIfUseful(SIDE_SEND) && (!Number.isNaN(cell) ? ring.trySendFastCell(cell) : ring.trySendFastOut(num, enc))) {
      return yieldDue() ? macrotask() : RESOLVED
    }
    let r: number
    let seen = 0
    let elsewhere = false
    let spinFirst = false
    const zSpun = z === Z_WITHDRAWN
    ring.lock()
    try {
      if (!idle && l.send.queue.some((op) => !(op as SendOp).inLine)) {
        // FIFO: behind this thread's earlier sender that has no place in the
        // ring yet. (Senders whose offers are in the ring are in line already.)
        r = WAIT
        seen = ring.registerLocked(threadId, SIDE_SEND)
        elsewhere = ring.elsewhereLocked(threadId)
      } else {
        elsewhere = ring.elsewhereLocked(threadId)
        // A receiver may take an offer while this thread spins: an unregistered
        // offer first (ring.ts "The unregistered offer"; spin.ts).
        // Not after the size-0 slot's spin ran out (`zSpun`): that was this send's spin.
        spinFirst = !zSpun && ring.sendSpin.n !== 0 && ring.partnerElsewhere(threadId, SIDE_SEND) && spinAllowed()
        r =
          enc === undefined
            ? ring.sendLocked(threadId, num, undefined, 0, 0, false, false, spinFirst)
            : ring.sendLocked(threadId, 0, enc.bytes, enc.ool, enc.flags, false, false, spinFirst)
        if (r === OFFERED || r === HANDED) {
          if (!spinFirst) seen = ring.readSeq(SIDE_SEND)
        } else seen = ring.seen
      }
    } finally {
      ring.unlock()
    }
    if (r === DONE) {
      if (enc !== undefined) enc.committed()
      return yieldDue() ? macrotask() : RESOLVED
    }
    if (r === BROKEN) {
      if (enc !== undefined && enc.ool !== 0) free(enc.ool)
      throw brokenError()
    }
    const out = enc ?? numericOut(num)
    if (r === OFFERED || r === HANDED) out.committed()
    if (spinFirst && (r === OFFERED || r === HANDED)) {
      const ticket = ring.ticket
      if (ring.spinOffer(ticket) !== SPIN_TAKEN) {
        ring.lock()
        try {
          const r2 = ring.offerLocked(threadId, ticket, false, false)
          if (r2 === WAIT) {
            seen = ring.seen // now registered and armed
            elsewhere = ring.elsewhereLocked(threadId)
          } else if (r2 === BROKEN && r !== HANDED) r = BROKEN
          else r = DONE // taken meanwhile; or a handed value whose receivers closed since (delivered, as SendOp counts it)
        } finally {
          ring.unlock()
        }
        if (r === BROKEN) throw brokenError() // the offer was dropped with the buffer (its endpoints closed there)
      } else r = DONE
      if (r === DONE) {
        return yieldDue() ? macrotask() : RESOLVED
      }
      ring.ticket = ticket
    }
    const op = new SendOp(l.send, this, out, r === OFFERED || r === HANDED ? ring.ticket : undefined, r === HANDED, sendErrors)
    l.send.enqueue(op, seen, elsewhere)
    return park(op, ctx)
  }

  sendNowait(value: T): void {
    const l = this.open()
    const ring = l.ring
    const numeric = ring.codec !== CODEC_BYTES
    const num = numeric ? checkNumber(ring.codec, 'SharedSendChannel.sendNowait', value) : 0
    const cell = l.send.queue.length === 0 ? this.cellOf(ring, value) : Number.NaN
    if (!Number.isNaN(cell) && ring.trySendFastCell(cell)) return
    const enc = numeric ? undefined : this.encodeForNow(ring, 'SharedSendChannel.sendNowait', value)
    if (l.send.queue.length === 0 && ring.trySendFastOut(num, enc)) return
    let r: number
    ring.lock()
    try {
      if (l.send.queue.length > 0) r = WOULD_BLOCK
      else if (enc === undefined) r = ring.sendLocked(threadId, num, undefined, 0, 0, false, true)
      else r = ring.sendLocked(threadId, 0, enc.bytes, enc.ool, enc.flags, false, true)
    } finally {
      ring.unlock()
    }
    if (r === DONE) {
      if (enc !== undefined) enc.committed()
      return
    }
    if (enc !== undefined && enc.ool !== 0) free(enc.ool)
    if (r === BROKEN) throw newBrokenError() // not a checkpoint (Trio): the state, never Cancelled
    throw new WouldBlock(
      ring.maxBufferSize === Infinity
        ? 'SharedSendChannel.sendNowait: no room for this value (its maxBufferBytes, or the 1 GiB shared arena, is used up); receivers must take some first'
        : 'SharedSendChannel.sendNowait: the channel is full (size 0: no receiver is waiting)',
    )
  }

  /**
   * Sends, blocking this worker thread with `Atomics.wait` (for CPU loops that
   * want no `await`). Cancellation is seen between waits of at most 20 ms.
   * Throws on the main thread, which must not block: use `await send()` there.
   */
  sendSync(value: T): void {
    const l = this.open()
    const ring = l.ring
    if (ring.codec !== CODEC_BYTES) blockingSend(ring, checkNumber(ring.codec, 'SharedSendChannel.sendSync', value), undefined, brokenError)
    // The scratch view stays valid: this thread runs nothing else until blockingSend returns.
    else blockingSend(ring, 0, this.encodeForNow(ring, 'SharedSendChannel.sendSync', value), brokenError, this.cellOf(ring, value))
  }

  /**
   * @internal select (select/shared.ts): `value` ready to commit, checked and
   * encoded as `send` does (TypeError/DataCloneError). The caller calls
   * `committed()` once it is in the ring, or frees `ool` if it never gets there.
   */
  selectOutgoing(fn: string, value: T): Outgoing {
    const ring = this.open().ring
    if (ring.codec !== CODEC_BYTES) return numericOut(checkNumber(ring.codec, fn, value))
    return this.encode(ring, fn, value)
  }

  clone(): SharedSendChannel<T> {
    this.addHandle(true)
    return new SharedSendChannel<T>(this.open(), this.gen, this.codec)
  }

  /** @internal a handle revived in this thread from a descriptor (already counted open). */
  static revive<T>(local: LocalChannel, gen: number, codec: ResolvedCodec): SharedSendChannel<T> {
    const h = new SharedSendChannel<T>(local, gen, codec)
    h.addHandle(false)
    return h
  }
}

function noop(): void {}

/** What a send that completed without waiting returns (see `send`). */
const RESOLVED: Promise<void> = Promise.resolve()

const NONE: SharedEndpoint[] = []

/** The Outgoing of encoded `bytes`: out of line (an arena block) if longer than a slot's inline room; `eps` move when it commits. */
function outgoing(ring: Ring, bytes: Uint8Array, eps: SharedEndpoint[]): Outgoing {
  let ool = 0
  if (bytes.length > ring.slotBytes - B_INLINE_START) {
    ool = alloc(bytes.length)
    ring.a.u8.set(bytes, ool)
  }
  if (eps.length === 0) return { num: 0, bytes, ool, flags: 0, committed: noop, uncommitted: noop }
  return {
    num: 0,
    bytes,
    ool,
    flags: ENTRY_HAS_ENDPOINTS,
    committed: () => eps.forEach((e) => e.moveOut()),
    uncommitted: () => eps.forEach((e) => e.moveBack()),
  }
}

/** A number's Outgoing, made only when its send must wait (parked operations keep it). */
function numericOut(num: number): Outgoing {
  return { num, bytes: undefined, ool: 0, flags: 0, committed: noop, uncommitted: noop }
}
