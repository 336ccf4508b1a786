/**
 * A reference model of one Trio memory channel (python-trio/trio
 * `src/trio/_channel.py`), for model-based tests. Pure and synchronous: no
 * promises, no tasks, no time. Each method applies one operation to the
 * model's state and reports what the real channel must do.
 *
 * What it models (Trio's semantics, API.md "Channels"):
 *  - capacity `maxBufferSize` (0 = rendezvous, n, Infinity) and a FIFO buffer;
 *  - FIFO queues of waiting senders (each holding its value) and waiting
 *    receivers: the longest-waiting task is served first, and a value handed
 *    to a waiting receiver never goes through the buffer;
 *  - one open/closed flag per handle and the open counts (clone adds one,
 *    close removes one, idempotent);
 *  - errors: `WouldBlock` (nowait would wait), `EndOfChannel` (every sender
 *    closed and nothing left), `ClosedResourceError` (your handle is closed,
 *    also for tasks waiting on a handle when it closes),
 *    `BrokenResourceError` (every receiver closed: for senders, waiting or not);
 *  - closing the last receiver drops the buffer;
 *  - cancelling a waiting task withdraws it: a cancelled send delivered
 *    nothing, a cancelled receive took nothing (`Cancelled`).
 *
 * Invariants (checked by `checkInvariants`, the same as Trio's asserts):
 *  - at most one of `sendWaiters` / `receiveWaiters` is non-empty;
 *  - `buffer.length > 0` ⇒ no receiver waits;
 *  - a sender waits ⇒ `buffer.length === maxBufferSize`;
 *  - `openReceive === 0` ⇒ buffer empty, no sender waits;
 *  - `openSend === 0` ⇒ nobody waits.
 *
 * Not modelled: checkpoints at entry of a blocking call made inside an
 * already-cancelled scope (tasks here always start uncancelled), `aclose`,
 * timing/fairness against timers, and anything cross-thread.
 */

/** The error classes a channel operation may end with, by name. */
export type ChannelErrorName = 'WouldBlock' | 'EndOfChannel' | 'ClosedResourceError' | 'BrokenResourceError' | 'Cancelled'

/** How a (blocking) task stands: still waiting, completed with a value, or failed. */
export type Outcome =
  | { readonly state: 'waiting' }
  | { readonly state: 'ok'; readonly value?: unknown }
  | { readonly state: 'error'; readonly error: ChannelErrorName }

/** The result of a non-blocking call: a value, or the error it threw. */
export type NowaitResult = { readonly ok: true; readonly value?: unknown } | { readonly ok: false; readonly error: ChannelErrorName }

/** Mirrors `ChannelStatistics`. */
export interface ModelStatistics {
  currentBufferUsed: number
  maxBufferSize: number
  openSendChannels: number
  openReceiveChannels: number
  tasksWaitingSend: number
  tasksWaitingReceive: number
  peakBufferUsed: number
}

/** Receive flavours: `receive()` fails with EndOfChannel; an iterator's `next()` returns `{ done: true }`. */
export type ReceiveKind = 'receive' | 'next'

interface SendWaiter {
  readonly task: number
  readonly handle: number
  readonly value: unknown
}
interface ReceiveWaiter {
  readonly task: number
  readonly handle: number
  readonly kind: ReceiveKind
}

const WAITING: Outcome = Object.freeze({ state: 'waiting' })

export class TrioChannelModel {
  /** Values sent and not yet received, oldest first. */
  readonly buffer: unknown[] = []
  /** Tasks blocked in `send`, longest-waiting first. */
  readonly sendWaiters: SendWaiter[] = []
  /** Tasks blocked in `receive`/`next`, longest-waiting first. */
  readonly receiveWaiters: ReceiveWaiter[] = []
  /** `sendClosed[h]`: send handle h is closed. Handles are numbered in creation order; 0 is the original. */
  readonly sendClosed: boolean[] = [false]
  readonly receiveClosed: boolean[] = [false]
  openSend = 1
  openReceive = 1
  peakBufferUsed = 0
  /** Every task started so far and how it stands now (tasks are numbered by the caller). */
  readonly outcomes = new Map<number, Outcome>()

