/**
 * `sendSync` / `receiveSync`: block a worker thread with `Atomics.wait` until
 * the operation completes. For CPU loops in workers that want no `await`
 * (DESIGN.md 6: such a loop holds its thread; async tasks of that thread do not
 * run meanwhile).
 *
 * Waiting: spin SPINS reads of the futex word (the other side is often mid-
 * operation on the other core), then `Atomics.wait` in slices of at most
 * SLICE_MS, calling `checkCancelledSync()` between slices (it also reads the
 * worker task's shared cancel flag). Registration and the futex value are
 * taken under the lock, so a wake between the attempt and the wait is seen as
 * a changed value (ring.ts "Wake-ups").
 */
import { isMainThread, threadId } from 'node:worker_threads'
import { Ring } from './ring.ts'
import * as __lowlevel from '@gotrio/runtime/lowlevel'
import * as __arena from './arena.ts'
import * as __layout from './layout.ts'
import * as __ring from './ring.ts'
import * as __ringSlots from './ring-slots.ts'
import * as __waiting from './waiting.ts'
import type { Batch, Incoming, Outgoing } from './waiting.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { checkCancelledSync, syncWaitBegin, syncWaitEnd, syncWaitSlice } = __lowlevel
const { free } = __arena
const { CODEC_BYTES, H_SEQ_RECV, H_SEQ_SEND } = __layout
const { DONE, OFFERED, WAIT, BROKEN, END, WOULD_BLOCK, HANDED, SIDE_SEND } = __ring
const { captureIncoming, takeBatchLocked } = __waiting
const { OUT_OOL, OUT_SCRATCH } = __ringSlots

const SPINS = 200
const SLICE_MS = 20
/**
 * Polling (buffered channels only): a sync operation that still finds the
 * ring full (send) or empty (receive) after spinning sleeps in timed slices of
 * POLL_MS, up to POLLS times, before it registers as a waiter. Unregistered,
 * it costs the other side nothing: no bump, no notify. A notify that wakes a
 * thread from Atomics.wait is a futex syscall, and on a busy machine the woken
 * thread often preempts the notifier (measured: a sendSync producer against a
 * `for await` consumer woke every ~120 values, and the consumer lost ~50 µs per
 * wake in `Ring.unlock`). Polling instead lets the other side move a batch
 * between wakes; the cost is up to ~POLL_MS (plus timer slack) of extra
 * latency in the first few ms of a wait. Meanwhile the op is not counted in
 * SEND_/RECV_WAITING (statistics) and a sender has no offer in the ring.
 * Rendezvous channels never poll: a receiver must be registered for a sender
 * to hand it a value (sendNowait).
 */
const POLL_MS = 0.05
const POLLS = 40

function refuseMainThread(fn: string, instead: string): void {
  if (isMainThread) {
    throw new Error(
      `${fn} blocks its thread with Atomics.wait and would freeze the main thread's event loop; on the main thread use ${instead}`,
    )
  }
}

/**
 * Before registering: polls (see POLL_MS) while the op would block. Throws
 * Cancelled (nothing taken or delivered: nothing registered yet).
 */
function pollWhileBlocked(ring: Ring, forReceive: boolean, index: number): void {
  const i32 = ring.i32
  for (let k = 0; k < POLLS && ring.looksBlocked(forReceive); k++) {
    checkCancelledSync()
    syncWaitBegin() // until the op returns: the pool places no task behind a blocked thread (runtime README)
    Atomics.wait(i32, index, Atomics.load(i32, index), POLL_MS)
  }
}

/** Waits until the futex word at `index` differs from `seen` or a slice passes. */
function waitSlice(ring: Ring, index: number, seen: number, waitsOn: string): void {
  const i32 = ring.i32
  for (let k = 0; k < SPINS; k++) if (Atomics.load(i32, index) !== seen) return
  syncWaitBegin() // until the op returns (syncWaitEnd in blockingSend/blockingReceive)
  syncWaitSlice(waitsOn) // registered: answer a deadlock probe the blocked event loop cannot
  Atomics.wait(i32, index, seen, SLICE_MS)
}

