/**
 * One process's link to one NATS channel: shared by every handle of that
 * channel opened on one connection. It owns what is per channel rather than
 * per handle: the lease refresher, the notice subscription, the snapshot of
 * the server's state, the sticky "side closed" flags, and the receive
 * machinery (one puller, held values, waiting receives; see receiver.ts).
 *
 * Open counts are leases (names.ts): each handle is one key of the channel's
 * lease bucket, whose `max_age` is `leaseMs`; this link re-puts its handles'
 * keys every `leaseMs / 3`. A handle's close purges its key. A side with no
 * key left is closed; whoever sees that first (a closing handle, or any
 * process's poll, which is how a dead process's handles are noticed: in
 * 2.9.10 a watcher sees no delete on expiry) writes the side's sticky flag,
 * so the side never reopens, and publishes a `closed` notice.
 *
 * Invariants:
 *  - L1 `keys` holds exactly the lease keys of this link's live, unmoved handles.
 *  - L2 `sendClosed`/`recvClosed` only go from false to true.
 *  - L3 lease writes of this link (put, purge) happen in the order they were
 *    asked for (`leaseChain`): a clone's put lands before its parent's purge,
 *    so a close never makes a side look empty while a clone of it lives.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import {
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  AckPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsCodec } from './codec.ts'
import { ClosedResourceError } from '@gotrio/channels'
import { ConnectionLostError } from './errors.ts'
import { channelStream, channelSubject, leaseBucket, leaseStream, noticeSubject, RECEIVERS, STATE_BUCKET, uniqueId } from './names.ts'
import { Receiver } from './receiver.ts'

export interface ChannelConfig {
  /** -1 for Infinity (JSON has no Infinity). */
  readonly maxBufferSize: number
  readonly codec: string
  readonly leaseMs: number
}

export type Side = 's' | 'r'

/** The server's state as this process last saw it (statistics(), sendNowait credit). */
export interface Snapshot {
  senders: number
  receivers: number
  /** Messages in the stream: waiting, plus fetched and not yet acknowledged. */
  messages: number
  peak: number
}

const links = new WeakMap<NatsConnection, Map<string, Promise<ChannelLink>>>()

export class ChannelLink {
  readonly js: JetStreamClient
  readonly stream: string
  readonly subject: string
  /** Bounded capacity, or Infinity. */
  readonly capacity: number
  /** Lease keys refreshed here, with their side (L1). */
  readonly keys = new Map<string, Side>()
  readonly snapshot: Snapshot = { senders: 0, receivers: 0, messages: 0, peak: 0 }
  sendClosed = false
  recvClosed = false
  /**
   * Set once the connection is closed for good (ConnectionLostError) or the
   * channel was deleted (ClosedResourceError): every pending and later
   * operation fails with it.
   */
  lost: Error | undefined
  /** Called on every notice, poll and loss (waiting senders re-check). */
  readonly listeners = new Set<() => void>()
  /** Time until which a receiver said it waits on a size-0 channel (sendNowait may hand off). */
  receiverWaitingUntil = 0
  /** Time until which a sender said it waits for room (receivers then post `room` notices). */
  roomWantedUntil = 0
  /** Handles of this link not yet closed; at 0 (and nothing moving out) the link is dropped. */
  handles = 0
  /**
   * Keys of handles moved to another thread, still refreshed here until that
   * thread has taken their lease over (it sets the flag to 1), so a slow
   * thread start does not let the lease lapse.
   */
  readonly movingOut = new Map<string, Int32Array>()
  readonly receiver: Receiver
  #leaseChain: Promise<unknown> = Promise.resolve()
  #timer: ReturnType<typeof setInterval> | undefined
  #sub: Subscription | undefined
  #polling = false

  readonly nc: NatsConnection

  readonly jsm: JetStreamManager

  readonly name: string

  readonly config: ChannelConfig

  readonly codec: NatsCodec<unknown>

