/**
 * The worker pool of a runtime: a Piscina pool running worker-entry.ts, and
 * the owner side of each worker task (see worker-protocol.ts).
 *
 * Pool shape and why:
 *  - `concurrentTasksPerWorker` is large: a worker task that waits on a
 *    channel or a sleep yields its thread's event loop to the other tasks on
 *    that thread, as goroutines share an OS thread. CPU-bound tasks still
 *    spread over every thread: our balancer (balancer.ts) sends a task to a
 *    thread that can start it at once, judged from hints each thread posts on
 *    a shared board, not to the thread with the fewest (possibly waiting) tasks.
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
import { checkCancelled, current, watchCancel, type TaskContext } from './context.ts'
import { Cancelled } from './errors.ts'
import type { TaskStatus } from './nursery.ts'
import type { Runtime, RuntimeService } from './runtime.ts'
import { Parked } from './status.ts'
import { beforeWorkerTerminate, bootstrapGeneration, notifyWorkerExit, workerBootstraps } from './threads.ts'
import { decodeTransferred, deserializeError, encodeForTransfer, hasMarkers } from './transfer.ts'
import {
  BOARD_ROW_INTS,
  BOARD_ROWS_PER_WORKER,
  BOARD_SPARE_ROWS,
  CONTROL_BYTES,
  SLAB_SLOTS,
  STATE_CANCEL_REQUESTED,
  kBell,
  kHeld,
  kKick,
  POOL_WORDS,
  kState,
  kArgsTaken,
  kPhase,
  kThread,
  PHASE_CALLED,
  PHASE_WAITING,
  PHASE_DROPPED,
  slotView,
  type PoolShared,
  type StartedMessage,
  type TaskPayload,
  type TaskResult,
} from './worker-protocol.ts'
import { setWorkerTaskRunner, type WorkerTask } from './worker-task.ts'
import { ThreadBoard } from './balancer.ts'
import { kTransfer } from './resources.ts'

const POOL = 'gotrio.workerPool'
/**
 * Threads the pool may start beyond `workers` while every thread is blocked
 * in a sync wait and tasks wait for one (see "Held tasks" below). Extra
 * threads leave once idle for EXTRA_IDLE_MS.
 */
export const MAX_EXTRA_THREADS = 16
const EXTRA_IDLE_MS = 10_000
/** While tasks are held: how often the pool looks again without a kick (see #armKick). */
const HELD_RECHECK_MS = 100
/** Worker tasks that may interleave on one thread. Effectively unbounded: waiting tasks cost no thread. */
const TASKS_PER_THREAD = 1_000_000

/**
 * The owner side of one worker task: the parked operation its caller waits
 * on, and what is needed to settle it. Its steps are methods, not closures
 * made per task: under tsx (keepNames) every named closure costs an
 * Object.defineProperty, which showed in the round trip of a trivial task.
 */
class WorkerTaskOp extends Parked<unknown> {
  /** Set once the owner asked for cancellation; the grace timer is then armed. */
  cancelRequested = false
  /** Set if the thread had to be terminated because the task ignored cancellation. */
  terminated = false
  /**
   * Set when Piscina answered (result or failure): the worker no longer runs
   * the task, so a late cancellation must neither write the control block
   * (its slot is about to be reused) nor arm the grace timer (which would
   * terminate a thread for a task that is over).
   */
  answered = false
  graceTimer: ReturnType<typeof setTimeout> | undefined
  /** Set while the pool holds the task (no thread could start it at once): what posting it needs. */
  held: HeldTask | undefined
  /** For `start`: the owner's end of the started() port, and the delivery of its value once posted. */
  startedPort: MessagePort | undefined
  startedDelivered: Promise<void> | undefined

  readonly workerTask: WorkerTask<never, unknown>
  readonly control: Int32Array
  readonly pool: WorkerPool
  /** The slab slot of `control`, or -1 for a block of its own. */
  readonly slot: number
  /** The encoded arguments, to close moved endpoints the worker never took. */
  readonly encodedArgs: unknown
  readonly taskStatus: TaskStatus<unknown> | undefined

  constructor(
    workerTask: WorkerTask<never, unknown>,
    control: Int32Array,
    pool: WorkerPool,
    slot: number,
    encodedArgs: unknown,
    taskStatus: TaskStatus<unknown> | undefined,
  ) {
    super()
    this.workerTask = workerTask
    this.control = control
    this.pool = pool
    this.slot = slot
    this.encodedArgs = encodedArgs
    this.taskStatus = taskStatus
  }