/** `num` is the value for numeric codecs (`out` undefined: nothing to commit); `out` the encoded bytes otherwise. */
export function blockingSend(ring: Ring, num: number, out: Outgoing | undefined, broken: () => Error, cell = Number.NaN): void {
  try {
    blockingSendWaits(ring, num, out, broken, cell)
  } finally {
    syncWaitEnd()
  }
}

/** `cell`: the number cell the value may use (fast-slots.ts "Number cells"; send-channel.ts `cellOf`), or NaN. */
function blockingSendWaits(ring: Ring, num: number, out: Outgoing | undefined, broken: () => Error, cell: number): void {
  refuseMainThread('SharedSendChannel.sendSync()', 'await send() (or sendNowait())')
  if (!Number.isNaN(cell) ? ring.trySendFastCell(cell) : ring.trySendFastOut(num, out)) return
  const seq = ring.h + H_SEQ_SEND
  let offered = false
  let ticket = 0
  let registered = false
  if (ring.looksBlocked(false)) {
    ring.spin(false, SPINS * 10)
    if (ring.capacity > 0) {
      try {
        pollWhileBlocked(ring, false, seq)
      } catch (e) {
        if (out !== undefined && out.ool !== 0) free(out.ool)
        throw e
      }
    }
    // Room came while spinning or polling: lock-free again, not through the lock.
    if (!Number.isNaN(cell) ? ring.trySendFastCell(cell) : ring.trySendFastOut(num, out)) return
  }
  for (;;) {
    let r: number
    ring.lock()
    try {
      if (offered) r = ring.offerLocked(threadId, ticket, false)
      else if (out === undefined) r = ring.sendLocked(threadId, num, undefined, 0, 0, registered, false)
      else r = ring.sendLocked(threadId, 0, out.bytes, out.ool, out.flags, registered, false)
      if (r === OFFERED) {
        offered = true
        ticket = ring.ticket
        ring.seen = ring.readSeq(SIDE_SEND)
      }
    } finally {
      ring.unlock()
    }
    if (r === HANDED) {
      // Delivered to a waiting receiver: a blocking send need not wait for the take.
      ring.lock()
      ring.unregister(threadId, SIDE_SEND)
      ring.unlock()
    }
    if (r === DONE || r === HANDED) {
      if (!offered && out !== undefined) out.committed()
      return
    }
    if (r === BROKEN) {
      if (!offered && out !== undefined && out.ool !== 0) free(out.ool)
      throw broken()
    }
    if (r === OFFERED && out !== undefined) out.committed()
    registered = true
    waitSlice(ring, seq, ring.seen, 'SharedSendChannel.sendSync')
    try {
      checkCancelledSync()
    } catch (e) {
      let w: number
      ring.lock()
      try {
        if (offered) w = ring.offerLocked(threadId, ticket, true)
        else {
          ring.withdrawSendLocked(threadId)
          w = WOULD_BLOCK
        }
      } finally {
        ring.unlock()
      }
      if (w === DONE) return // too late: a receiver took it
      if (w === WOULD_BLOCK && out !== undefined) {
        if (offered) out.uncommitted()
        else if (out.ool !== 0) free(out.ool)
      }
      throw e
    }
  }
}

const NOT_TAKEN: unique symbol = Symbol('not taken')

/**
 * A lock-free take (fast-slots.ts), as blockingReceive returns it, or
 * NOT_TAKEN (no published value there, or not a fast channel: take the lock).
 * A batch takes what else is there lock-free too (trailing the sender at
 * line starts for its first `capacity` values, ring.ts `receiveFastInBatch`).
 */
