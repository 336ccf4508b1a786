/**
 * The send side of one handle: its values go out one at a time, in order
 * (one sender's values arrive in order), through a queue of pending sends.
 *
 * A publish carries a message id (`Nats-Msg-Id`, unique per value), so a
 * publish whose answer was lost (timeout, server restart: the client drops a
 * publish made while the server is down) is simply made again with the same
 * id until the server answers; the server stores it once (dedupe window
 * 120 s). A full channel (`max_msgs`, discard-new: error 10077) makes the
 * send wait for a `room` notice from a receiver, with a fallback timer
 * because core NATS may drop a notice.
 *
 * Size 0 is a one-slot stream whose send also waits for the receiver's
 * confirmation (`taken <id>` notice, or the message found gone when polled).
 *
 * Invariants:
 *  - S1 only the queue's head has a publish in flight (`inFlight`).
 *  - S2 a send whose publish was not stored can be withdrawn (cancel,
 *    close): it delivered nothing. Once a publish is in flight the outcome is
 *    awaited first: stored means the send completed even if cancelled.
 */
import { BrokenResourceError, ClosedResourceError } from '@gotrio/channels'
import { Cancelled } from '@gotrio/runtime'
import { Parked } from '@gotrio/runtime/lowlevel'
import type { ChannelLink } from './link.ts'

export class SendOp extends Parked<void> {
  /** S1: a publish of it is on its way to the server. */
  inFlight = false
  /** Cancellation was asked while in flight (or, size 0, while waiting for the receiver). */
  cancelRequested = false
  /** Sent by sendNowait: nobody waits on it, it must go out anyway (until close drains the queue). */
  readonly detached: boolean
  /** Stored in the stream (size 0: waiting for the receiver's confirmation). */
  stored = false
  seq = 0
  readonly queue: SendQueue
  readonly payload: Uint8Array
  readonly id: string
  constructor(queue: SendQueue, payload: Uint8Array, id: string, detached: boolean) {
    super()
    this.queue = queue
    this.payload = payload
    this.id = id
    this.detached = detached
  }
  get waitsOn(): string {
    return `NatsSendChannel.send (channel ${this.queue.link.name})`
  }
  abort(): boolean {
    if (!this.inFlight && !this.stored) {
      this.queue.remove(this)
      return true
    }
    this.cancelRequested = true
    if (this.stored) void this.queue.withdrawStored(this)
    return false
  }
}

const PUBLISH_TIMEOUT = 2000
const ROOM_FALLBACK_MS = 100

function isFull(e: unknown): boolean {
  const x = e as { code?: unknown; message?: unknown } | null
  return x?.code === 10077 || (typeof x?.message === 'string' && /maximum messages exceeded/i.test(x.message))
}

export class SendQueue {
  readonly ops: SendOp[] = []
  #pumping = false
  /** Resolves when the queue empties (aclose waits for sendNowait values to be stored). */
  #drained: (() => void)[] = []

  readonly link: ChannelLink

  constructor(link: ChannelLink) {
    this.link = link
  }

