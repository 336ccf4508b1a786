/**
 * Worker tasks across machines: `remoteTask` (the caller side, a WorkerTask
 * that carries its own runner) and `serveWorkerTasks` (a host: takes a pool's
 * queued tasks and runs them on its own gotrio worker pool). The messages are
 * in remote-wire.ts.
 *
 * Lifecycle of one task, and who decides what:
 *  1. The caller subscribes to the task's events, then publishes the task to
 *     the pool's work-queue stream (message id = task id). It waits there,
 *     cancellably, while no host serves the pool; a cancel then deletes it.
 *  2. A host fetches it (not yet acknowledged), asks the caller `accept`. The
 *     caller answers `go` once, to the first host, and `stop` to any other
 *     (a redelivery after a host died between fetch and ack) or after its own
 *     cancel. Only then does the host acknowledge the message and run it, so a
 *     task is never run twice.
 *  3. While it runs, the host heartbeats every leaseMs / 3; the caller fails
 *     the task with HostLostError after leaseMs without news (it does not
 *     re-run it). Cancellation goes to the host on `cancel`, repeated until
 *     the outcome arrives (core NATS may drop one).
 *  4. `done` carries the result, the error (name, message, stack, cause) or
 *     "cancelled"; the host retries it until the caller answers.
 */
import { availableParallelism } from 'node:os'
import { deserialize, serialize } from 'node:v8'
import { jetstream, jetstreamManager, AckPolicy, RetentionPolicy, StorageType, type JetStreamManager, type JsMsg } from '@nats-io/jetstream'
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import { Cancelled, CancelScope, workerTask, type TaskStatus, type WorkerTask } from '@gotrio/runtime'
import { current, kTaskRunner, moduleUrl, park, Parked, runWorkerTask, type WorkerTaskRunner } from '@gotrio/runtime/lowlevel'
import { ConnectionLostError, HostLostError } from './errors.ts'
import { checkName, HOSTS, poolStream, poolSubject, taskSubject, uniqueId } from './names.ts'
import { decodeValue, encodeValue, errorToRec, recToError, type Moved, type Outcome, type TaskMessage } from './remote-wire.ts'

const kWorkerTask = Symbol.for('gotrio.WorkerTask')

async function ensurePool(jsm: JetStreamManager, pool: string): Promise<void> {
  const cfg = {
    name: poolStream(pool),
    subjects: [poolSubject(pool)],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: 1,
  }
  try {
    await jsm.streams.add(cfg)
  } catch (e) {
    await jsm.streams.info(cfg.name).catch(() => Promise.reject(e))
  }
  try {
    await jsm.consumers.add(cfg.name, { durable_name: HOSTS, ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000, max_deliver: -1 })
  } catch (e) {
    await jsm.consumers.info(cfg.name, HOSTS).catch(() => Promise.reject(e))
  }
}

const pools = new WeakMap<NatsConnection, Map<string, Promise<JetStreamManager>>>()
function poolReady(nc: NatsConnection, pool: string): Promise<JetStreamManager> {
  let m = pools.get(nc)
  if (!m) pools.set(nc, (m = new Map()))
  let p = m.get(pool)
  if (!p) {
    p = jetstreamManager(nc).then(async (jsm) => (await ensurePool(jsm, pool), jsm))
    m.set(pool, p)
    p.catch(() => m.delete(pool))
  }
  return p
}

