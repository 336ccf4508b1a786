/**
 * The worker pool of a runtime: a Piscina pool running worker-entry.ts, and
 * the owner side of each worker task (see worker-protocol.ts).
 *
 * Pool shape and why:
 *  - `concurrentTasksPerWorker` is large: a worker task that waits on a
 *    channel or a sleep yields its thread's event loop to the other tasks on
 *    that thread, as goroutines share an OS thread; CPU-bound tasks still
 *    spread over every thread because Piscina's balancer picks the least busy.
 *  - Piscina's default `atomics: 'sync'` is kept: it parks a thread in
 *    Atomics.wait only while the thread has no task at all (a waiting worker
 *    task still counts as running), and it wakes a thread much faster than a
 *    port message. Nothing of ours needs an idle thread's event loop: a task
 *    closes what it owns before it resolves.
 *  - No AbortSignal is given to Piscina: a task with a signal gets a thread to
 *    itself. Cancellation is cooperative through the control block; only a
 *    task that ignores it for `cancelGraceMs` has its thread terminated, and
 *    that is reported with a process warning and in the `Cancelled` message.
 *  - When a thread dies (exit, crash, termination, resource limits), Piscina
 *    fails its unfinished tasks and replaces it; we turn those failures into
 *    errors that say so and call the worker-exit hooks (threads.ts) so shared
 *    channels close whatever the dead thread held.
 */
import { createRequire } from 'node:module'
import type { ResourceLimits } from 'node:worker_threads'
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Piscina } from 'piscina'
import { checkCancelled, current, park } from './context.js'
import { Cancelled } from './errors.js'
import type { TaskStatus } from './nursery.js'
import type { Runtime, RuntimeService } from './runtime.js'
import { Parked } from './status.js'
import { beforeWorkerTerminate, bootstrapGeneration, notifyWorkerExit, workerBootstraps } from './threads.js'
import { decodeTransferred, deserializeError, encodeForTransfer } from './transfer.js'
import {
  CONTROL_BYTES,
  STATE_CANCEL_REQUESTED,
  kState,
  kArgsTaken,
  kThread,
  type StartedMessage,
  type TaskPayload,
  type TaskResult,
} from './worker-protocol.js'
import { setWorkerTaskRunner, type WorkerTask } from './worker-task.js'
import { kTransfer } from './resources.js'

const POOL = 'gotrio.workerPool'
/** Worker tasks that may interleave on one thread. Effectively unbounded: waiting tasks cost no thread. */
const TASKS_PER_THREAD = 1_000_000

class WorkerTaskOp extends Parked<unknown> {
  readonly waitsOn: string
  /** Set once the owner asked for cancellation; the grace timer is then armed. */
  cancelRequested = false
  /** Set if the thread had to be terminated because the task ignored cancellation. */
  terminated = false
  graceTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly workerTask: WorkerTask<never, unknown>,
    readonly control: Int32Array,
    readonly pool: WorkerPool,
  ) {
    super()
    this.waitsOn = `worker task ${workerTask.name} (${workerTask.module})`
  }

  /** Cooperative first: the task is asked to cancel and will answer; it is never withdrawn here. */
  abort(): boolean {
    this.requestCancel()
    return false
  }

  requestCancel(): void {
    if (this.cancelRequested) return
    this.cancelRequested = true
    Atomics.store(this.control, kState, STATE_CANCEL_REQUESTED)
    Atomics.notify(this.control, kState)
    this.graceTimer = setTimeout(() => this.pool.terminateFor(this), this.pool.graceMs)
  }
}

export class WorkerPool implements RuntimeService {
  readonly piscina: Piscina
  readonly graceMs: number
  readonly #bootGeneration: number

  constructor(runtime: Runtime) {
    this.graceMs = runtime.cancelGraceMs
    this.#bootGeneration = bootstrapGeneration()
    const entry = new URL(`./worker-entry${extname(import.meta.url)}`, import.meta.url)
    this.piscina = new Piscina({
      filename: fileURLToPath(new URL('./worker-boot.mjs', import.meta.url)),
      minThreads: runtime.workers,
      maxThreads: runtime.workers,
      concurrentTasksPerWorker: TASKS_PER_THREAD,
      idleTimeout: Infinity,
      workerData: { bootstraps: workerBootstraps(), gotrioBoot: { entry: entry.href, tsx: tsxLoader(entry.href) } },
      ...(runtime.resourceLimits ? { resourceLimits: runtime.resourceLimits } : {}),
    })
    // The exit hooks need the dead thread's id, but Node resets
    // `worker.threadId` to -1 once the thread has exited (so Piscina's
    // workerDestroy reports -1): remember each id when its thread appears.
    const watched = new WeakSet<object>()
    const watchThreads = (): void => {
      for (const t of this.piscina.threads) {
        if (watched.has(t)) continue
        watched.add(t)
        const tid = t.threadId
        t.once('exit', () => notifyWorkerExit(tid))
      }
    }
    watchThreads()
    this.piscina.on('workerCreate', watchThreads)
    // A thread that dies with no task running is replaced; nothing to report to a task.
    this.piscina.on('error', (e: unknown) => process.emitWarning(`gotrio: a worker thread failed: ${String(e)}`))
  }

