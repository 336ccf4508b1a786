/**
 * Go's `select` for gotrio channels: `select` (waits), `selectNowait` (Go's
 * `default`), `selectSync` (worker threads, blocking). API.md "Select" is the
 * contract; the cases are made by `onReceive`/`onSend` (case.ts).
 *
 * The algorithm is Go's `selectgo` (src/runtime/select.go) made for one
 * thread plus shared rings:
 *  1. Check the arguments (TypeError), then the checkpoint (Cancelled), then
 *     every case's handle (ClosedResourceError); encode shared send values.
 *     Nothing has been touched yet.
 *  2. Poll the cases once in a random order (Go's pollorder): the first that
 *     can complete without waiting commits (a receive takes one value, a send
 *     delivers its value; an ended channel or a broken send is ready too).
 *     Taking the first ready case of a uniformly random permutation picks
 *     uniformly among the ready cases.
 *  3. None was ready: register on every case (waiter.ts: a memory entry per
 *     memory case, a watcher per shared case, re-attempted under its lock
 *     first) and park. The first registration that pairs claims the select's
 *     single commit point and withdraws the others (waiter.ts S1–S4,
 *     shared.ts). Cancellation withdraws everything and commits nothing.
 *  4. Run the committed case's `then` (or `onEnd`) in the calling task.
 *
 * Exactly one case commits per call, or none when the call fails before
 * committing. Cases that did not commit had no effect: polls that find a case
 * not ready change nothing, and registrations are withdrawn before any other
 * code of the thread runs (waiter.ts S2).
 */
import { isMainThread } from 'node:worker_threads'
import * as __runtime from '@gotrio/runtime'
import * as __lowlevel from '@gotrio/runtime/lowlevel'
import * as __errors from '../errors.ts'
import type { MemoryChannelState } from '../memory-channel-state.ts'
import * as __state from '../memory-channel-state.ts'
import type { MemoryReceiveChannel } from '../memory-receive-channel.ts'
import type { MemorySendChannel } from '../memory-send-channel.ts'
import type { SharedReceiveChannel } from '../shared/receive-channel.ts'
import type { SharedSendChannel } from '../shared/send-channel.ts'
import * as __ring from '../shared/ring.ts'
import type { Ring } from '../shared/ring.ts'
import type { Incoming, Outgoing } from '../shared/waiting.ts'
import * as __case from './case.ts'
import type { SelectCase } from './case.ts'
import { kSelectState } from './hooks.ts'
import * as __shared from './shared.ts'
import * as __offer from './offer.ts'
import * as __order from './order.ts'
import * as __sync from './sync.ts'
import * as __waiter from './waiter.ts'
import type { SelectWaiter as SelectWaiterT } from './waiter.ts'
// Local bindings (see the note in shared/ring.ts: tsx turns imports into getter reads).
const { Cancelled } = __runtime
const { current, park, yieldDue, macrotask, checkCancelledSync, syncWaitEnd } = __lowlevel
const { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } = __errors
const { RECEIVE, badCase } = __case
const { attemptLocked, outcome, freeOut, takeIncoming, registerShared } = __shared
const { registerOffer } = __offer
const { SelectWaiter, MemoryEntry, END_MARK, BROKEN_MARK } = __waiter
const { identity, drawNext, offerCase } = __order
const { waitSync, syncGot } = __sync
const { WOULD_BLOCK, BROKEN } = __ring
// Annotated, not destructured: destructuring widens a unique symbol.
const EMPTY: typeof __state.EMPTY = __state.EMPTY
const END: typeof __state.END = __state.END

type AnyCase = SelectCase<unknown>
type MemoryHandle = MemorySendChannel<unknown> | MemoryReceiveChannel<unknown>
type SharedHandle = SharedSendChannel<unknown> | SharedReceiveChannel<unknown>
/** The result type of one case (distributes over a union of cases). */
type CaseResult<X> = X extends SelectCase<infer R> ? R : never
/** The result type of a list of cases: the union of their `R`s. */
export type SelectResult<C extends readonly SelectCase<unknown>[]> = CaseResult<C[number]>

// ---- steps 1 and 2: check, prepare, poll -------------------------------------------

