/**
 * The public face of NATS channels: `openNatsChannel`, `attachNatsChannel`,
 * `deleteNatsChannel`, and the two handle classes. Each handle is one lease
 * (link.ts); the engine is link.ts (per channel and process), sender.ts (one
 * handle's sends) and receiver.ts (the process's receives).
 */
import type { NatsConnection } from '@nats-io/transport-node'
import {
  ClosedResourceError,
  EndOfChannel,
  WouldBlock,
  type ChannelStatistics,
  type ReceiveChannel,
  type SendChannel,
} from '@gotrio/channels'
import { adoptResource, checkCancelled, current, kTransfer, park, releaseResource, type TransferRecord } from '@gotrio/runtime/lowlevel'
import { codecByName, codecFromOption, type NatsCodec } from './codec.ts'
import { deleteChannel, getLink, type ChannelConfig, type ChannelLink, type Side } from './link.ts'
import { checkName, uniqueId } from './names.ts'
import { ReceiveOp } from './receiver.ts'
import { broken, closedError, SendOp, SendQueue } from './sender.ts'

export interface NatsChannelOptions<T> {
  /** 0 (rendezvous, the default), a positive integer, or Infinity: how many values may wait in the server. */
  maxBufferSize?: number
  /** How values become bytes: 'structured' (default, v8 structured clone), 'json', or a NatsCodec. */
  codec?: 'structured' | 'json' | NatsCodec<T>
  /** How long a dead process's handles stay open (ms, default 5000, at least 300). */
  leaseMs?: number
}

/** What moves with a handle to another thread or process (its lease key keeps it counted). */
export interface HandleRecord {
  readonly server: string
  readonly name: string
  readonly side: Side
  readonly key: string
  /** Thread moves: set to 1 by the new thread once it refreshes the lease (link.ts, movingOut). */
  readonly adopted?: SharedArrayBuffer
}

const TRANSFER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './transfer.ts' : './transfer.js', import.meta.url).href

function statsOf(link: ChannelLink, waitingSend: number, waitingReceive: number): ChannelStatistics {
  const s = link.snapshot
  return {
    currentBufferUsed: s.messages,
    maxBufferSize: link.capacity,
    openSendChannels: s.senders,
    openReceiveChannels: s.receivers,
    tasksWaitingSend: waitingSend,
    tasksWaitingReceive: waitingReceive,
    peakBufferUsed: s.peak,
  }
}

export abstract class NatsHandle {
  #closed = false
  #moved = false
  #closing: Promise<void> | undefined
  readonly link: ChannelLink
  readonly key: string
  readonly side: Side
  constructor(link: ChannelLink, key: string, side: Side) {
    this.link = link
    this.key = key
    this.side = side
    link.handles++
    adoptResource(this)
  }
  get closed(): boolean {
    return this.#closed
  }
  protected check(): void {
    if (this.#closed) throw closedError(this.link.name, this.side === 's' ? 'send' : 'receive', this.#moved)
  }
  protected abstract beforeClose(): Promise<void>
  close(): void {
    if (this.#closed) return
    this.#closed = true
    releaseResource(this)
    this.#closing = (async () => {
      try {
        await this.beforeClose()
        await this.link.dropKey(this.key, this.side)
      } catch {
        /* the server is unreachable: the lease lapses by itself after leaseMs */
      } finally {
        this.link.handleClosed()
      }
    })()
  }
  async aclose(): Promise<void> {
    this.close()
    await this.#closing
  }
  [Symbol.dispose](): void {
    this.close()
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose()
  }
  /** Gives the handle up for another thread or process; its lease key goes with it. */
  moveOut(check: boolean): HandleRecord | undefined {
    this.check()
    if (check) return undefined
    this.#closed = true
    this.#moved = true
    releaseResource(this)
    const adopted = new SharedArrayBuffer(4)
    this.link.releaseKey(this.key)
    this.link.movingOut.set(this.key, new Int32Array(adopted))
    this.link.handleClosed()
    return { server: this.link.nc.getServer(), name: this.link.name, side: this.side, key: this.key, adopted }
  }
  /**
   * Gives the handle up for a remote task: its lease key stays refreshed here
   * until the task's host has taken it over (`handOver`), or is closed if the
   * task never ran (`giveBack`).
   */
  moveToRemote(): { record: HandleRecord; handOver(): void; giveBack(): Promise<void> } {
    this.check()
    this.#closed = true
    this.#moved = true
    releaseResource(this)
    const link = this.link
    const key = this.key
    const side = this.side
    let done = false
    return {
      record: { server: link.nc.getServer(), name: link.name, side, key },
      handOver() {
        if (done) return
        done = true
        link.releaseKey(key)
        link.handleClosed()
      },
      async giveBack() {
        if (done) return
        done = true
        await link.dropKey(key, side).catch(() => undefined)
        link.handleClosed()
      },
    }
  }
  [kTransfer](check?: boolean): TransferRecord | undefined {
    const data = this.moveOut(check === true)
    return data && { module: TRANSFER_MODULE, data }
  }
}