  /** Made only when asked for (diagnostics), not per task. */
  get waitsOn(): string {
    return `worker task ${this.workerTask.name} (${this.workerTask.module})`
  }

  /** Cooperative first: the task is asked to cancel and will answer; it is never withdrawn here. */
  abort(): boolean {
    this.requestCancel()
    return false
  }

  /**
   * Cancellation, by the task's phase (worker-protocol.ts, kPhase): a task
   * whose function has not been called is dropped (it will answer "cancelled"
   * without running, and no grace period applies: nothing runs that could
   * ignore the request); a running one is told through the doorbell and gets
   * `cancelGraceMs`; an answered one needs nothing.
   */
  requestCancel(): void {
    if (this.cancelRequested || this.answered) return
    this.cancelRequested = true
    if (this.held !== undefined) {
      this.pool.dropHeld(this) // never reached a thread: settles now
      return
    }
    Atomics.store(this.control, kState, STATE_CANCEL_REQUESTED) // before the compareExchange: see kPhase
    const phase = Atomics.compareExchange(this.control, kPhase, PHASE_WAITING, PHASE_DROPPED)
    if (phase !== PHASE_CALLED) return // dropped now, or already answered
    this.pool.ringBell()
    this.graceTimer = setTimeout(() => this.pool.terminateFor(this), this.pool.graceMs)
  }

  deliverStarted(m: StartedMessage): void {
    this.startedDelivered = decodeTransferred(m.value).then((v) => this.taskStatus!.started(v))
  }

  /** Piscina's answer: the task's result. Returns the caller's value (or its promise). */
  onResult(r: TaskResult): unknown {
    this.answered = true
    this.pool.taskAnswered()
    clearTimeout(this.graceTimer)
    const port = this.startedPort
    if (port) {
      // The started message was posted before the result: drain it first so
      // start() never sees "returned without started" by mistake.
      const late = receiveMessageOnPort(port)
      if (late) this.deliverStarted(late.message as StartedMessage)
      port.close()
    }
    // Fast path, the common case: a plain result with no endpoints in it and
    // no started() value on its way settles here, with no further promise.
    if (r.kind === 'ok' && !this.startedDelivered && !hasMarkers(r.value)) {
      this.wake(undefined)
      this.release()
      return r.value
    }
    return this.settleSlowly(r)
  }

  async settleSlowly(r: TaskResult): Promise<unknown> {
    try {
      if (this.startedDelivered) await this.startedDelivered
      if (r.kind === 'ok') return await decodeTransferred(r.value)
      throw r.kind === 'cancelled' ? new Cancelled() : deserializeError(r.error)
    } finally {
      this.wake(undefined)
      this.release()
    }
  }

  /** Piscina's failure: the payload could not be sent, or the thread died (crash, exit, termination). Rejects with what the caller sees. */
  async onFailure(e: unknown): Promise<never> {
    this.answered = true
    this.pool.taskAnswered()
    clearTimeout(this.graceTimer)
    this.startedPort?.close()
    // The worker never took over the moved endpoints: close them here
    // before reporting the failure, or their peers would wait forever
    // (worker-protocol.ts, kArgsTaken).
    if (Atomics.load(this.control, kArgsTaken) === 0) await closeMoved(this.encodedArgs)
    const tid = Atomics.load(this.control, kThread)
    const name = this.workerTask.name
    this.fail(undefined)
    if (e instanceof Error && e.name === 'DataCloneError') {
      // The arguments could not be cloned to the thread: the caller's mistake,
      // reported as such. Nothing reached a thread, so the slot can be reused.
      this.release()
      throw e
    }
    // Otherwise the slot goes back only once its thread has exited: a thread
    // being terminated may still write it (worker-protocol.ts).
    if (this.slot >= 0) this.pool.giveSlotAfterExit(this.slot, tid)
    const msg = e instanceof Error ? e.message : String(e)
    if (this.terminated) {
      throw new Cancelled(
        `worker task ${name} ignored cancellation for ${this.pool.graceMs} ms after its function started (a CPU loop without throwIfCancelled() or checkpoint()?); its worker thread ${tid} was terminated`,
        { cause: e },
      )
    }
    // A cancelled task settles as cancelled whatever happens to its thread
    // afterwards (API.md, "Cancellation"): another task's termination, a crash.
    if (this.cancelRequested) {
      throw new Cancelled(`worker task ${name} was cancelled, and its worker thread${tid ? ` ${tid}` : ''} then died: ${msg}`, { cause: e })
    }
    throw new Error(`worker task ${name} failed because its worker thread${tid ? ` ${tid}` : ''} died: ${msg}`, { cause: e })
  }

