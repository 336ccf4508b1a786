/**
 * The receive machinery of one channel link (one process, one connection):
 * a single puller on the channel's shared durable consumer, the values it
 * fetched and not yet handed out (`held`), and the receives waiting in this
 * process, served in arrival order.
 *
 * A receive is a fetch plus a *confirmed* ack (`ackAck`): only once the
 * server has the ack is the value this receive's (work-queue retention then
 * removes it); an ack that fails gives nothing to the caller, and the server
 * redelivers the value after `ack_wait`. A cancelled receive withdraws before
 * its ack starts (it took nothing); values fetched for nobody go back with
 * `nak()` (redelivered at once). A pull request stays registered at the
 * server until it expires (1 s), so the puller is never abandoned: a value
 * it brings after its receive was cancelled is held for the next receive or
 * nak'ed.
 *
 * Invariants:
 *  - V1 a value is in at most one of: `held`, a claim in progress, handed out.
 *  - V2 `waiters` is non-empty only while `held` is empty (dispatch runs after every change).
 *  - V3 at most one pull request of this link is pending at a time (`pulling`).
 *  - V4 `ended` only goes from false to true, and only when every sender is
 *    closed and the stream holds no message (waiting or fetched by anyone).
 */
import type { JsMsg } from '@nats-io/jetstream'
import { EndOfChannel } from '@gotrio/channels'
import { Parked } from '@gotrio/runtime/lowlevel'
import type { ChannelLink } from './link.ts'
import { RECEIVERS } from './names.ts'

/** A value fetched for this process and not yet claimed. */
interface Held {
  readonly msg: JsMsg
  /** When it was fetched (values held too long go back: the server would redeliver them after ack_wait). */
  readonly at: number
}

/** A waiting receive (`receive`, `receiveMany`), parked in its task. */
export class ReceiveOp extends Parked<unknown[]> {
  /** Set once its values are being acknowledged: too late to withdraw (abort returns false). */
  committed = false
  readonly receiver: Receiver
  readonly max: number
  constructor(receiver: Receiver, max: number) {
    super()
    this.receiver = receiver
    this.max = max
  }
  get waitsOn(): string {
    return `NatsReceiveChannel.receive (channel ${this.receiver.link.name})`
  }
  abort(): boolean {
    if (this.committed) return false
    this.receiver.withdraw(this)
    return true
  }
}

const MAX_BATCH = 64
const DEDUPE = 10_000

export class Receiver {
  held: Held[] = []
  readonly waiters: ReceiveOp[] = []
  /** V3. */
  pulling = false
  /** When a receive last asked for a value here (held values of an idle process go back). */
  lastDemand = 0
  /** Values asked for per pull: doubles while pulls come back full, back to 1 when one comes back short. */
  batch = 1
  /** V4. */
  ended = false
  /** Message ids already handed out here, oldest first: a value the server brings back after a crash is dropped. */
  readonly #seen = new Set<string>()
  /** Size 0: senders waiting for the receiver's confirmation of their message id. */
  readonly takenWaiters = new Map<string, () => void>()

  readonly link: ChannelLink

  constructor(link: ChannelLink) {
    this.link = link
  }

  /** Queues a receive; resolves with 1..max values. */
  enqueue(op: ReceiveOp): void {
    this.lastDemand = Date.now()
    this.waiters.push(op)
    this.dispatch()
    if (this.waiters.length > 0) {
      if (this.link.capacity === 0) this.link.notice('want-value')
      this.pull()
      this.checkEnd()
    }
  }

  withdraw(op: ReceiveOp): void {
    const i = this.waiters.indexOf(op)
    if (i >= 0) this.waiters.splice(i, 1)
  }

  /** Takes held values synchronously (`receiveNowait`): their acks go out in the background. */
  takeNowait(max: number): unknown[] | undefined {
    this.lastDemand = Date.now()
    if (this.held.length === 0 || this.waiters.length > 0) return undefined
    const take = this.held.splice(0, max)
    const out: unknown[] = []
    for (const h of take) {
      if (this.#isDuplicate(h.msg)) {
        h.msg.ack()
        continue
      }
      out.push(this.link.codec.decode(h.msg.data))
      void h.msg.ackAck().then(
        () => this.#afterAck(h.msg),
        () => undefined,
      )
    }
    return out.length > 0 ? out : undefined
  }

  /** V2: hands held values to waiting receives, oldest receive first. */
  dispatch(): void {
    while (this.held.length > 0 && this.waiters.length > 0) {
      const op = this.waiters.shift()!
      const take = this.held.splice(0, op.max)
      op.committed = true
      void this.#claim(op, take)
    }
  }

