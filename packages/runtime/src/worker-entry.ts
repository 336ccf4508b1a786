/**
 * The module every pool thread loads (Piscina's `filename`). It runs worker
 * tasks: imports the task's module, revives moved endpoints (owned by the
 * task), runs the function under a cancel scope tied to the owner's control
 * block, and closes every resource the task still owns when it ends, however
 * it ends. Many tasks run at once on one thread: a task waiting on a channel
 * or a sleep holds no thread (Piscina's concurrentTasksPerWorker).
 */
import { threadId, workerData, type MessagePort } from 'node:worker_threads'
import './index.ts' // the default runtime factory and the worker-task runner, for nested use
import { CancelScope } from './cancel-scope.ts'
import { checkCancelled, rootContext, runIn, type TaskContext } from './context.ts'
import { Cancelled } from './errors.ts'
import type { TaskStatus } from './nursery.ts'
import type { Closeable, TaskInfo } from './status.ts'
import { runWorkerBootstraps, setSyncWaitHook } from './threads.ts'
import { noteRunning } from './deadlock/local.ts'
import { decodeTransferred, encodeForTransfer, hasMarkers, serializeError } from './transfer.ts'
import {
  BOARD_ROW_INTS,
  STATE_CANCEL_REQUESTED,
  kRowBlocked,
  kRowBusy,
  kRowReady,
  kRowRunning,
  kHeld,
  kKick,
  kRowThread,
  STATE_RUNNING,
  kBell,
  kState,
  kArgsTaken,
  kPhase,
  kThread,
  PHASE_ANSWERED,
  PHASE_CALLED,
  PHASE_WAITING,
  slotView,
  type PoolShared,
  type StartedMessage,
  type TaskPayload,
  type TaskResult,
} from './worker-protocol.ts'

const booted = new Set<string>()

async function bootstrap(list: readonly { module: string; data: unknown }[] | undefined): Promise<void> {
  const todo = (list ?? []).filter((b) => !booted.has(b.module))
  for (const b of todo) booted.add(b.module)
  if (todo.length > 0) await runWorkerBootstraps(todo)
}

await bootstrap((workerData as { bootstraps?: { module: string; data: unknown }[] } | undefined)?.bootstraps)

/**
 * Task modules by URL. `import()` of a module already loaded still runs the
 * loader's resolve hooks (under tsx, a round trip to its loader thread), so
 * each module is imported once per thread.
 */
const modules = new Map<string, Record<string, unknown>>()

async function loadModule(url: string): Promise<Record<string, unknown>> {
  const mod = (await import(url)) as Record<string, unknown>
  modules.set(url, mod)
  return mod
}

/** What this thread's pool shares with it (worker-protocol.ts): the control-block slab and the doorbell. */
const shared = (workerData as { gotrioBoot?: { shared?: PoolShared } } | undefined)?.gotrioBoot?.shared
const slotViews: Int32Array[] = []

/**
 * This thread's row on the pool's thread board (worker-protocol.ts): the
 * hints the balancer reads. Looked up by thread id until found; -1 until then
 * (the owner writes the row before it can post a task to this thread, so in
 * practice the first task finds it).
 */
const board = shared ? new Int32Array(shared.board) : undefined
let boardRow = -1
let busyClearing = false

function findBoardRow(b: Int32Array): number {
  for (let base = 0; base < b.length; base += BOARD_ROW_INTS) if (Atomics.load(b, base + kRowThread) === threadId) return base
  return -1
}

/** Posts how many tasks this thread has between their start and their end (`running`, below). */
function postRunning(): void {
  noteRunning(running.size) // the deadlock board (deadlock/local.ts)
  if (!board) return
  if (boardRow < 0 && (boardRow = findBoardRow(board)) < 0) return
  Atomics.store(board, boardRow + kRowRunning, running.size)
  // No task left: the thread is about to be idle, not busy.
  if (running.size === 0) Atomics.store(board, boardRow + kRowBusy, 0)
}

/**
 * A task starts, or its function is about to be called: the thread is busy
 * until its event loop next turns (a task that computes before its first
 * await keeps it busy that long). One setImmediate at a time clears the mark.
 */
function markBusy(): void {
  if (boardRow < 0) return
  Atomics.store(board!, boardRow + kRowBusy, 1)
  if (!busyClearing) {
    busyClearing = true
    setImmediate(clearBusy)
  }
}

function clearBusy(): void {
  busyClearing = false
  Atomics.store(board!, boardRow + kRowBusy, 0)
  // Back in its event loop, the thread is in no sync wait (whoever began one without ending it).
  if (blockedPosted) {
    blockedPosted = false
    Atomics.store(board!, boardRow + kRowBlocked, 0)
  }
  kickIfHeld()
}