/** What the last successful `tryCase` got (a received value, END_MARK, BROKEN_MARK, or undefined). */
let got: unknown

/** The memory engine of a case's handle (the handle is open: checked by prepare). */
function stateOf(c: AnyCase): MemoryChannelState<unknown> {
  return (c.channel as MemoryHandle)[kSelectState]()!
}

/**
 * Step 1 after the checkpoint: ClosedResourceError for a closed (or moved)
 * handle, then the shared send values encoded (their codec's TypeError). Returns
 * the encoded values by case index, or undefined when there is none.
 */
function prepare(fn: string, cases: readonly AnyCase[]): (Outgoing | undefined)[] | undefined {
  let shared = false
  for (let k = 0; k < cases.length; k++) {
    const c = cases[k]!
    if (c.shared) {
      ;(c.channel as SharedHandle).selectLocal() // throws ClosedResourceError (closed, or moved away)
      shared = true
    } else if ((c.channel as MemoryHandle)[kSelectState]() === undefined) {
      const what = c.kind === RECEIVE ? 'MemoryReceiveChannel' : 'MemorySendChannel'
      throw new ClosedResourceError(`${fn}: case ${k} is on a ${what} handle that is closed`)
    }
  }
  if (!shared) return undefined
  let outs: (Outgoing | undefined)[] | undefined
  try {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[k]!
      if (c.shared && c.kind !== RECEIVE) {
        outs ??= new Array<Outgoing | undefined>(cases.length)
        outs[k] = (c.channel as SharedSendChannel<unknown>).selectOutgoing(`${fn}(onSend)`, c.value)
      }
    }
  } catch (e) {
    freeAll(outs, -1)
    throw e
  }
  return outs
}

/** Frees the encoded values of every send case but `keep` (they were not delivered). */
function freeAll(outs: (Outgoing | undefined)[] | undefined, keep: number): void {
  if (outs === undefined) return
  for (let k = 0; k < outs.length; k++) if (k !== keep) freeOut(outs[k])
}

/** Tries one case without waiting: true if it committed (outcome in `got`), false if it changed nothing. */
function tryCase(c: AnyCase, out: Outgoing | undefined): boolean {
  if (!c.shared) {
    const st = stateOf(c)
    if (c.kind === RECEIVE) {
      const v = st.take()
      if (v === EMPTY) return false
      got = v === END ? END_MARK : v
      return true
    }
    if (st.openReceiveChannels === 0) {
      got = BROKEN_MARK
      return true
    }
    if (!st.offer(c.value)) return false
    got = undefined
    return true
  }
  const handle = c.channel as SharedHandle
  const l = handle.selectLocal()
  const receive = c.kind === RECEIVE
  // FIFO within the thread: this thread's plain operations of that side that wait came first.
  if (receive ? l.recv.queue.length > 0 : l.send.queue.some((op) => !(op as unknown as { inLine: boolean }).inLine)) return false
  const ring = l.ring
  let r: number
  ring.lock()
  try {
    r = attemptLocked(ring, receive, out)
  } finally {
    ring.unlock()
  }
  if (r === WOULD_BLOCK) return false
  got = outcome(r, handle, out, receive ? takeIncoming() : undefined)
  return true
}

/**
 * Step 2: polls every case once in a random order; the committed index
 * (outcome in `got`), or -1. With shared cases among several, the poll sees
 * every channel at one moment (Go's TestNonblockSelectRace: selectNowait must
 * not miss a case that is ready throughout): see `pollLocked`.
 */
function poll(cases: readonly AnyCase[], outs: (Outgoing | undefined)[] | undefined): number {
  const n = cases.length
  if (n === 0) return -1
  if (n === 1) return tryCase(cases[0]!, outs?.[0]) ? 0 : -1
  if (outs !== undefined || cases.some((c) => c.shared)) return pollLocked(cases, outs)
  if (n === 2) {
    const a = Math.random() < 0.5 ? 0 : 1
    if (tryCase(cases[a]!, outs?.[a])) return a
    return tryCase(cases[1 - a]!, outs?.[1 - a]) ? 1 - a : -1
  }
  // A uniformly random permutation, drawn as it is walked (Fisher–Yates).
  const order = identity(n)
  for (let k = 0; k < n; k++) {
    const i = drawNext(order, k)
    if (tryCase(cases[i]!, outs?.[i])) return i
  }
  return -1
}