/** The caller's side of one remote task: parked in the calling task until the outcome arrives. */
class RemoteOp extends Parked<unknown> {
  accepted = false
  cancelRequested = false
  seq = 0
  lastNews = Date.now()
  leaseMs = 5000
  host = ''
  sub: Subscription | undefined
  watchdog: ReturnType<typeof setInterval> | undefined
  /** The started() value's delivery: the outcome waits for it, so start() never sees "returned without started" by mistake. */
  startedDelivered: Promise<void> = Promise.resolve()
  readonly nc: NatsConnection
  readonly jsm: JetStreamManager
  readonly pool: string
  readonly id: string
  readonly name: string
  readonly moved: Moved[]
  readonly taskStatus: TaskStatus<unknown> | undefined
  constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    pool: string,
    id: string,
    name: string,
    moved: Moved[],
    taskStatus: TaskStatus<unknown> | undefined,
  ) {
    super()
    this.nc = nc
    this.jsm = jsm
    this.pool = pool
    this.id = id
    this.name = name
    this.moved = moved
    this.taskStatus = taskStatus
  }
  get waitsOn(): string {
    return `remote task ${this.name} (pool ${this.pool})`
  }
  abort(): boolean {
    this.cancelRequested = true
    if (this.accepted) this.nc.publish(taskSubject(this.id, 'cancel'))
    else void this.withdraw()
    return false
  }
  /** Cancelled while queued: delete the message; if a host has it already, its accept gets `stop`. */
  async withdraw(): Promise<void> {
    const ok = await this.jsm.streams.deleteMessage(poolStream(this.pool), this.seq, false).catch(() => false)
    if (ok && !this.accepted) this.finish(false, new Cancelled())
  }
  onEvent(m: Msg): void {
    const ev = m.subject.slice(m.subject.lastIndexOf('.') + 1)
    this.lastNews = Date.now()
    if (ev === 'accept') {
      if (this.accepted || this.cancelRequested || this.settled) {
        m.respond('stop')
        // Cancelled while queued and the withdrawal could not delete the stored copy (gone, or
        // the request failed): the host that took it is told to stop, so nothing runs; settle.
        if (this.cancelRequested && !this.accepted && !this.settled) this.finish(false, new Cancelled())
        return
      }
      const info = deserialize(m.data) as { host: string; leaseMs: number }
      this.accepted = true
      this.host = info.host
      this.leaseMs = info.leaseMs
      m.respond('go')
      for (const mv of this.moved) mv.handOver()
    } else if (ev === 'hb') {
      if (this.cancelRequested) this.nc.publish(taskSubject(this.id, 'cancel'))
    } else if (ev === 'started') {
      m.respond('ok')
      const { value } = deserialize(m.data) as { value: unknown }
      this.startedDelivered = decodeValue(value, this.nc).then(
        (v) => this.taskStatus?.started(v),
        (e: unknown) => this.finish(false, e),
      )
    } else if (ev === 'done') {
      m.respond('ok')
      const out = deserialize(m.data) as Outcome
      void this.startedDelivered.then(() => this.settleWith(out))
    }
  }
  settleWith(out: Outcome): void {
    {
      if (out.ok)
        void decodeValue(out.value, this.nc).then(
          (v) => this.finish(true, v),
          (e: unknown) => this.finish(false, e),
        )
      else if (out.cancelled) this.finish(false, new Cancelled())
      else this.finish(false, recToError(out.error!))
    }
  }
  check(): void {
    if (this.settled) return
    if (this.nc.isClosed()) {
      this.finish(
        false,
        new ConnectionLostError(
          `the NATS connection was closed while remote task ${this.name} (pool ${this.pool}) was pending; its outcome is unknown`,
        ),
      )
      return
    }
    if (this.accepted && Date.now() - this.lastNews > this.leaseMs) {
      this.finish(
        false,
        new HostLostError(
          `remote task ${this.name} (pool ${this.pool}) failed: its host ${this.host} sent no heartbeat for ${this.leaseMs} ms (it died or lost its connection); the task was not re-run`,
        ),
      )
    }
  }
  finish(ok: boolean, v: unknown): void {
    if (this.settled) return
    clearInterval(this.watchdog)
    this.sub?.unsubscribe()
    if (!this.accepted) for (const mv of this.moved) void mv.giveBack()
    if (ok) this.wake(v)
    else this.fail(v)
  }
}

const runRemote =
  (nc: NatsConnection, pool: string): WorkerTaskRunner =>
  (task, args, status) => {
    const ctx = current()
    let encoded: { value: unknown; moved: Moved[] }
    try {
      if (ctx.status.effectivelyCancelled) throw new Cancelled()
      encoded = encodeValue(args, `remote task ${task.name}: arguments`)
    } catch (e) {
      return Promise.reject(e)
    }
    return (async () => {
      const jsm = await poolReady(nc, pool)
      const id = uniqueId()
      const op = new RemoteOp(nc, jsm, pool, id, task.name, encoded.moved, status)
      op.sub = nc.subscribe(taskSubject(id, '*'), { callback: (_e, m) => op.onEvent(m) })
      const msg: TaskMessage = {
        id,
        module: task.module,
        name: task.name,
        args: encoded.value as unknown[],
        wantsStarted: status !== undefined,
      }
      let payload: Uint8Array
      try {
        payload = serialize(msg)
      } catch (e) {
        op.sub.unsubscribe()
        for (const mv of encoded.moved) await mv.giveBack()
        throw e
      }
      const js = jetstream(nc)
      for (;;) {
        try {
          op.seq = (await js.publish(poolSubject(pool), payload, { msgID: id, timeout: 2000 })).seq
          break
        } catch (e) {
          // Not queued, or unknown (a publish made while the server is down is dropped): retry
          // with the same id. Given up when the connection closes or the caller is cancelled;
          // if an attempt was stored after all, its host finds nobody to accept it and drops it.
          if (nc.isClosed() || ctx.status.effectivelyCancelled) {
            op.sub.unsubscribe()
            for (const mv of encoded.moved) await mv.giveBack()
            if (!nc.isClosed()) throw new Cancelled()
            throw new ConnectionLostError(`the NATS connection was closed before remote task ${task.name} could be queued`, { cause: e })
          }
        }
      }
      op.watchdog = setInterval(() => op.check(), 250)
      return park(op, ctx)
    })()
  }