/** The pool words (worker-protocol.ts): the doorbell, the kick word, the held count. */
const poolWords = shared ? new Int32Array(shared.bell) : undefined

/**
 * Tells the owner this thread may take a held task now. Called after the
 * hint that says so was stored; rings only while the owner holds tasks
 * (the store-then-load order against the owner's is in worker-protocol.ts).
 */
function kickIfHeld(): void {
  if (poolWords === undefined || Atomics.load(poolWords, kHeld) === 0) return
  Atomics.add(poolWords, kKick, 1)
  Atomics.notify(poolWords, kKick)
}

// A sync wait (channels' sendSync/receiveSync) marks this thread blocked, so
// the pool places nothing behind it and grows when every thread is blocked.
let blockedPosted = false
setSyncWaitHook((blocked) => {
  if (boardRow < 0 || blocked === blockedPosted) return
  blockedPosted = blocked
  Atomics.store(board!, boardRow + kRowBlocked, blocked ? 1 : 0)
  if (blocked) kickIfHeld()
})

// This thread has loaded the entry: it can take tasks.
if (board !== undefined && (boardRow = findBoardRow(board)) >= 0) {
  Atomics.store(board, boardRow + kRowReady, 1)
  kickIfHeld()
}

/** A task of this thread between its start and its end, as the doorbell sees it. */
interface Running {
  readonly control: Int32Array
  readonly scope: CancelScope
}
const running = new Set<Running>()

function cancelRequested(t: Running): void {
  if (Atomics.load(t.control, kState) === STATE_CANCEL_REQUESTED) t.scope.cancel('the nursery cancelled the worker task')
}

/**
 * The doorbell watch (worker-protocol.ts): one Atomics.waitAsync for the whole
 * thread, armed at its first task and re-armed after every ring, so a task
 * costs no watch of its own. A ring that comes between reading the doorbell
 * and arming makes waitAsync answer "not-equal" at once: the loop then scans
 * and reads again, so no ring is missed.
 */
let bellArmed = false
function armBell(bell: Int32Array): void {
  bellArmed = true
  let seen = Atomics.load(bell, kBell)
  const scan = (): void => {
    for (const t of running) cancelRequested(t)
  }
  const watch = (): void => {
    for (;;) {
      const w = Atomics.waitAsync(bell, kBell, seen)
      if (w.async) {
        void w.value.then(() => {
          seen = Atomics.load(bell, kBell)
          scan()
          watch()
        })
        return
      }
      // "not-equal": a ring came since `seen` was read.
      seen = Atomics.load(bell, kBell)
      scan()
    }
  }
  watch()
}

/** A task's TaskInfo; `cancelFlag` is dropped when the task ends (its slot may then serve another task). */
interface WorkerTaskInfo extends TaskInfo {
  cancelFlag: Int32Array | undefined
}

/**
 * Runs one task. Not `async`, and every step is taken synchronously when it
 * can be: a task whose module is loaded, whose arguments hold no endpoints and
 * whose function returns a plain value completes without a single promise
 * (Piscina awaits whatever this returns). Each step that must wait goes on in
 * a `.then` made inside `runIn`, so it keeps the task's context.
 */
export default function runGotrioTask(p: TaskPayload): TaskResult | Promise<TaskResult> {
  const control = p.slot !== undefined ? (slotViews[p.slot] ??= slotView(shared!.slab, p.slot)) : new Int32Array(p.control!)
  Atomics.store(control, kThread, threadId)
  const owned = new Set<Closeable>()
  const task: WorkerTaskInfo = { name: `worker:${p.name}`, owned, cancelFlag: control }
  const scope = new CancelScope()
  const status = scope._enter(rootContext.status)
  const ctx: TaskContext = { status, task, runtime: rootContext.runtime }
  const me: Running = { control, scope }
  // Registered first, then kState read: a request made before is seen here,
  // one made after rings a doorbell that finds this task (worker-protocol.ts).
  running.add(me)
  postRunning()
  markBusy() // until the task yields; again in invoke(), in case loading its module let the loop turn
  if (shared && !bellArmed) armBell(new Int32Array(shared.bell))
  if (Atomics.load(control, kState) !== STATE_RUNNING) scope.cancel('cancelled before the worker task started')
  let out: unknown
  try {
    // Late bootstraps (registered after the pool was made) run first, outside the task's context.
    out = p.bootstraps ? bootstrap(p.bootstraps).then(() => runIn(ctx, () => callTask(p, control))) : runIn(ctx, () => callTask(p, control))
  } catch (e) {
    return end(p, me, task, failed(control, scope, e))
  }
  if (!isThenable(out)) return end(p, me, task, { kind: 'ok', value: out })
  return Promise.resolve(out).then(
    (value) => end(p, me, task, { kind: 'ok', value }),
    (e: unknown) => end(p, me, task, failed(control, scope, e)),
  )
}