  /** The slot goes back once the op is settled: nothing writes the block after that. */
  release(): void {
    if (this.slot >= 0) this.pool.giveSlot(this.slot)
  }
}

/** A task the pool holds until a thread can start it at once. */
interface HeldTask {
  readonly payload: TaskPayload
  readonly options: { transferList: MessagePort[] } | undefined
  readonly resolve: (v: unknown) => void
  readonly reject: (e: unknown) => void
}

/**
 * The pool's control-block slab (worker-protocol.ts): a stack of free slots.
 * Slots are taken and given back on the owner's thread only.
 */
class ControlSlots {
  readonly #slab: SharedArrayBuffer
  readonly #views: Int32Array[] = []
  readonly #free: number[] = []

  constructor(slab: SharedArrayBuffer) {
    this.#slab = slab
    for (let i = SLAB_SLOTS - 1; i >= 0; i--) this.#free.push(i)
  }

  /** A free slot, its block zeroed, or -1 when every slot is taken. */
  take(): number {
    const slot = this.#free.pop()
    if (slot === undefined) return -1
    // The previous task's worker wrote its last word before answering, and
    // nothing of ours writes a slot after its task was answered: plain zeroing
    // is safe (the slot is published to the worker by postMessage).
    this.view(slot).fill(0)
    return slot
  }

  view(slot: number): Int32Array {
    return (this.#views[slot] ??= slotView(this.#slab, slot))
  }

  give(slot: number): void {
    this.#free.push(slot)
  }

  get free(): number {
    return this.#free.length
  }
}

export class WorkerPool implements RuntimeService {
  readonly piscina: Piscina
  readonly graceMs: number
  readonly #bootGeneration: number
  readonly #slots: ControlSlots
  /** The pool words (worker-protocol.ts): kBell, kKick, kHeld. */
  readonly #bell: Int32Array
  readonly #board: ThreadBoard
  readonly #workers: number
  /** Tasks held until a thread can start them at once, oldest first ("Held tasks"). */
  readonly #held: WorkerTaskOp[] = []
  /** Tasks handed to Piscina; minus `board.picked`, those waiting in Piscina's own queue. */
  #handed = 0
  #kickArmed = false
  #keepAlive: ReturnType<typeof setInterval> | undefined
  /** Ids of this pool's threads that have exited, and slots waiting for an exit (giveSlotAfterExit). */
  readonly #exited = new Set<number>()
  readonly #slotsAtExit = new Map<number, number[]>()
  /** One Int32: how many threads have loaded the worker entry (worker-boot.mjs adds 1 and notifies). */
  readonly booted = new Int32Array(new SharedArrayBuffer(4))
  /** The threads the pool keeps (minThreads = maxThreads). */
  readonly threads: number
  /** Threads this pool has decided to terminate: each is terminated once (terminateFor). */
  readonly #terminating = new Set<number>()