/**
 * The poll with every shared case's ring locked at once, in the order of the
 * rings' blocks (Go's lockorder; nothing else holds two ring locks, so the
 * order cannot deadlock). A memory case cannot change meanwhile (only this
 * thread touches it) and is only *checked* under the locks: committing one may
 * complete another select, whose withdrawal takes ring locks, so it commits
 * after the unlock, still ready (nothing ran in between) unless its waiter
 * refuses (below).
 */
function pollLocked(cases: readonly AnyCase[], outs: (Outgoing | undefined)[] | undefined): number {
  // A memory case found ready under the locks can still fail after them in one way: its only
  // waiter was another select's entry that refuses (waiter.ts `MemoryEntry.claim`: that select's
  // offer had been taken). The refusal committed that select and removed its entries, so the
  // channels changed: poll again. Each retry removes a select's entries, so this ends.
  for (;;) {
    const k = pollLockedOnce(cases, outs)
    if (k !== REPOLL) return k
  }
}

/** pollLocked's result when the memory case it chose refused after the unlock. */
const REPOLL = -2

function pollLockedOnce(cases: readonly AnyCase[], outs: (Outgoing | undefined)[] | undefined): number {
  const n = cases.length
  const rings: Ring[] = []
  for (const c of cases) {
    if (!c.shared) continue
    const ring = (c.channel as SharedHandle).selectLocal().ring
    if (!rings.includes(ring)) rings.push(ring)
  }
  rings.sort((a, b) => a.block - b.block)
  let chosen = -1
  let memory = false
  let r = WOULD_BLOCK
  let incoming: Incoming | undefined
  for (const ring of rings) ring.lock()
  for (const ring of rings) ring.holdLocked() // lock-free operations wait too (fast channels, fast-slots.ts)
  try {
    const order = identity(n)
    for (let k = 0; k < n && chosen < 0; k++) {
      const i = drawNext(order, k)
      const c = cases[i]!
      if (!c.shared) {
        if (memoryReady(c)) (chosen = i), (memory = true)
        continue
      }
      const l = (c.channel as SharedHandle).selectLocal()
      const receive = c.kind === RECEIVE
      // FIFO within the thread: this thread's plain operations of that side that wait came first.
      if (receive ? l.recv.queue.length > 0 : l.send.queue.some((op) => !(op as unknown as { inLine: boolean }).inLine)) continue
      r = attemptLocked(l.ring, receive, outs?.[i])
      if (r !== WOULD_BLOCK) {
        chosen = i
        if (receive) incoming = takeIncoming()
      }
    }
  } finally {
    for (let k = rings.length - 1; k >= 0; k--) rings[k]!.unlock()
  }
  if (chosen < 0) return -1
  if (memory) return tryCase(cases[chosen]!, undefined) ? chosen : REPOLL
  got = outcome(r, cases[chosen]!.channel, outs?.[chosen], incoming)
  return chosen
}

/** A memory case could complete now (a peek: changes nothing). */
function memoryReady(c: AnyCase): boolean {
  const st = stateOf(c)
  if (c.kind === RECEIVE) return st.sendWaiters.length > 0 || st.buffer.length > 0 || st.openSendChannels === 0
  return st.openReceiveChannels === 0 || st.receiveWaiters.length > 0 || st.buffer.length < st.maxBufferSize
}

/** Step 4: the committed case's result (runs `then` / `onEnd`), or the error it stands for. */
function finish(c: AnyCase, v: unknown): unknown {
  if (v === END_MARK) {
    if (c.onEnd !== undefined) return c.onEnd()
    throw new EndOfChannel(
      'select: the channel of an onReceive case ended (every send handle is closed and it is drained); ' +
        'give onReceive an onEnd callback to handle the end (Go: v, ok := <-ch)',
    )
  }
  if (v === BROKEN_MARK) {
    throw new BrokenResourceError('select: every receive handle of the channel of an onSend case is closed, nobody can receive the value')
  }
  if (c.kind === RECEIVE) return c.thenFn !== undefined ? c.thenFn(v) : v
  return c.thenFn !== undefined ? c.thenFn() : undefined
}