  readonly maxBufferSize: number
  constructor(maxBufferSize: number) {
    this.maxBufferSize = maxBufferSize
  }

  // ---- blocking operations: start a task; its outcome may change later ----

  /** Task `task` calls `send(value)` on send handle `h`. */
  send(task: number, h: number, value: unknown): Outcome {
    const o = this.#trySend(h, value)
    if (o === 'wait') {
      this.sendWaiters.push({ task, handle: h, value })
      return this.#set(task, WAITING)
    }
    return this.#set(task, o.ok ? { state: 'ok' } : { state: 'error', error: o.error })
  }

  /** Task `task` calls `receive()` (or its iterator's `next()`) on receive handle `h`. */
  receive(task: number, h: number, kind: ReceiveKind = 'receive'): Outcome {
    const o = this.#tryReceive(h)
    if (o === 'wait') {
      this.receiveWaiters.push({ task, handle: h, kind })
      return this.#set(task, WAITING)
    }
    return this.#set(task, receiveOutcome(kind, o))
  }

  /** The task's cancel scope is cancelled: a waiting task is withdrawn (nothing happened); others are unaffected. */
  cancel(task: number): void {
    if (this.outcomes.get(task)?.state !== 'waiting') return
    let i = this.sendWaiters.findIndex((w) => w.task === task)
    if (i >= 0) this.sendWaiters.splice(i, 1)
    i = this.receiveWaiters.findIndex((w) => w.task === task)
    if (i >= 0) this.receiveWaiters.splice(i, 1)
    this.#set(task, { state: 'error', error: 'Cancelled' })
  }

  // ---- non-blocking operations ----

  sendNowait(h: number, value: unknown): NowaitResult {
    const o = this.#trySend(h, value)
    return o === 'wait' ? { ok: false, error: 'WouldBlock' } : o
  }

  receiveNowait(h: number): NowaitResult {
    const o = this.#tryReceive(h)
    return o === 'wait' ? { ok: false, error: 'WouldBlock' } : o
  }

  /** `clone()` on send handle h: the new handle's number, or the error. */
  cloneSend(h: number): NowaitResult {
    if (this.sendClosed[h]) return { ok: false, error: 'ClosedResourceError' }
    this.sendClosed.push(false)
    this.openSend++
    return { ok: true, value: this.sendClosed.length - 1 }
  }

  cloneReceive(h: number): NowaitResult {
    if (this.receiveClosed[h]) return { ok: false, error: 'ClosedResourceError' }
    this.receiveClosed.push(false)
    this.openReceive++
    return { ok: true, value: this.receiveClosed.length - 1 }
  }

  /** Trio's MemorySendChannel.close. */
  closeSend(h: number): void {
    if (this.sendClosed[h]) return
    this.sendClosed[h] = true
    for (const w of removeWhere(this.sendWaiters, (w) => w.handle === h)) {
      this.#set(w.task, { state: 'error', error: 'ClosedResourceError' })
    }
    if (--this.openSend === 0) {
      for (const w of this.receiveWaiters.splice(0)) this.#set(w.task, receiveOutcome(w.kind, { ok: false, error: 'EndOfChannel' }))
    }
  }

  /** Trio's MemoryReceiveChannel.close. */
  closeReceive(h: number): void {
    if (this.receiveClosed[h]) return
    this.receiveClosed[h] = true
    for (const w of removeWhere(this.receiveWaiters, (w) => w.handle === h)) {
      this.#set(w.task, { state: 'error', error: 'ClosedResourceError' })
    }
    if (--this.openReceive === 0) {
      this.buffer.length = 0
      for (const w of this.sendWaiters.splice(0)) this.#set(w.task, { state: 'error', error: 'BrokenResourceError' })
    }
  }