  constructor(runtime: Runtime) {
    this.graceMs = runtime.cancelGraceMs
    this.threads = runtime.workers
    this.#bootGeneration = bootstrapGeneration()
    this.#workers = runtime.workers
    const boardRows = (runtime.workers + MAX_EXTRA_THREADS) * BOARD_ROWS_PER_WORKER + BOARD_SPARE_ROWS
    const shared: PoolShared = {
      slab: new SharedArrayBuffer(SLAB_SLOTS * CONTROL_BYTES),
      bell: new SharedArrayBuffer(POOL_WORDS * Int32Array.BYTES_PER_ELEMENT),
      board: new SharedArrayBuffer(boardRows * BOARD_ROW_INTS * Int32Array.BYTES_PER_ELEMENT),
    }
    // The balancer may leave a task to a new thread only once the pool has decided to grow (#grow).
    const board = new ThreadBoard(shared.board, () => this.piscina.threads.length < this.piscina.options.maxThreads)
    this.#board = board
    this.#slots = new ControlSlots(shared.slab)
    this.#bell = new Int32Array(shared.bell)
    const entry = new URL(`./worker-entry${extname(import.meta.url)}`, import.meta.url)
    this.piscina = new Piscina({
      filename: fileURLToPath(new URL('./worker-boot.mjs', import.meta.url)),
      minThreads: runtime.workers,
      maxThreads: runtime.workers,
      concurrentTasksPerWorker: TASKS_PER_THREAD,
      idleTimeout: EXTRA_IDLE_MS, // only threads beyond minThreads (extra ones) ever leave
      loadBalancer: board.pick,
      workerData: {
        bootstraps: workerBootstraps(),
        gotrioBoot: { entry: entry.href, tsx: tsxLoader(entry.href), shared, booted: this.booted.buffer },
      },
      ...(runtime.resourceLimits ? { resourceLimits: runtime.resourceLimits } : {}),
    })
    // The exit hooks need the dead thread's id, but Node resets
    // `worker.threadId` to -1 once the thread has exited (so Piscina's
    // workerDestroy reports -1): remember each id when its thread appears.
    const watched = new WeakSet<object>()
    // Piscina announces the threads it starts with at once, and a later one
    // (a replacement, an extra one) only once it has loaded the entry: such a
    // thread's row says "ready" from the start (its own store found no row).
    let later = false
    const watchThreads = (): void => {
      for (const t of this.piscina.threads) {
        // A thread still without a board row (all were taken) is offered one
        // again whenever a thread appears; add() ignores threads that have one.
        if (t.threadId > 0) board.add(t.threadId, later)
        if (watched.has(t)) continue
        watched.add(t)
        const tid = t.threadId
        t.once('exit', () => {
          board.remove(tid)
          this.#shrink(tid)
          // Piscina replaces a dead thread only when given a task: held tasks may have to be posted now.
          if (this.#held.length > 0) setImmediate(() => this.taskAnswered())
          notifyWorkerExit(tid)
          this.#threadExited(tid)
        })
      }
    }
    watchThreads()
    later = true
    this.piscina.on('workerCreate', () => {
      watchThreads()
      this.taskAnswered() // a thread that can take held tasks
    })
    // A thread that dies with no task running is replaced; nothing to report to a task.
    this.piscina.on('error', (e: unknown) => process.emitWarning(`gotrio: a worker thread failed: ${String(e)}`))
  }

  /** Tells every thread of the pool to look for cancel requests among its tasks (worker-protocol.ts). */
  ringBell(): void {
    Atomics.add(this.#bell, kBell, 1)
    Atomics.notify(this.#bell, kBell)
  }

  /**
   * Held tasks. A task is posted to a thread only when one can start it at
   * once (`ThreadBoard.canTakeNow`); otherwise it is held here, in order, and
   * posted when a thread can: on a task's answer, or on a kick from a thread
   * that became ready, came back to its event loop or blocked in a sync wait
   * (worker-protocol.ts, kKick/kHeld). So no task waits in the port of a thread
   * that then blocks in `sendSync`/`receiveSync` (it might be the very task
   * that would unblock it), and a cancelled held task is dropped at once.
   * When every thread is blocked in a sync wait, the pool grows by one thread
   * (up to `workers + MAX_EXTRA_THREADS`) instead of hanging, as Go hands a
   * blocked thread's processor to another. At the limit it posts behind a
   * blocked thread, which may hang: a program with that many stages blocked
   * in sync waits at once needs `workers` raised or async `send`/`receive`.
   */
  #post(op: WorkerTaskOp, payload: TaskPayload, options: { transferList: MessagePort[] } | undefined): Promise<unknown> {
    this.#handed++
    return this.piscina.run(payload, options).then(
      (r: TaskResult) => op.onResult(r),
      (e: unknown) => op.onFailure(e),
    )
  }

  #hold(op: WorkerTaskOp, payload: TaskPayload, options: { transferList: MessagePort[] } | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      op.held = { payload, options, resolve, reject }
      this.#held.push(op)
      Atomics.add(this.#bell, kHeld, 1) // then read the hints again: see worker-protocol.ts
      this.#drain()
    })
  }