/**
 * A task of `pool`, run by whichever host serves it (`serveWorkerTasks`),
 * usable exactly like a `workerTask`: `nursery.startSoon`, `nursery.start`
 * (the task calls `status.started(value)`), `runInWorker`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function remoteTask<F extends (...args: any[]) => any>(
  nc: NatsConnection,
  pool: string,
  module: URL | string,
  exportName = 'default',
): WorkerTask<Parameters<F>, Awaited<ReturnType<F>>> {
  if (typeof nc !== 'object' || nc === null || typeof (nc as NatsConnection).subscribe !== 'function') {
    throw new TypeError('remoteTask(nc, pool, module, exportName): nc must be a NatsConnection (connect() from @gotrio/nats)')
  }
  checkName('remoteTask(nc, pool)', pool)
  if (typeof exportName !== 'string' || exportName === '')
    throw new TypeError(`remoteTask(nc, pool, module, exportName): exportName must name an exported function, got ${String(exportName)}`)
  const url = moduleUrl(module)
  return { [kWorkerTask]: true, module: url, name: exportName, [kTaskRunner]: runRemote(nc, pool) } as unknown as WorkerTask<
    Parameters<F>,
    Awaited<ReturnType<F>>
  >
}

export interface WorkerHost extends AsyncDisposable {
  /** Stops taking tasks and waits for the running ones to finish. */
  close(): Promise<void>
}

export interface ServeOptions {
  /** The modules whose exports this host runs (URLs, file: URLs, absolute paths, bare specifiers). */
  modules: (URL | string)[]
  /** How many tasks this host runs at once (default: available cores). */
  workers?: number
  /** How long the caller waits without a heartbeat before it fails the task (ms, default 5000). */
  leaseMs?: number
}

/** Makes this process a host of `pool`: it takes queued tasks and runs them on its own gotrio worker pool. */
export async function serveWorkerTasks(nc: NatsConnection, pool: string, options: ServeOptions): Promise<WorkerHost> {
  const what = 'serveWorkerTasks(nc, pool, options)'
  if (typeof nc !== 'object' || nc === null || typeof (nc as NatsConnection).subscribe !== 'function')
    throw new TypeError(`${what}: nc must be a NatsConnection`)
  checkName(what, pool)
  if (typeof options !== 'object' || options === null || !Array.isArray(options.modules)) {
    throw new TypeError(
      `${what}: options.modules must list the modules this host may run, e.g. { modules: [new URL('./tasks.ts', import.meta.url)] }`,
    )
  }
  for (const k of Object.keys(options))
    if (!['modules', 'workers', 'leaseMs'].includes(k))
      throw new TypeError(`${what}: unknown option ${JSON.stringify(k)} (known: modules, workers, leaseMs)`)
  const allowed = new Set(options.modules.map((m) => moduleUrl(m)))
  const limit = options.workers ?? availableParallelism()
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`${what}: workers must be a positive integer, got ${String(options.workers)}`)
  const leaseMs = options.leaseMs ?? 5000
  if (!Number.isInteger(leaseMs) || leaseMs < 300)
    throw new RangeError(`${what}: leaseMs must be an integer of at least 300, got ${String(options.leaseMs)}`)
  await poolReady(nc, pool)
  return new Host(nc, pool, allowed, limit, leaseMs)
}

class Host implements WorkerHost {
  readonly id = `${process.pid}@${uniqueId()}`
  readonly running = new Map<string, CancelScope>()
  #closing = false
  #loop: Promise<void>
  #slot: (() => void) | undefined
  #hb: ReturnType<typeof setInterval>

  readonly nc: NatsConnection

  readonly pool: string

  readonly allowed: Set<string>

  readonly limit: number

  readonly leaseMs: number