/** The send side of a NATS channel: a `SendChannel` whose receivers may be in any process on any machine. */
export class NatsSendChannel<T> extends NatsHandle implements SendChannel<T> {
  readonly #queue: SendQueue
  /** @internal use openNatsChannel / attachNatsChannel */
  constructor(link: ChannelLink, key: string) {
    super(link, key, 's')
    this.#queue = new SendQueue(link)
  }

  #encode(value: T): Uint8Array {
    return this.link.codec.encode(value)
  }

  #precheck(): void {
    this.check()
    if (this.link.lost) throw this.link.lost
    if (this.link.recvClosed) throw broken(this.link.name)
  }

  /** Sends `value`, waiting while the channel is full (size 0: until a receiver has it). Cancelled: nothing was sent. */
  send(value: T): Promise<void> {
    const ctx = current()
    try {
      checkCancelled(ctx)
      this.#precheck()
      const op = new SendOp(this.#queue, this.#encode(value), `${this.key}.${uniqueId()}`, false)
      this.#queue.push(op)
      return park(op, ctx)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /**
   * Sends without waiting, from credit this handle holds: on a bounded channel
   * the free slots of the latest snapshot less what this handle has queued;
   * on size 0 only while a receiver said it waits; always on an unbounded one.
   * Otherwise `WouldBlock`, nothing sent. The value is published in the
   * background, in order with this handle's other sends; `aclose()` waits for it.
   */
  sendNowait(value: T): void {
    this.#precheck()
    const link = this.link
    const queued = this.#queue.ops.length
    let credit: boolean
    if (link.capacity === Infinity) credit = true
    else if (link.capacity === 0) credit = queued === 0 && link.receiverWaitingUntil > Date.now()
    else credit = link.capacity - link.snapshot.messages - queued > 0
    if (!credit) throw new WouldBlock(`NATS channel ${link.name}: no credit for a buffer slot in this handle's snapshot; use await send()`)
    const op = new SendOp(this.#queue, this.#encode(value), `${this.key}.${uniqueId()}`, true)
    if (link.capacity === 0) link.receiverWaitingUntil = 0
    this.#queue.push(op)
  }

  clone(): NatsSendChannel<T> {
    this.check()
    const { key, put } = this.link.addKey('s')
    put.catch(() => undefined)
    return new NatsSendChannel<T>(this.link, key)
  }

  protected async beforeClose(): Promise<void> {
    this.#queue.failWaiting(closedError(this.link.name, 'send', false))
    await this.#queue.drained()
  }

  statistics(): ChannelStatistics {
    return statsOf(this.link, this.#queue.ops.filter((o) => !o.detached).length, 0)
  }
}

/** The receive side of a NATS channel: a `ReceiveChannel` whose senders may be in any process on any machine. */
export class NatsReceiveChannel<T> extends NatsHandle implements ReceiveChannel<T> {
  /** @internal use openNatsChannel / attachNatsChannel */
  constructor(link: ChannelLink, key: string) {
    super(link, key, 'r')
  }

  #mine = new Set<ReceiveOp>()

  async receive(): Promise<T> {
    const v = await this.receiveMany(1)
    return v[0] as T
  }

  receiveMany(max: number): Promise<T[]> {
    const ctx = current()
    try {
      checkMax('receiveMany', max)
      checkCancelled(ctx)
      this.check()
      if (this.link.lost) throw this.link.lost
      if (this.link.receiver.ended) throw endOf(this.link.name)
      const op = new ReceiveOp(this.link.receiver, Math.min(max, 256))
      this.#mine.add(op)
      this.link.receiver.enqueue(op)
      const p = park(op, ctx) as Promise<T[]>
      return p.finally(() => this.#mine.delete(op))
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /** A value this process already fetched (its ack goes out in the background), or `WouldBlock`. */
  receiveNowait(): T {
    return this.receiveManyNowait(1)[0] as T
  }

  receiveManyNowait(max: number): T[] {
    checkMax('receiveManyNowait', max)
    this.check()
    if (this.link.lost) throw this.link.lost
    const got = this.link.receiver.takeNowait(max)
    if (got) return got as T[]
    if (this.link.receiver.ended) throw endOf(this.link.name)
    throw new WouldBlock(`NATS channel ${this.link.name}: no value has been fetched for this handle; use await receive()`)
  }

  clone(): NatsReceiveChannel<T> {
    this.check()
    const { key, put } = this.link.addKey('r')
    put.catch(() => undefined)
    return new NatsReceiveChannel<T>(this.link, key)
  }

  protected async beforeClose(): Promise<void> {
    const err = closedError(this.link.name, 'receive', false)
    for (const op of this.#mine) {
      if (!op.committed) {
        this.link.receiver.withdraw(op)
        op.fail(err)
      }
    }
    if (this.link.handles === 1) this.link.receiver.returnAll()
  }

  statistics(): ChannelStatistics {
    return statsOf(this.link, 0, this.link.receiver.waiters.length)
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      let v: T
      try {
        v = await this.receive()
      } catch (e) {
        if (e instanceof EndOfChannel) return
        throw e
      }
      yield v
    }
  }
}

function endOf(name: string): EndOfChannel {
  return new EndOfChannel(`NATS channel ${name}: every sender is closed and the channel is drained`)
}

function checkMax(what: string, max: unknown): void {
  if (typeof max !== 'number' || Number.isNaN(max) || (!Number.isInteger(max) && max !== Infinity)) {
    throw new TypeError(`${what}(max): max must be a positive integer or Infinity, got ${String(max)}`)
  }
  if (max < 1) throw new RangeError(`${what}(max): max must be at least 1, got ${max}`)
}

function checkConnection(what: string, nc: unknown): asserts nc is NatsConnection {
  const c = nc as Partial<NatsConnection> | null
  if (typeof c !== 'object' || c === null || typeof c.subscribe !== 'function' || typeof c.request !== 'function') {
    throw new TypeError(`${what}: nc must be a NatsConnection (from connect() of @gotrio/nats or @nats-io/transport-node)`)
  }
}

function configFrom<T>(options: NatsChannelOptions<T> | undefined): { config: ChannelConfig; codec: NatsCodec<unknown> } {
  const what = 'openNatsChannel(nc, name, options)'
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw new TypeError(`${what}: options must be an object like { maxBufferSize, codec, leaseMs }`)
  const o = options ?? {}
  for (const k of Object.keys(o)) {
    if (!['maxBufferSize', 'codec', 'leaseMs'].includes(k))
      throw new TypeError(`${what}: unknown option ${JSON.stringify(k)} (known: maxBufferSize, codec, leaseMs)`)
  }
  const size = o.maxBufferSize ?? 0
  if (typeof size !== 'number' || Number.isNaN(size) || (!Number.isInteger(size) && size !== Infinity)) {
    throw new TypeError(`${what}: maxBufferSize must be a non-negative integer or Infinity, got ${String(size)}`)
  }
  if (size < 0) throw new RangeError(`${what}: maxBufferSize must be a non-negative integer or Infinity, got ${size}`)
  const lease = o.leaseMs ?? 5000
  if (typeof lease !== 'number' || !Number.isInteger(lease))
    throw new TypeError(`${what}: leaseMs must be an integer number of milliseconds, got ${String(lease)}`)
  if (lease < 300)
    throw new RangeError(`${what}: leaseMs must be at least 300 (handles refresh their lease every leaseMs / 3), got ${lease}`)
  const codec = codecFromOption(o.codec)
  return { config: { maxBufferSize: size === Infinity ? -1 : size, codec: codec.name, leaseMs: lease }, codec }
}

/**
 * Creates channel `name` on the server and returns one handle of each side.
 * An existing name is an `Error` that says to attach instead.
 */
export async function openNatsChannel<T>(
  nc: NatsConnection,
  name: string,
  options?: NatsChannelOptions<T>,
): Promise<[NatsSendChannel<T>, NatsReceiveChannel<T>]> {
  checkConnection('openNatsChannel(nc, name)', nc)
  checkName('openNatsChannel(nc, name)', name)
  const { config, codec } = configFrom(options)
  const link = await getLink(nc, name, config, () => codec)
  const s = link.addKey('s')
  const r = link.addKey('r')
  await Promise.all([s.put, r.put])
  await link.poll()
  return [new NatsSendChannel<T>(link, s.key), new NatsReceiveChannel<T>(link, r.key)]
}

/** Opens one more handle of a side of channel `name`, from any process (counts like `clone()`). */
export async function attachNatsChannel<T>(nc: NatsConnection, name: string, side: 'send'): Promise<NatsSendChannel<T>>
export async function attachNatsChannel<T>(nc: NatsConnection, name: string, side: 'receive'): Promise<NatsReceiveChannel<T>>
export async function attachNatsChannel<T>(
  nc: NatsConnection,
  name: string,
  side: 'send' | 'receive',
): Promise<NatsSendChannel<T> | NatsReceiveChannel<T>> {
  checkConnection('attachNatsChannel(nc, name, side)', nc)
  checkName('attachNatsChannel(nc, name, side)', name)
  if (side !== 'send' && side !== 'receive')
    throw new TypeError(`attachNatsChannel(nc, name, side): side must be 'send' or 'receive', got ${String(side)}`)
  const link = await getLink(nc, name, undefined, (cfg) => codecByName(cfg.codec, name))
  const sd: Side = side === 'send' ? 's' : 'r'
  const { key, put } = link.addKey(sd)
  await put
  await link.poll()
  if (sd === 's' ? link.sendClosed : link.recvClosed) {
    await link.dropKey(key, sd).catch(() => undefined)
    link.handles++
    link.handleClosed()
    throw new ClosedResourceError(
      `NATS channel ${name}: every ${side} handle is already closed, and a closed side does not reopen (open a new channel)`,
    )
  }
  return sd === 's' ? new NatsSendChannel<T>(link, key) : new NatsReceiveChannel<T>(link, key)
}

/** Revives a moved handle on `nc` (worker threads, remote-task hosts). */
export async function reviveHandle(nc: NatsConnection, rec: HandleRecord): Promise<NatsSendChannel<unknown> | NatsReceiveChannel<unknown>> {
  const link = await getLink(nc, rec.name, undefined, (cfg) => codecByName(cfg.codec, rec.name))
  await link.adoptKey(rec.key, rec.side)
  if (rec.adopted) Atomics.store(new Int32Array(rec.adopted), 0, 1)
  return rec.side === 's' ? new NatsSendChannel<unknown>(link, rec.key) : new NatsReceiveChannel<unknown>(link, rec.key)
}

/** Removes channel `name` from the server: its values, leases and state. Handles still open anywhere then fail. */
export async function deleteNatsChannel(nc: NatsConnection, name: string): Promise<void> {
  checkConnection('deleteNatsChannel(nc, name)', nc)
  checkName('deleteNatsChannel(nc, name)', name)
  await deleteChannel(nc, name)
}