  /** Posts held tasks while a thread can take one; grows when every thread is blocked. */
  #drain(): void {
    while (this.#held.length > 0) {
      // A task still in Piscina's own queue goes first; a thread's kick follows once it is taken up.
      if (this.#handed !== this.#board.picked) break
      // Fewer threads than `workers` (one died, and Piscina replaces threads only when given a
      // task): post, so that Piscina starts one and gives it the task.
      const short = this.piscina.threads.length < this.#workers
      if (!short && !this.#board.canTakeNow() && !(this.#board.allBlocked() && this.#grow())) break
      const op = this.#held.shift()!
      Atomics.sub(this.#bell, kHeld, 1)
      const h = op.held!
      op.held = undefined
      this.#post(op, h.payload, h.options).then(h.resolve, h.reject)
    }
    if (this.#held.length > 0) this.#armKick()
    else if (this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive)
      this.#keepAlive = undefined
    }
  }

  /** Raises Piscina's thread limit by one, if under the cap; the balancer then leaves the next task to a new thread. */
  #grow(): boolean {
    const opts = this.piscina.options as { maxThreads: number }
    if (this.piscina.threads.length < opts.maxThreads) return true // one is being started already
    if (opts.maxThreads >= this.#workers + MAX_EXTRA_THREADS) return false
    opts.maxThreads++
    return true
  }

  /** A thread has exited: the limit goes back down to the threads left (never below `workers`). */
  #shrink(tid: number): void {
    const opts = this.piscina.options as { maxThreads: number }
    const left = this.piscina.threads.filter((t) => t.threadId > 0 && t.threadId !== tid).length
    opts.maxThreads = Math.max(this.#workers, Math.min(opts.maxThreads, left))
  }

  /**
   * One Atomics.waitAsync on the kick word while tasks are held, and a slow
   * timer: an Atomics.waitAsync does not keep the process alive, but a held
   * task must (its thread may still be booting), and the timer's drain is a
   * second chance should a kick ever be missed.
   */
  #armKick(): void {
    this.#keepAlive ??= setInterval(() => this.taskAnswered(), HELD_RECHECK_MS)
    if (this.#kickArmed) return
    this.#kickArmed = true
    const w = Atomics.waitAsync(this.#bell, kKick, Atomics.load(this.#bell, kKick))
    const again = (): void => {
      this.#kickArmed = false
      this.#drain()
    }
    if (w.async) void w.value.then(again)
    else queueMicrotask(again)
  }

  /** An answer came: a thread may be able to take a held task. */
  taskAnswered(): void {
    if (this.#held.length > 0) this.#drain()
  }

  /** A held task was cancelled: it never reached a thread, so it settles as Cancelled now. */
  dropHeld(op: WorkerTaskOp): void {
    const i = this.#held.indexOf(op)
    if (i >= 0) {
      this.#held.splice(i, 1)
      Atomics.sub(this.#bell, kHeld, 1)
      if (this.#held.length === 0) this.#drain() // stops the keep-alive timer
    }
    const h = op.held!
    op.held = undefined
    op.answered = true
    op.startedPort?.close()
    op.fail(undefined) // unlinks it from its scope
    op.release()
    void closeMoved(op.encodedArgs).then(() =>
      h.reject(new Cancelled(`worker task ${op.workerTask.name} was cancelled while it waited for a thread; it never ran`)),
    )
  }

  giveSlot(slot: number): void {
    this.#slots.give(slot)
  }

  /**
   * The slot of a task whose thread died: given back once thread `tid` has
   * exited (nothing writes it after that). `tid` 0: the task never started on
   * a thread; it was queued on one that died, so it goes back at the next
   * thread exit. That assumes the next exit is the dead thread's own or a
   * later one: if two threads die at once, another thread's exit may come
   * first and hand the slot back while the dying thread has not exited yet.
   * That thread never started the task, so it writes the block only if it
   * still takes the task from its port on its way out (a narrow window).
   */
  giveSlotAfterExit(slot: number, tid: number): void {
    if (tid !== 0 && this.#exited.has(tid)) {
      this.#slots.give(slot)
      return
    }
    const waiting = this.#slotsAtExit.get(tid)
    if (waiting) waiting.push(slot)
    else this.#slotsAtExit.set(tid, [slot])
  }

  #threadExited(tid: number): void {
    this.#exited.add(tid)
    this.#terminating.delete(tid)
    for (const key of [tid, 0]) {
      for (const slot of this.#slotsAtExit.get(key) ?? []) this.#slots.give(slot)
      this.#slotsAtExit.delete(key)
    }
  }

  /** Control-block slots free now (tests). */
  freeSlots(): number {
    return this.#slots.free
  }

  /**
   * Starts a task and returns the promise of its outcome. Not `async`: a
   * trivial task's round trip is a few microseconds of JavaScript, and every
   * promise and `await` on the way shows in it (see WorkerTaskOp.onResult).
   */
  run(
    task: WorkerTask<never, unknown>,
    args: unknown[],
    status: TaskStatus<unknown> | undefined,
    ctx: TaskContext = current(),
  ): Promise<unknown> {
    let encoded: unknown
    try {
      checkCancelled(ctx)
      encoded = encodeForTransfer(args) // moves shared endpoints: the handles here are given up now
    } catch (e) {
      return Promise.reject(e)
    }
    const slot = this.#slots.take()
    const control = slot >= 0 ? this.#slots.view(slot) : new Int32Array(new SharedArrayBuffer(CONTROL_BYTES))
    const payload: { -readonly [K in keyof TaskPayload]: TaskPayload[K] } = { module: task.module, name: task.name, args: encoded }
    if (slot >= 0) payload.slot = slot
    else payload.control = control.buffer as SharedArrayBuffer
    if (bootstrapGeneration() !== this.#bootGeneration) payload.bootstraps = workerBootstraps()
    const op = new WorkerTaskOp(task, control, this, slot, encoded, status)
    // Linked for cancellation, with no promise of its own: the caller gets
    // Piscina's answer as its promise (one promise fewer per task).
    watchCancel(op, ctx)
    let options: { transferList: MessagePort[] } | undefined
    if (status) {
      const mc = new MessageChannel()
      op.startedPort = mc.port1
      payload.startedPort = mc.port2
      options = { transferList: [mc.port2] }
      mc.port1.on('message', (m: StartedMessage) => op.deliverStarted(m))
    }
    if (
      this.#held.length === 0 &&
      this.#handed === this.#board.picked &&
      (this.#board.canTakeNow() || this.piscina.threads.length < this.#workers)
    ) {
      return this.#post(op, payload, options)
    }
    return this.#hold(op, payload, options)
  }

  /**
   * The grace period is over. Terminates the task's thread (the last resort,
   * DESIGN.md 5) only if the task's function is still running: not for a
   * task that has answered (a busy owner may read the answer late), and a
   * thread at most once (other cancelled tasks on it settle as cancelled when
   * Piscina fails them).
   */
  terminateFor(op: WorkerTaskOp): void {
    op.graceTimer = undefined
    if (op.answered || Atomics.load(op.control, kPhase) !== PHASE_CALLED) return
    const tid = Atomics.load(op.control, kThread)
    op.terminated = true
    if (this.#terminating.has(tid)) return
    const thread = this.piscina.threads.find((t) => t.threadId === tid)
    if (!thread) return // already gone: Piscina fails its tasks, and a cancelled one settles as Cancelled
    this.#terminating.add(tid)
    process.emitWarning(
      `gotrio: worker task ${op.workerTask.name} ignored cancellation for ${this.graceMs} ms; terminating worker thread ${tid} (the task's function was still running; other tasks on that thread settle as Cancelled if they were cancelled, else fail)`,
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
 * True when this Node runs gotrio's TypeScript as it is: it strips types
 * (Node 24, 22.18+) and parses `await using` (explicit resource management,
 * Node 24; Node 22 strips types but cannot parse it).
 */
export function runsTypeScript(): boolean {
  if (!(process.features as { typescript?: string | false }).typescript) return false
  try {
    new Function('async () => { await using x = null }')
    return true
  } catch {
    return false
  }
}

/**
 * The URL of tsx's loader API, if threads must load TypeScript through it
 * (worker-boot.mjs registers it), else undefined. Node 24 (and 22.18+) run
 * `.ts` modules themselves by stripping their types, so threads need no loader
 * and start in a fraction of the time (issue: cold start). tsx is used only
 * where that is not enough: when this Node cannot run the sources as they are
 * (see runsTypeScript: Node 22) and the entry is .ts, or when this
 * process itself runs under tsx (its task modules may then use syntax or
 * `.js` import specifiers that only tsx understands).
 */
export function tsxLoader(entry: string): string | undefined {
  const underTsx = process.execArgv.some((a) => a.includes('tsx'))
  if (!underTsx && (runsTypeScript() || !entry.endsWith('.ts'))) return undefined
  try {
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json')
    return pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href
  } catch {
    return undefined
  }
}

/** The control-block slots free in this runtime's pool, or undefined if it has none yet (tests). */
export function freeControlSlots(): number | undefined {
  return current().runtime.peekService<WorkerPool>(POOL)?.freeSlots()
}

/** The pool of the calling code's runtime, made now if it has none yet. */
export function currentPool(ctx: TaskContext = current()): WorkerPool {
  return ctx.runtime.service(POOL, (rt) => new WorkerPool(rt))
}

setWorkerTaskRunner((task, args, status) => {
  const ctx = current()
  return currentPool(ctx).run(task, args, status, ctx)
})

export type { ResourceLimits }