/** Imports the module (once per thread), revives the arguments, calls the function; the encoded result, or its promise. */
function callTask(p: TaskPayload, control: Int32Array): unknown {
  const mod = modules.get(p.module)
  if (!mod) return loadModule(p.module).then((m) => callExport(m, p, control))
  return callExport(mod, p, control)
}

function callExport(mod: Record<string, unknown>, p: TaskPayload, control: Int32Array): unknown {
  const fn = mod[p.name]
  if (typeof fn !== 'function') {
    throw new TypeError(
      `worker task: ${p.module} has no exported function named '${p.name}' (its exports: ${Object.keys(mod).join(', ') || 'none'})`,
    )
  }
  const f = fn as (...a: unknown[]) => unknown
  Atomics.store(control, kArgsTaken, 1) // from here the moved endpoints are this thread's (worker-protocol.ts)
  if (hasMarkers(p.args)) return decodeTransferred(p.args).then((args) => invoke(f, p, args as unknown[], control))
  return invoke(f, p, p.args as unknown[], control)
}

function invoke(fn: (...a: unknown[]) => unknown, p: TaskPayload, args: unknown[], control: Int32Array): unknown {
  // Cancelled before its function was called (queued, or while its thread
  // booted or loaded the module): the function never runs, and its endpoints
  // are closed when it ends. The compareExchange decides this once against
  // the owner's (worker-protocol.ts, kPhase); kState is read after it.
  if (Atomics.compareExchange(control, kPhase, PHASE_WAITING, PHASE_CALLED) !== PHASE_WAITING) {
    throw new Cancelled('the worker task was cancelled before it started, and dropped')
  }
  if (Atomics.load(control, kState) !== STATE_RUNNING) throw new Cancelled('the worker task was cancelled before it started')
  checkCancelled()
  markBusy()
  const result = p.startedPort ? fn(startedStatus(p.startedPort), ...args) : fn(...args)
  // Endpoints returned move back to the owner.
  return isThenable(result) ? Promise.resolve(result).then(encodeForTransfer) : encodeForTransfer(result)
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

/** The outcome of a task that threw `e`, as its scope sees it (what `CancelScope.run` would do, then the report). */
function failed(control: Int32Array, scope: CancelScope, e: unknown): TaskResult {
  try {
    scope._filterError(e)
    return { kind: 'cancelled' } // the task's own scope caught its cancellation
  } catch (err) {
    // Code blocked in Atomics.wait (sendSync) sees the cancel request through
    // the shared flag before the event loop can tell our scope: its Cancelled
    // is still ours to report as a cancellation, not as an error.
    if (err instanceof Cancelled && Atomics.load(control, kState) === STATE_CANCEL_REQUESTED) return { kind: 'cancelled' }
    return { kind: 'error', error: serializeError(err) }
  }
}

/** However the task ended: leave the scope, close what it still owns, give up the control block, answer. */
function end(p: TaskPayload, me: Running, task: WorkerTaskInfo, result: TaskResult): TaskResult {
  me.scope._exit()
  running.delete(me)
  postRunning()
  // Whatever the task still owns is closed, so peers see EndOfChannel /
  // BrokenResourceError instead of waiting forever (API.md).
  for (const r of task.owned!) {
    try {
      r.close()
    } catch {
      /* closing is best effort; the task's own result or error is what is reported */
    }
  }
  p.startedPort?.close()
  // Once answered, the owner may reuse the slot: code of this task still
  // running after its end (a promise it did not await) no longer sees the
  // block through checkCancelledSync(). Nothing here writes the block again.
  task.cancelFlag = undefined
  // No longer running: the owner's grace timer must not terminate this
  // thread for this task, even if its answer is read late (worker-protocol.ts).
  Atomics.store(me.control, kPhase, PHASE_ANSWERED)
  return result
}

function startedStatus(port: MessagePort): TaskStatus<unknown> {
  let called = false
  return {
    started(value?: unknown) {
      if (called) {
        throw new Error('TaskStatus.started() was called twice: a task started with Nursery.start() reports that it is ready exactly once')
      }
      called = true
      port.postMessage({ value: encodeForTransfer(value) } satisfies StartedMessage)
    },
  }
}