function takeFast(ring: Ring, scratchOk: boolean, batch: Batch | undefined, max: number): Incoming | undefined | typeof NOT_TAKEN {
  if (!ring.receiveFastTrailing()) return NOT_TAKEN
  const numeric = ring.codec !== CODEC_BYTES
  if (batch === undefined) {
    // A byte value's inline bytes are in the scratch buffer already (OUT_SCRATCH).
    if (numeric || (scratchOk && ring.outAt === OUT_SCRATCH && !ring.outHasEndpoints)) return undefined
    return captureIncoming(ring)
  }
  if (numeric) {
    batch.nums.push(ring.outNum)
    while (batch.nums.length < max && ring.receiveFastInBatch(batch.nums.length, true)) batch.nums.push(ring.outNum)
  } else {
    batch.items.push(captureIncoming(ring))
    while (batch.items.length < max && ring.receiveFastInBatch(batch.items.length, true)) batch.items.push(captureIncoming(ring))
  }
  return undefined
}

/**
 * Receives, blocking. With `batch` (receiveManySync), the first value and up
 * to `max - 1` more that are there in the same critical section go into
 * `batch` (waiting.ts takeBatchLocked) and it returns undefined. Otherwise
 * returns the taken value's Incoming, or undefined when
 * nothing had to be allocated: a number (numeric codecs) is then in
 * `ring.outNum`, and with `scratchOk` (not a user codec) a small inline value
 * without endpoints is in the ring's scratch buffer (`inlineScratch`, outLen
 * bytes); the caller decodes it before this thread's next operation.
 */
export function blockingReceive(
  ring: Ring,
  end: () => Error,
  scratchOk: boolean,
  batch?: Batch,
  max = 1,
  fn = 'SharedReceiveChannel.receiveSync()',
): Incoming | undefined {
  try {
    return blockingReceiveWaits(ring, end, scratchOk, batch, max, fn)
  } finally {
    syncWaitEnd()
  }
}

function blockingReceiveWaits(
  ring: Ring,
  end: () => Error,
  scratchOk: boolean,
  batch: Batch | undefined,
  max: number,
  fn: string,
): Incoming | undefined {
  refuseMainThread(
    fn,
    batch === undefined ? 'await receive() (or receiveNowait(), or for await)' : 'await receiveMany() (or receiveManyNowait())',
  )
  const seq = ring.h + H_SEQ_RECV
  let got = takeFast(ring, scratchOk, batch, max)
  if (got !== NOT_TAKEN) return got
  let registered = false
  if (ring.looksBlocked(true)) {
    ring.spin(true, SPINS * 10)
    if (ring.capacity > 0) pollWhileBlocked(ring, true, seq)
    // A value came while spinning or polling: lock-free again, not through the lock.
    got = takeFast(ring, scratchOk, batch, max)
    if (got !== NOT_TAKEN) return got
  }
  const numeric = ring.codec !== CODEC_BYTES
  for (;;) {
    let r: number
    let v: Incoming | undefined
    ring.lock()
    try {
      r = ring.receiveLocked(threadId, registered, false)
      if (r === DONE) {
        if (batch !== undefined) {
          takeBatchLocked(ring, max, batch)
          return undefined
        }
        if (numeric) return undefined
        if (scratchOk && ring.outAt !== OUT_OOL && !ring.outHasEndpoints) {
          ring.inlineToScratch()
          return undefined
        }
        v = captureIncoming(ring)
      }
    } finally {
      ring.unlock()
    }
    if (r === DONE) return v
    if (r === END) throw end()
    registered = r === WAIT || registered
    waitSlice(ring, seq, ring.seen, batch === undefined ? 'SharedReceiveChannel.receiveSync' : 'SharedReceiveChannel.receiveManySync')
    try {
      checkCancelledSync()
    } catch (e) {
      let w: number
      ring.lock()
      try {
        w = ring.withdrawReceiveLocked(threadId)
        if (w === DONE && batch !== undefined) takeBatchLocked(ring, 1, batch)
        else if (w === DONE && !numeric) v = captureIncoming(ring)
      } finally {
        ring.unlock()
      }
      if (w === DONE) return v // too late: a promised value is ours
      throw e
    }
  }
}