function finishAsync(c: AnyCase, v: unknown): Promise<unknown> {
  try {
    return Promise.resolve(finish(c, v))
  } catch (e) {
    return Promise.reject(e)
  }
}

// ---- step 3: register and wait ---------------------------------------------------

/**
 * Registers every case of `sel`. Returns -1 when all are registered, or the
 * index of a shared case that became ready under its lock (committed, outcome
 * in `got`; `sel` claimed and its earlier registrations withdrawn).
 */
function register(sel: SelectWaiterT, cases: readonly AnyCase[], outs: (Outgoing | undefined)[] | undefined): number {
  // In a random order too: cases on one channel queue in it in this order, and
  // whoever pairs with the select takes the first (Go's lockorder, sorted by
  // channel address, leaves equal channels in no fixed order either).
  // A select with a size-0 shared send case offers one of them (shared.ts "Offers"), posted last,
  // once every other case is registered and still not ready.
  const offer = offerCase(cases)
  const order = identity(cases.length)
  for (let i = 0; i < cases.length; i++) {
    const k = drawNext(order, i)
    if (k === offer) continue
    const c = cases[k]!
    if (!c.shared) {
      const st = stateOf(c)
      const entry = new MemoryEntry(sel, k, c.channel, c.value)
      // The engine's queues hold whoever waits (waiter.ts): a MemoryEntry duck-types SendOp/ReceiveOp.
      if (c.kind === RECEIVE) st.receiveWaiters.push(entry as unknown as __state.ReceiveOp<unknown>)
      else st.sendWaiters.push(entry as unknown as __state.SendOp<unknown>)
      sel.regs.push(entry)
      continue
    }
    const receive = c.kind === RECEIVE
    const out = outs?.[k]
    const r = registerShared(sel, k, c.channel as SharedHandle, receive, out)
    if (r !== WOULD_BLOCK) {
      sel.claim()
      sel.withdrawAll()
      got = outcome(r, c.channel, out, receive ? takeIncoming() : undefined)
      return k
    }
  }
  if (offer >= 0 && registerOffer(sel, offer, cases[offer]!.channel as SharedSendChannel<unknown>, outs![offer]!) === BROKEN) {
    sel.claim()
    sel.withdrawAll()
    freeOut(outs![offer])
    got = BROKEN_MARK
    return offer
  }
  return -1
}

// ---- the entry points ------------------------------------------------------------

/**
 * Waits until one of `cases` can complete, completes exactly that one, and
 * resolves with its `then` (or `onEnd`) result — Go's `select` statement.
 * When several are ready, one is chosen uniformly at random. Cases that did
 * not commit had no effect.
 *
 * ```ts
 * for (;;) {
 *   const done = await select(
 *     onReceive(results, (r) => { total += r; return false }),
 *     onSend(jobs, nextJob, () => { nextJob++; return false }),
 *     onReceive(quit, () => true, () => true),
 *   )
 *   if (done) break
 * }
 * ```
 *
 * A checkpoint: rejects with `Cancelled` in a cancelled scope (even when a
 * case is ready) and, cancelled while waiting, having committed nothing.
 * Errors, as rejections, in this order: TypeError (an argument not made by
 * onReceive/onSend), Cancelled, ClosedResourceError (a case's handle is
 * closed); then EndOfChannel for an ended receive case without `onEnd`,
 * BrokenResourceError for a send case whose receivers are all closed, and
 * whatever `then` throws. `select()` with no case waits until cancelled.
 * Timeouts are cancel scopes: `await moveOnAfter(100, () => select(...))`.
 */