  statistics(): ModelStatistics {
    return {
      currentBufferUsed: this.buffer.length,
      maxBufferSize: this.maxBufferSize,
      openSendChannels: this.openSend,
      openReceiveChannels: this.openReceive,
      tasksWaitingSend: this.sendWaiters.length,
      tasksWaitingReceive: this.receiveWaiters.length,
      peakBufferUsed: this.peakBufferUsed,
    }
  }

  /** The tasks waiting now, in the order they started waiting. */
  waitingTasks(): number[] {
    return [...this.outcomes].filter(([, o]) => o.state === 'waiting').map(([t]) => t)
  }

  /** Throws if a Trio invariant does not hold (a bug in the model). */
  checkInvariants(): void {
    const fail = (what: string): never => {
      throw new Error(`TrioChannelModel invariant violated: ${what}`)
    }
    if (this.sendWaiters.length > 0 && this.receiveWaiters.length > 0) fail('both wait queues non-empty')
    if (this.buffer.length > 0 && this.receiveWaiters.length > 0) fail('a receiver waits while values are buffered')
    if (this.sendWaiters.length > 0 && this.buffer.length !== this.maxBufferSize) fail('a sender waits while the buffer has room')
    if (this.openReceive === 0 && (this.buffer.length > 0 || this.sendWaiters.length > 0)) fail('no receiver but values/senders remain')
    if (this.openSend === 0 && (this.sendWaiters.length > 0 || this.receiveWaiters.length > 0)) fail('no sender but tasks wait')
  }

  // ---- Trio's send_nowait / receive_nowait, shared by the blocking forms ----

  #trySend(h: number, value: unknown): NowaitResult | 'wait' {
    if (this.sendClosed[h]) return { ok: false, error: 'ClosedResourceError' }
    if (this.openReceive === 0) return { ok: false, error: 'BrokenResourceError' }
    const r = this.receiveWaiters.shift()
    if (r !== undefined) {
      this.#set(r.task, receiveOutcome(r.kind, { ok: true, value }))
      return { ok: true }
    }
    if (this.buffer.length < this.maxBufferSize) {
      this.buffer.push(value)
      this.peakBufferUsed = Math.max(this.peakBufferUsed, this.buffer.length)
      return { ok: true }
    }
    return 'wait'
  }

  #tryReceive(h: number): NowaitResult | 'wait' {
    if (this.receiveClosed[h]) return { ok: false, error: 'ClosedResourceError' }
    const s = this.sendWaiters.shift()
    if (s !== undefined) {
      // The longest-waiting sender completes; its value goes behind the buffered ones.
      this.#set(s.task, { state: 'ok' })
      this.buffer.push(s.value)
    }
    if (this.buffer.length > 0) return { ok: true, value: this.buffer.shift() }
    if (this.openSend === 0) return { ok: false, error: 'EndOfChannel' }
    return 'wait'
  }

  #set(task: number, o: Outcome): Outcome {
    this.outcomes.set(task, o)
    return o
  }
}

function receiveOutcome(kind: ReceiveKind, r: NowaitResult): Outcome {
  if (kind === 'next') {
    if (r.ok) return { state: 'ok', value: { done: false, value: r.value } }
    if (r.error === 'EndOfChannel') return { state: 'ok', value: { done: true, value: undefined } }
  }
  return r.ok ? { state: 'ok', value: r.value } : { state: 'error', error: r.error }
}

/** Removes and returns the elements matching `pick`, in order. */
function removeWhere<T>(xs: T[], pick: (x: T) => boolean): T[] {
  const out: T[] = []
  for (let i = 0; i < xs.length; ) {
    if (pick(xs[i]!)) out.push(...xs.splice(i, 1))
    else i++
  }
  return out
}