  async #claim(op: ReceiveOp, take: Held[]): Promise<void> {
    const acked = await Promise.all(
      take.map((h) =>
        h.msg.ackAck({ timeout: 5000 }).then(
          (ok) => ok,
          () => false,
        ),
      ),
    )
    const values: unknown[] = []
    for (let i = 0; i < take.length; i++) {
      const m = take[i]!.msg
      if (!acked[i]) continue // not confirmed ours: the server will redeliver it (to anyone)
      this.#afterAck(m)
      if (this.#isDuplicate(m)) continue
      try {
        values.push(this.link.codec.decode(m.data))
      } catch (e) {
        op.fail(
          new TypeError(
            `NATS channel ${this.link.name}: a value could not be decoded by codec ${this.link.codec.name} (was it sent with another codec?): ${String(e)}`,
            { cause: e },
          ),
        )
        return
      }
    }
    if (values.length > 0) {
      op.wake(values)
      return
    }
    // Nothing was confirmed: the receive waits again, at the head of the line.
    if (this.link.lost) {
      op.fail(this.link.lost)
      return
    }
    op.committed = false
    this.waiters.unshift(op)
    this.pull()
  }

  #isDuplicate(m: JsMsg): boolean {
    const id = m.headers?.get('Nats-Msg-Id')
    if (!id) return false
    if (this.#seen.has(id)) return true
    this.#seen.add(id)
    if (this.#seen.size > DEDUPE) this.#seen.delete(this.#seen.values().next().value!)
    return false
  }

  #afterAck(m: JsMsg): void {
    this.link.snapshot.messages = Math.max(0, this.link.snapshot.messages - 1)
    if (this.link.capacity === 0) {
      const id = m.headers?.get('Nats-Msg-Id')
      if (id) {
        this.onTaken(id)
        this.link.notice(`taken ${id}`)
      }
    } else if (this.link.roomWantedUntil > Date.now()) this.link.notice('room')
  }

  /** Size 0: a receiver confirmed the message `id` (here or in another process). */
  onTaken(id: string): void {
    const w = this.takenWaiters.get(id)
    if (w) {
      this.takenWaiters.delete(id)
      w()
    }
  }

  /** V3: starts a pull request unless one is pending, none is needed, or the channel ended. */
  pull(): void {
    if (this.pulling || this.ended || this.link.lost || this.waiters.length === 0) return
    this.pulling = true
    void this.#pullOnce()
  }

  async #pullOnce(): Promise<void> {
    let got = 0
    const batch = this.batch
    try {
      const consumer = await this.link.js.consumers.get(this.link.stream, RECEIVERS)
      const iter = await consumer.fetch({ max_messages: batch, expires: 1000 })
      for await (const m of iter) {
        got++
        this.held.push({ msg: m, at: Date.now() })
        this.dispatch()
      }
    } catch {
      // Server shutdown (409), a reconnect in progress, a deleted stream: try again shortly,
      // unless the connection is gone for good (then failAll has run).
      if (!this.link.lost) await new Promise((r) => setTimeout(r, 100))
    } finally {
      this.pulling = false
    }
    this.batch = got === batch ? Math.min(MAX_BATCH, batch * 2) : 1
    if (this.waiters.length === 0) {
      // Values fetched for receives that were cancelled meanwhile: keep them a short while for the next receive.
      return
    }
    if (got === 0) this.checkEnd()
    this.pull()
  }

  /** V4: ends every waiting receive with EndOfChannel once senders are closed and nothing is left anywhere. */
  checkEnd(): void {
    if (this.ended || !this.link.sendClosed || this.held.length > 0 || this.link.lost) return
    void this.link.messagesNow().then(
      (n) => {
        if (n !== 0 || this.held.length > 0 || this.ended) return
        this.ended = true
        for (const op of this.waiters.splice(0))
          op.fail(new EndOfChannel(`NATS channel ${this.link.name}: every sender is closed and the channel is drained`))
      },
      () => undefined,
    )
  }

  /**
   * Called every leaseMs / 3. Held values go back (nak) once no receive has
   * asked for a value here for a third of the lease: an idle process must not
   * sit on values others could take. While receives keep coming, held values
   * are kept and their ack deadline is pushed back (`working()`): giving them
   * back would reorder them behind later values.
   */
  returnStale(): void {
    if (this.held.length === 0) return
    const now = Date.now()
    const third = this.link.config.leaseMs / 3
    if (this.waiters.length === 0 && now - this.lastDemand > third) {
      this.returnAll()
      return
    }
    for (const h of this.held) if (now - h.at > third) h.msg.working()
  }

  /** Gives every held value back (the last receive handle of this process closed). */
  returnAll(): void {
    for (const h of this.held.splice(0)) h.msg.nak()
  }

  failAll(e: Error): void {
    for (const op of this.waiters.splice(0)) op.fail(e)
  }
}