export function select<R>(...cases: SelectCase<R>[]): Promise<R>
export function select<C extends SelectCase<unknown>[]>(...cases: C): Promise<SelectResult<C>>
export function select(...cases: AnyCase[]): Promise<unknown> {
  const bad = badCase('select', cases)
  if (bad !== undefined) return Promise.reject(bad)
  const ctx = current()
  if (ctx.status.effectivelyCancelled) return Promise.reject(new Cancelled())
  let outs: (Outgoing | undefined)[] | undefined
  let k: number
  try {
    outs = prepare('select', cases)
    k = poll(cases, outs)
  } catch (e) {
    freeAll(outs, -1)
    return Promise.reject(e)
  }
  if (k >= 0) {
    freeAll(outs, k)
    const v = got
    got = undefined
    // Fairness with timers and I/O, as for send/receive (context.ts OPS_PER_TURN).
    return yieldDue() ? macrotask().then(() => finish(cases[k]!, v)) : finishAsync(cases[k]!, v)
  }
  const sel = new SelectWaiter()
  try {
    k = register(sel, cases, outs)
  } catch (e) {
    if (sel.claim()) sel.withdrawAll()
    freeAll(outs, -1)
    return Promise.reject(e)
  }
  if (k >= 0) {
    freeAll(outs, k)
    const v = got
    got = undefined
    return finishAsync(cases[k]!, v)
  }
  return park(sel, ctx).then(
    () => {
      freeAll(outs, sel.index)
      return finish(cases[sel.index]!, sel.value)
    },
    (e: unknown) => {
      freeAll(outs, -1)
      throw e
    },
  )
}

/**
 * Go's `select` with a `default`: completes a case that is ready now (chosen
 * uniformly at random among the ready ones) and returns its `then` result, or
 * throws `WouldBlock` having changed nothing. Not a checkpoint (like
 * `sendNowait`). Throws TypeError, then ClosedResourceError, as `select`
 * rejects. `selectNowait()` with no case throws WouldBlock.
 */
export function selectNowait<R>(...cases: SelectCase<R>[]): R
export function selectNowait<C extends SelectCase<unknown>[]>(...cases: C): SelectResult<C>
export function selectNowait(...cases: AnyCase[]): unknown {
  const bad = badCase('selectNowait', cases)
  if (bad !== undefined) throw bad
  const outs = prepare('selectNowait', cases)
  let k: number
  try {
    k = poll(cases, outs)
  } catch (e) {
    freeAll(outs, -1)
    throw e
  }
  if (k < 0) {
    freeAll(outs, -1)
    throw new WouldBlock('selectNowait: no case is ready (nothing to receive, no room or receiver for a send)')
  }
  freeAll(outs, k)
  const v = got
  got = undefined
  return finish(cases[k]!, v)
}

/**
 * `select` for worker threads that want no `await`: blocks the thread with
 * `Atomics.wait` until a case completes, and returns its `then` result. Shared
 * channels only: a memory-channel case is a TypeError (use `select`). Throws
 * on the main thread, like `receiveSync`. A checkpoint: throws Cancelled (a
 * cancelled worker task's flag is seen between waits), having committed nothing.
 *
 * One `Atomics.wait` watches one word, so with several cases the thread waits
 * on each case's word in turn, in slices of at most 2 ms: a case that becomes
 * ready is seen within about one slice.
 */
export function selectSync<R>(...cases: SelectCase<R>[]): R
export function selectSync<C extends SelectCase<unknown>[]>(...cases: C): SelectResult<C>
export function selectSync(...cases: AnyCase[]): unknown {
  const bad = badCase('selectSync', cases)
  if (bad !== undefined) throw bad
  for (let k = 0; k < cases.length; k++) {
    if (!cases[k]!.shared) {
      throw new TypeError(
        `selectSync: case ${k} is on a memory channel, which belongs to one thread and cannot block it; use await select(...) for memory channels`,
      )
    }
  }
  if (isMainThread) {
    throw new Error(
      "selectSync() blocks its thread with Atomics.wait and would freeze the main thread's event loop; on the main thread use await select() (or selectNowait())",
    )
  }
  checkCancelledSync()
  const outs = prepare('selectSync', cases)
  let k: number
  try {
    k = poll(cases, outs)
    if (k < 0) {
      k = waitSync(cases, outs)
      got = syncGot()
    }
  } catch (e) {
    freeAll(outs, -1)
    throw e
  } finally {
    syncWaitEnd()
  }
  freeAll(outs, k)
  const v = got
  got = undefined
  return finish(cases[k]!, v)
}