  async run(task: WorkerTask<never, unknown>, args: unknown[], status: TaskStatus<unknown> | undefined): Promise<unknown> {
    const ctx = current()
    checkCancelled(ctx)
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES))
    let startedPort: MessagePort | undefined
    let remotePort: MessagePort | undefined
    if (status) {
      const mc = new MessageChannel()
      startedPort = mc.port1
      remotePort = mc.port2
    }
    const payload: TaskPayload = {
      module: task.module,
      name: task.name,
      args: encodeForTransfer(args), // moves shared endpoints: the handles here are given up now
      control: control.buffer as SharedArrayBuffer,
      ...(remotePort ? { startedPort: remotePort } : {}),
      ...(bootstrapGeneration() !== this.#bootGeneration ? { bootstraps: workerBootstraps() } : {}),
    }
    const op = new WorkerTaskOp(task, control, this)
    const done = park(op, ctx)
    let startedDelivered: Promise<void> = Promise.resolve()
    const deliverStarted = (m: StartedMessage): void => {
      startedDelivered = decodeTransferred(m.value).then((v) => status!.started(v))
    }
    startedPort?.on('message', deliverStarted)
    this.piscina.run(payload, remotePort ? { transferList: [remotePort] } : {}).then(
      async (r: TaskResult) => {
        // The started message was posted before the result: drain it first so
        // start() never sees "returned without started" by mistake.
        const late = startedPort && receiveMessageOnPort(startedPort)
        if (late) deliverStarted(late.message as StartedMessage)
        startedPort?.close()
        clearTimeout(op.graceTimer)
        try {
          await startedDelivered
          if (r.kind === 'ok') op.wake(await decodeTransferred(r.value))
          else if (r.kind === 'cancelled') op.fail(new Cancelled())
          else op.fail(deserializeError(r.error))
        } catch (e) {
          op.fail(e)
        }
      },
      async (e: unknown) => {
        startedPort?.close()
        clearTimeout(op.graceTimer)
        // The worker never took over the moved endpoints: close them here
        // before reporting the failure, or their peers would wait forever
        // (worker-protocol.ts, kArgsTaken).
        if (Atomics.load(control, kArgsTaken) === 0) await closeMoved(payload.args)
        const tid = Atomics.load(control, kThread)
        if (e instanceof Error && e.name === 'DataCloneError') {
          // The arguments could not be cloned to the thread: the caller's mistake, reported as such.
          op.fail(e)
        } else if (op.terminated) {
          op.fail(
            new Cancelled(
              `worker task ${task.name} ignored cancellation for ${this.graceMs} ms (a CPU loop without checkpoint()?); its worker thread ${tid} was terminated`,
            ),
          )
        } else {
          const msg = e instanceof Error ? e.message : String(e)
          op.fail(
            new Error(`worker task ${task.name} failed because its worker thread${tid ? ` ${tid}` : ''} died: ${msg}`, {
              cause: e,
            }),
          )
        }
      },
    )
    return done
  }

  /** The grace period is over and the task still runs: terminate its thread (last resort, DESIGN.md 5). */
  terminateFor(op: WorkerTaskOp): void {
    const tid = Atomics.load(op.control, kThread)
    const thread = tid ? this.piscina.threads.find((t) => t.threadId === tid) : undefined
    if (!thread) {
      // Not started yet (queued, or its thread is still booting): it will see
      // the request when it starts; look again after another grace period.
      op.graceTimer = setTimeout(() => this.terminateFor(op), this.graceMs)
      return
    }
    op.terminated = true
    process.emitWarning(
      `gotrio: worker task ${op.workerTask.name} ignored cancellation for ${this.graceMs} ms; terminating worker thread ${tid} (other tasks on that thread fail too)`,
      { code: 'GOTRIO_WORKER_TERMINATED' },
    )
    // Let the thread leave any shared-memory critical section first (threads.ts).
    void beforeWorkerTerminate(tid).then(() => thread.terminate())
  }

  async shutdown(): Promise<void> {
    // Idle threads hold no critical section, but a task's stray callback might: gate them all.
    await Promise.all(this.piscina.threads.map((t) => beforeWorkerTerminate(t.threadId)))
    await this.piscina.destroy()
  }
}

/** Revives, on this thread, endpoints that were moved into a task that never took them, and closes them. */
function closeMoved(encodedArgs: unknown): Promise<void> {
  return decodeTransferred(encodedArgs).then(
    (args) => closeAll(args),
    (e: unknown) => process.emitWarning(`gotrio: could not close the endpoints of a worker task that never started: ${String(e)}`),
  )
}

function closeAll(v: unknown): void {
  if (typeof v !== 'object' || v === null) return
  const close = (v as { close?: unknown }).close
  if (typeof close === 'function' && typeof (v as { [kTransfer]?: unknown })[kTransfer] === 'function') {
    ;(close as () => void).call(v)
    return
  }
  if (Array.isArray(v)) for (const x of v) closeAll(x)
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) closeAll(x)
}

function extname(url: string): string {
  const m = /\.[cm]?[jt]s$/.exec(new URL(url).pathname)
  return m ? m[0] : '.js'
}

/**
 * The URL of tsx's loader API, if threads must load TypeScript: when the
 * entry is .ts (gotrio run from source, as in this repo) or this process runs
 * under tsx (so task modules may be .ts). worker-boot.mjs registers it.
 */
export function tsxLoader(entry: string): string | undefined {
  if (!entry.endsWith('.ts') && !process.execArgv.some((a) => a.includes('tsx'))) return undefined
  try {
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json')
    return pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href
  } catch {
    return undefined
  }
}

setWorkerTaskRunner((task, args, status) => {
  const pool = current().runtime.service(POOL, (rt) => new WorkerPool(rt))
  return pool.run(task, args, status)
})

export type { ResourceLimits }