  push(op: SendOp): void {
    this.ops.push(op)
    if (!this.#pumping) void this.#pump()
  }

  remove(op: SendOp): void {
    const i = this.ops.indexOf(op)
    if (i >= 0) this.ops.splice(i, 1)
    this.#checkDrained()
  }

  /** Fails the sends that wait (not detached ones, not one in flight) with `e`. */
  failWaiting(e: Error): void {
    for (const op of [...this.ops]) {
      if (!op.detached && !op.inFlight && !op.stored) {
        this.remove(op)
        op.fail(e)
      }
    }
  }

  drained(): Promise<void> {
    if (this.ops.length === 0) return Promise.resolve()
    return new Promise((r) => this.#drained.push(r))
  }

  #checkDrained(): void {
    if (this.ops.length > 0) return
    for (const r of this.#drained.splice(0)) r()
  }

  async #pump(): Promise<void> {
    this.#pumping = true
    try {
      while (this.ops.length > 0) {
        const op = this.ops[0]!
        const lost = this.link.lost
        if (lost || this.link.recvClosed) {
          this.ops.shift()
          op.fail(lost ?? broken(this.link.name))
          this.#checkDrained() // an aclose() waiting for the queue to empty must not wait on a dropped op
          continue
        }
        op.inFlight = true
        let outcome: 'stored' | 'full' | 'retry'
        try {
          const ack = await this.link.js.publish(this.link.subject, op.payload, { msgID: op.id, timeout: PUBLISH_TIMEOUT })
          op.seq = ack.seq
          outcome = 'stored'
        } catch (e) {
          outcome = isFull(e) ? 'full' : 'retry'
        }
        op.inFlight = false
        if (outcome === 'stored') {
          this.ops.shift()
          this.link.snapshot.messages++
          this.link.snapshot.peak = Math.min(this.link.capacity, Math.max(this.link.snapshot.peak, this.link.snapshot.messages))
          if (this.link.capacity === 0) {
            op.stored = true
            void this.#awaitTaken(op)
          } else op.wake()
          this.#checkDrained()
          continue
        }
        if (op.cancelRequested) {
          // Not stored (full), or unknown: a retry with the same id tells (duplicate means stored).
          if (outcome === 'full') {
            this.ops.shift()
            op.fail(new Cancelled())
            this.#checkDrained()
            continue
          }
        }
        await this.#waitRoom(outcome === 'full')
      }
    } finally {
      this.#pumping = false
    }
  }

  /** Waits for a `room` notice, a change of state, or the fallback timer. */
  #waitRoom(full: boolean): Promise<void> {
    if (full) this.link.notice('want-room')
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t)
        this.link.listeners.delete(done)
        resolve()
      }
      const t = setTimeout(done, full ? ROOM_FALLBACK_MS : 250)
      this.link.listeners.add(done)
    })
  }

  /** Size 0: waits until a receiver confirmed the value (notice), polling the stream as a fallback. */
  async #awaitTaken(op: SendOp): Promise<void> {
    const rx = this.link.receiver
    let taken = false
    const notified = new Promise<void>((r) => rx.takenWaiters.set(op.id, r)).then(() => {
      taken = true
    })
    while (!taken && !op.settled) {
      await Promise.race([notified, new Promise((r) => setTimeout(r, 250))])
      if (taken || op.settled) break
      if (this.link.lost) {
        op.fail(this.link.lost)
        break
      }
      if (this.link.recvClosed) {
        // The last receiver dropped the buffer: the value was not delivered.
        op.fail(broken(this.link.name))
        break
      }
      try {
        const m = await this.link.jsm.streams.getMessage(this.link.stream, { seq: op.seq })
        if (!m) taken = true
      } catch {
        /* not found is reported as null or an error depending on the server: look at the consumer */
        taken = await this.#deliveredAndGone(op)
      }
    }
    rx.takenWaiters.delete(op.id)
    if (taken) op.wake()
  }

  async #deliveredAndGone(op: SendOp): Promise<boolean> {
    try {
      const info = await this.link.jsm.streams.info(this.link.stream)
      return info.state.first_seq > op.seq || info.state.messages === 0
    } catch {
      return false
    }
  }

  /**
   * Size 0, cancelled while its value waits in the slot: withdraws it if no
   * receiver has been given it yet (the consumer's delivered sequence is
   * below it); otherwise the send completes once the receiver confirms.
   */
  async withdrawStored(op: SendOp): Promise<void> {
    try {
      const ci = await this.link.jsm.consumers.info(this.link.stream, 'receivers')
      if (ci.delivered.stream_seq >= op.seq) return
      const ok = await this.link.jsm.streams.deleteMessage(this.link.stream, op.seq, false)
      if (ok && op.fail(new Cancelled())) this.link.notice('room')
    } catch {
      /* already taken (or unknown): the send completes as the receiver confirms */
    }
  }
}

export function broken(name: string): BrokenResourceError {
  return new BrokenResourceError(`NATS channel ${name}: every receiver is closed; nothing more can be sent`)
}

export function closedError(name: string, side: 'send' | 'receive', moved: boolean): ClosedResourceError {
  return new ClosedResourceError(
    moved
      ? `this ${side} handle of NATS channel ${name} was moved (to a worker thread or a remote task) and can no longer be used here`
      : `this ${side} handle of NATS channel ${name} is closed`,
  )
}