  readonly leaseKv: KV

  readonly stateKv: KV

  constructor(
    nc: NatsConnection,

    jsm: JetStreamManager,

    name: string,

    config: ChannelConfig,

    codec: NatsCodec<unknown>,

    leaseKv: KV,

    stateKv: KV,
  ) {
    this.nc = nc

    this.jsm = jsm

    this.name = name

    this.config = config

    this.codec = codec

    this.leaseKv = leaseKv

    this.stateKv = stateKv
    this.js = jetstream(nc)
    this.stream = channelStream(name)
    this.subject = channelSubject(name)
    this.capacity = config.maxBufferSize < 0 ? Infinity : config.maxBufferSize
    this.receiver = new Receiver(this)
  }

  /** Subscribes to notices and starts the lease refresher. */
  start(): void {
    this.#sub = this.nc.subscribe(noticeSubject(this.name), {
      callback: (_err, m) => this.#onNotice(m.string()),
    })
    const period = Math.max(50, Math.floor(this.config.leaseMs / 3))
    this.#timer = setInterval(() => void this.#tick(), period)
    this.#timer.unref?.()
    void this.nc.closed().then((e) => this.#onConnectionClosed(e))
  }

  #onNotice(text: string): void {
    const now = Date.now()
    if (text === 'room') this.snapshot.messages = Math.max(0, this.snapshot.messages - 1)
    else if (text === 'want-room') this.roomWantedUntil = now + 2000
    else if (text === 'want-value') this.receiverWaitingUntil = now + 1000
    else if (text === 'closed') void this.poll()
    else if (text.startsWith('taken ')) this.receiver.onTaken(text.slice(6))
    this.wake()
  }

  wake(): void {
    for (const l of [...this.listeners]) l()
  }

  notice(text: string): void {
    if (this.lost || this.nc.isClosed()) return
    try {
      this.nc.publish(noticeSubject(this.name), text)
    } catch {
      /* a notice is a hint; senders and receivers also poll */
    }
  }

  async #tick(): Promise<void> {
    if (this.lost) return
    const puts = [...this.keys.keys()].map((k) => this.leasePut(k))
    for (const [k, flag] of this.movingOut) {
      if (Atomics.load(flag, 0) === 1) this.movingOut.delete(k)
      else puts.push(this.leasePut(k))
    }
    await Promise.allSettled(puts)
    if (this.handles === 0 && this.movingOut.size === 0) this.#drop()
    this.receiver.returnStale()
    await this.poll()
  }

  /** Re-puts a lease key, after the lease writes asked for before (L3). */
  leasePut(key: string): Promise<unknown> {
    const p = this.#leaseChain.then(() => this.leaseKv.put(key, ''))
    this.#leaseChain = p.catch(() => undefined)
    return p
  }

  /** Adds a handle's lease key (awaited by open and attach, in the background for clone). */
  addKey(side: Side): { key: string; put: Promise<unknown> } {
    const key = `${side}.${uniqueId()}`
    this.keys.set(key, side)
    return { key, put: this.leasePut(key) }
  }

  /** Takes over a moved handle's key (it keeps its lease). */
  adoptKey(key: string, side: Side): Promise<unknown> {
    this.keys.set(key, side)
    return this.leasePut(key)
  }

  /** Stops refreshing `key` without closing it (the handle moved to another thread or process). */
  releaseKey(key: string): void {
    this.keys.delete(key)
  }

  /**
   * Closes a handle's lease: purges its key (after earlier lease writes, L3);
   * if that left its side empty, marks the side closed (L2) and tells everyone.
   */
  dropKey(key: string, side: Side): Promise<void> {
    this.keys.delete(key)
    const p = this.#leaseChain.then(async () => {
      if (this.lost) return
      await this.jsm.streams.purge(leaseStream(this.name), { filter: `$KV.${leaseBucket(this.name)}.${key}` })
      const counts = await this.#counts()
      if ((side === 's' ? counts.senders : counts.receivers) === 0) await this.#markClosed(side)
      this.notice('closed')
    })
    this.#leaseChain = p.catch(() => undefined)
    return p
  }

  async #counts(): Promise<{ senders: number; receivers: number }> {
    const info = await this.jsm.streams.info(leaseStream(this.name), { subjects_filter: '>' })
    const subjects = (info.state.subjects ?? {}) as Record<string, number>
    let senders = 0
    let receivers = 0
    const prefix = `$KV.${leaseBucket(this.name)}.`
    for (const s of Object.keys(subjects)) {
      if (s.startsWith(prefix + 's.')) senders++
      else if (s.startsWith(prefix + 'r.')) receivers++
    }
    return { senders, receivers }
  }

  async #markClosed(side: Side): Promise<void> {
    await this.stateKv.put(`${this.name}.closed.${side}`, '1')
    this.#setClosed(side)
    if (side === 'r') {
      // Trio: closing the last receiver drops the buffer.
      await this.jsm.streams.purge(this.stream).catch(() => undefined)
      this.snapshot.messages = 0
    }
  }

  #setClosed(side: Side): void {
    if (side === 's') this.sendClosed = true
    else this.recvClosed = true
  }

  /**
   * Refreshes the snapshot and the sticky flags from the server; marks a side
   * closed whose leases all lapsed. Concurrent calls share nothing: a second
   * one while one runs is skipped.
   */
  async poll(): Promise<void> {
    if (this.#polling || this.lost) return
    this.#polling = true
    try {
      const [counts, info, sFlag, rFlag] = await Promise.all([
        this.#counts(),
        this.jsm.streams.info(this.stream),
        this.sendClosed ? null : this.stateKv.get(`${this.name}.closed.s`),
        this.recvClosed ? null : this.stateKv.get(`${this.name}.closed.r`),
      ])
      this.snapshot.senders = counts.senders
      this.snapshot.receivers = counts.receivers
      this.snapshot.messages = info.state.messages
      this.snapshot.peak = Math.max(this.snapshot.peak, info.state.messages)
      if (sFlag && sFlag.operation === 'PUT') this.#setClosed('s')
      if (rFlag && rFlag.operation === 'PUT') this.#setClosed('r')
      if (!this.sendClosed && counts.senders === 0) await this.#markClosed('s')
      if (!this.recvClosed && counts.receivers === 0) await this.#markClosed('r')
    } catch (e) {
      // Stream not found (10059): the channel was deleted under its handles. Anything
      // else: the server is unreachable for now, and the next tick tries again.
      if (e instanceof JetStreamApiError && e.code === 10059)
        this.lose(new ClosedResourceError(`NATS channel ${this.name} was deleted (deleteNatsChannel) while this handle was open`))
    } finally {
      this.#polling = false
    }
    this.receiver.checkEnd()
    this.wake()
  }

  /** Messages in the stream now (one request). */
  async messagesNow(): Promise<number> {
    const info = await this.jsm.streams.info(this.stream)
    this.snapshot.messages = info.state.messages
    this.snapshot.peak = Math.max(this.snapshot.peak, info.state.messages)
    return info.state.messages
  }

  #onConnectionClosed(e: void | Error): void {
    const server = this.nc.getServer()
    this.lose(
      new ConnectionLostError(
        `the NATS connection to ${server} was closed${e ? ` (${e.message})` : ''}: NATS channel ${this.name} cannot complete this operation; what the server had acknowledged is kept there`,
        e ? { cause: e } : undefined,
      ),
    )
  }

  lose(error: Error): void {
    if (this.lost) return
    this.lost = error
    this.stop()
    this.receiver.failAll(this.lost)
    this.wake()
  }

  /** A handle of this link closed; the last one stops the link. */
  handleClosed(): void {
    if (--this.handles > 0 || this.movingOut.size > 0) return
    this.#drop()
  }

  #drop(): void {
    this.stop()
    const m = links.get(this.nc)
    if (m && m.get(this.name) && this.handles === 0) {
      void m.get(this.name)!.then((l) => {
        if (l === this && this.handles === 0) m.delete(this.name)
      })
    }
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#sub?.unsubscribe()
  }
}