  constructor(
    nc: NatsConnection,

    pool: string,

    allowed: Set<string>,

    limit: number,

    leaseMs: number,
  ) {
    this.nc = nc

    this.pool = pool

    this.allowed = allowed

    this.limit = limit

    this.leaseMs = leaseMs
    this.#hb = setInterval(
      () => {
        for (const id of this.running.keys()) this.nc.publish(taskSubject(id, 'hb'))
      },
      Math.floor(leaseMs / 3),
    )
    this.#loop = this.#takeTasks()
  }

  async #takeTasks(): Promise<void> {
    const consumer = await jetstream(this.nc).consumers.get(poolStream(this.pool), HOSTS)
    const tasks = new Set<Promise<void>>()
    while (!this.#closing && !this.nc.isClosed()) {
      if (this.running.size >= this.limit) {
        await new Promise<void>((r) => (this.#slot = r))
        continue
      }
      let m: JsMsg | null
      try {
        m = await consumer.next({ expires: 1000 })
      } catch {
        await new Promise((r) => setTimeout(r, 100))
        continue
      }
      if (!m) continue
      if (this.#closing) {
        m.nak()
        break
      }
      const t = this.#runOne(m).finally(() => {
        tasks.delete(t)
        this.#slot?.()
      })
      tasks.add(t)
    }
    await Promise.allSettled([...tasks])
  }

  async #reply(id: string, event: string, payload: unknown, tries = 5): Promise<string | undefined> {
    const data = serialize(payload)
    for (let i = 0; i < tries; i++) {
      try {
        return (await this.nc.request(taskSubject(id, event), data, { timeout: 2000 })).string()
      } catch {
        if (this.nc.isClosed()) return undefined
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    return undefined
  }

  async #runOne(m: JsMsg): Promise<void> {
    let msg: TaskMessage
    try {
      msg = deserialize(m.data) as TaskMessage
    } catch {
      m.term()
      return
    }
    if (!this.allowed.has(msg.module)) {
      await m.ackAck().catch(() => false)
      const err = new Error(
        `remote task ${msg.name}: module ${msg.module} is not one this host runs (pool ${this.pool}, host ${this.id}); add it to serveWorkerTasks' modules option on the hosts`,
      )
      await this.#reply(msg.id, 'done', { ok: false, error: errorToRec(err) } satisfies Outcome)
      return
    }
    const scope = new CancelScope()
    this.running.set(msg.id, scope)
    const cancelSub = this.nc.subscribe(taskSubject(msg.id, 'cancel'), { callback: () => scope.cancel('cancelled by the caller') })
    try {
      const answer = await this.#reply(msg.id, 'accept', { host: this.id, leaseMs: this.leaseMs }, 2)
      if (answer !== 'go') {
        await m.ackAck().catch(() => false) // the caller is gone, or cancelled, or another host has it
        return
      }
      // The ack need not be awaited: the caller answers `go` once, so a redelivery of this
      // message (if the ack were lost) is answered `stop` and never runs.
      m.ack()
      let outcome: Outcome
      try {
        const args = (await decodeValue(msg.args, this.nc)) as unknown[]
        const status: TaskStatus<unknown> | undefined = msg.wantsStarted
          ? {
              started: (value?: unknown) => {
                const enc = encodeValue(value, `remote task ${msg.name}: started() value`)
                for (const mv of enc.moved) mv.handOver()
                void this.#reply(msg.id, 'started', { value: enc.value })
              },
            }
          : undefined
        const task = workerTask(msg.module, msg.name)
        let value: unknown
        await scope.run(async () => {
          value = await runWorkerTask(task, args, status)
        })
        if (scope.cancelledCaught) outcome = { ok: false, cancelled: true }
        else {
          const enc = encodeValue(value, `remote task ${msg.name}: result`)
          for (const mv of enc.moved) mv.handOver()
          outcome = { ok: true, value: enc.value }
        }
      } catch (e) {
        outcome = e instanceof Cancelled ? { ok: false, cancelled: true } : { ok: false, error: errorToRec(e) }
      }
      try {
        serialize(outcome)
      } catch (e) {
        outcome = {
          ok: false,
          error: errorToRec(new TypeError(`remote task ${msg.name}: its result cannot be serialised for the caller: ${String(e)}`)),
        }
      }
      await this.#reply(msg.id, 'done', outcome)
    } finally {
      cancelSub.unsubscribe()
      this.running.delete(msg.id)
    }
  }

  async close(): Promise<void> {
    this.#closing = true
    this.#slot?.()
    await this.#loop
    clearInterval(this.#hb)
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