async function managers(nc: NatsConnection): Promise<{ jsm: JetStreamManager; kvm: Kvm }> {
  return { jsm: await jetstreamManager(nc), kvm: new Kvm(nc) }
}

/** The link of this process to channel `name` on `nc`, made on first use. `create` makes the channel on the server. */
export function getLink(
  nc: NatsConnection,
  name: string,
  create: ChannelConfig | undefined,
  codec: (cfg: ChannelConfig) => NatsCodec<unknown>,
): Promise<ChannelLink> {
  let m = links.get(nc)
  if (!m) links.set(nc, (m = new Map()))
  const existing = m.get(name)
  if (existing && !create) return existing
  const p = (async () => {
    const { jsm, kvm } = await managers(nc)
    const stateKv = await kvm.create(STATE_BUCKET, { history: 1 })
    let config: ChannelConfig
    if (create) {
      const exists = await stateKv.get(`${name}.config`)
      if (exists && exists.operation === 'PUT') {
        throw new Error(
          `NATS channel ${name} already exists: use attachNatsChannel(nc, '${name}', side) to open more handles of it, or deleteNatsChannel first`,
        )
      }
      config = create
      await jsm.streams.add({
        name: channelStream(name),
        subjects: [channelSubject(name)],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
        max_msgs: create.maxBufferSize < 0 ? -1 : Math.max(1, create.maxBufferSize),
        num_replicas: 1,
      })
      await jsm.consumers.add(channelStream(name), {
        durable_name: RECEIVERS,
        ack_policy: AckPolicy.Explicit,
        ack_wait: Math.max(1000, create.leaseMs) * 1_000_000,
        max_deliver: -1,
        max_ack_pending: 100_000,
      })
      await kvm.create(leaseBucket(name), { ttl: create.leaseMs, history: 1 })
      await stateKv.put(`${name}.config`, JSON.stringify(create))
    } else {
      const e = await stateKv.get(`${name}.config`)
      if (!e || e.operation !== 'PUT') {
        throw new Error(`NATS channel ${name} does not exist on ${nc.getServer()}: open it first with openNatsChannel(nc, '${name}')`)
      }
      config = JSON.parse(e.string()) as ChannelConfig
    }
    const leaseKv = await kvm.open(leaseBucket(name))
    const link = new ChannelLink(nc, jsm, name, config, codec(config), leaseKv, stateKv)
    link.start()
    return link
  })()
  m.set(name, p)
  p.catch(() => {
    if (m.get(name) === p) m.delete(name)
  })
  return p
}

/** Removes a channel's stream, lease bucket and state from the server (handles still open anywhere fail). */
export async function deleteChannel(nc: NatsConnection, name: string): Promise<void> {
  const { jsm, kvm } = await managers(nc)
  const stateKv = await kvm.create(STATE_BUCKET, { history: 1 })
  const e = await stateKv.get(`${name}.config`)
  if (!e || e.operation !== 'PUT') throw new Error(`NATS channel ${name} does not exist on ${nc.getServer()}: nothing to delete`)
  await jsm.streams.delete(channelStream(name)).catch(() => false)
  await jsm.streams.delete(leaseStream(name)).catch(() => false)
  for (const k of ['config', 'closed.s', 'closed.r']) await stateKv.purge(`${name}.${k}`)
  const m = links.get(nc)
  const link = m?.get(name)
  if (link) {
    m!.delete(name)
    void link.then(
      (l) => l.lose(new ClosedResourceError(`NATS channel ${name} was deleted (deleteNatsChannel) while this handle was open`)),
      () => undefined,
    )
  }
}
