/**
 * Hooks between the worker pool and primitives that live in shared memory
 * (shared channels), so the runtime needs no knowledge of channels:
 *
 *  - bootstraps: every worker thread the runtime starts first imports each
 *    registered module and calls its `bootstrapWorker(data)` export with the
 *    data computed on the main thread when the worker is made (for channels:
 *    the process-wide shared arena). Register at module load.
 *  - worker exit: when a pool thread dies (exit, crash, terminate), the hooks
 *    run on the thread that owns the pool with that thread's `threadId`, so
 *    they can close what the dead thread held.
 *  - before termination: when the pool must terminate a thread (a task that
 *    ignored cancellation for cancelGraceMs, or the pool's shutdown), it first
 *    awaits these hooks with the thread's id, so primitives in shared memory
 *    can let the thread finish a critical section and keep it out of new ones
 *    (channels: the termination gate, channels/src/shared/lock.ts).
 *  - sync cancellation: code that blocks its thread with `Atomics.wait`
 *    (`sendSync`/`receiveSync`) cannot see cancellation delivered through the
 *    event loop; it calls `checkCancelledSync()` between bounded waits, which
 *    also reads the worker task's shared cancel flag.
 */
import { isMainThread, threadId } from 'node:worker_threads'
import { expireDueDeadlines } from './cancel-scope.ts'
import { current } from './context.ts'
import { Cancelled } from './errors.ts'
import { noteSyncWake, type CancelStatus, type TaskInfo } from './status.ts'

export interface WorkerBootstrap {
  /** Module URL with a `bootstrapWorker(data)` export. */
  readonly module: string
  /** Computed on the pool's thread when a worker is created; must be structured-clonable (SABs are shared). */
  readonly data: () => unknown
}

const bootstraps = new Map<string, WorkerBootstrap>()
const exitHooks = new Set<(threadId: number) => void>()
const terminateHooks = new Set<(threadId: number) => Promise<unknown> | void>()

let generation = 0

export function registerWorkerBootstrap(module: string, data: () => unknown): void {
  bootstraps.set(module, { module, data })
  generation++
}

/** Changes whenever a bootstrap is registered (the pool sends late ones with each task). */
export function bootstrapGeneration(): number {
  return generation
}

/** The bootstraps as data for `workerData` (used by the pool, and by tests that start raw workers). */
export function workerBootstraps(): { module: string; data: unknown }[] {
  return [...bootstraps.values()].map((b) => ({ module: b.module, data: b.data() }))
}

/** Runs each bootstrap in this (worker) thread. */
export async function runWorkerBootstraps(list: readonly { module: string; data: unknown }[]): Promise<void> {
  for (const b of list) {
    const mod = (await import(b.module)) as { bootstrapWorker?: (data: unknown) => void }
    if (typeof mod.bootstrapWorker !== 'function') {
      throw new TypeError(`gotrio: worker bootstrap module ${b.module} has no bootstrapWorker(data) export`)
    }
    mod.bootstrapWorker(b.data)
  }
}

export function onWorkerExit(hook: (threadId: number) => void): () => void {
  exitHooks.add(hook)
  return () => exitHooks.delete(hook)
}

/** @internal called by the pool when one of its threads has died. */
export function notifyWorkerExit(deadThreadId: number): void {
  for (const h of exitHooks) {
    try {
      h(deadThreadId)
    } catch (e) {
      queueMicrotask(() => {
        throw e
      })
    }
  }
}

export function onBeforeWorkerTerminate(hook: (threadId: number) => Promise<unknown> | void): () => void {
  terminateHooks.add(hook)
  return () => terminateHooks.delete(hook)
}

/** @internal awaited by the pool before it terminates one of its threads; never rejects. */
export async function beforeWorkerTerminate(tid: number): Promise<void> {
  await Promise.all(
    [...terminateHooks].map(async (h) => {
      try {
        await h(tid)
      } catch (e) {
        process.emitWarning(`gotrio: a before-terminate hook failed for worker thread ${tid}: ${String(e)}`)
      }
    }),
  )
}

/** True if the calling code is cancelled, including a cancel request for its worker task not yet seen by the event loop. */
export function cancelRequestedSync(): boolean {
  const ctx = current()
  // A deadline of a scope around a blocked call: its timer cannot fire while
  // the thread is blocked, so a passed deadline counts here, as at a checkpoint.
  expireDueDeadlines(ctx.status)
  return cancelRequestedIn(ctx.status, ctx.task)
}

/**
 * `cancelRequestedSync` for code running outside the task's context: true if
 * code under `status` in `task` is cancelled, or `task` is a worker task whose
 * cancellation the owner has requested and this thread's loop has not told its
 * scope yet. For a parked operation: its `status` and `task` (Parked).
 */
export function cancelRequestedIn(status: CancelStatus | undefined, task: TaskInfo | undefined): boolean {
  if (status === undefined) return false
  if (status.effectivelyCancelled) return true
  const flag = task?.cancelFlag
  if (flag === undefined || Atomics.load(flag, 0) === 0) return false
  // The flag cancels the worker task's own scope (once this thread's loop sees
  // the doorbell); code inside a shielded scope under it does not see that
  // cancellation, so it must not see the flag either (a shielded cleanup's
  // sendSync or throwIfCancelled goes on).
  for (let s: CancelStatus | undefined = status; s !== undefined; s = s.parent) if (s.scope.shield) return false
  return true
}

/** Throws `Cancelled` if `cancelRequestedSync()`. For code that blocks with `Atomics.wait` in slices. */
export function checkCancelledSync(): void {
  if (cancelRequestedSync()) throw new Cancelled()
}

/**
 * Blocked in a sync wait: code about to block its thread in `Atomics.wait`
 * (`sendSync`, `receiveSync`, ...) calls `syncWaitBegin()` just before the
 * wait and `syncWaitEnd()` just after, so the pool places no task on this
 * thread meanwhile and starts another thread when all of them are blocked
 * (worker-pool.ts, "Held tasks"). No-ops outside a pool thread.
 */
let syncWaitHook: ((blocked: boolean) => void) | undefined
export function syncWaitBegin(): void {
  syncWaitHook?.(true)
}
export function syncWaitEnd(): void {
  syncWaitHook?.(false)
  noteSyncWake() // for deadlock detection: this thread ran, whatever it waited on
}

/** @internal worker-entry.ts installs the hook that posts the thread's hint. */
export function setSyncWaitHook(hook: (blocked: boolean) => void): void {
  syncWaitHook = hook
}

/**
 * Once per slice of a *registered* blocking wait (the operation is counted as
 * waiting and only another thread, a cancellation or a deadline can end it):
 * the thread's event loop cannot answer deadlock probes meanwhile, so the wait
 * answers them (deadlock/local.ts `answerBlocked`). `waitsOn` names the call,
 * as `dumpTasks()` shows it.
 */
let syncBlockedHook: ((waitsOn: string) => void) | undefined
export function syncWaitSlice(waitsOn: string): void {
  syncBlockedHook?.(waitsOn)
}
/** @internal deadlock/local.ts installs the probe answer of a blocked worker thread. */
export function setSyncBlockedHook(hook: (waitsOn: string) => void): void {
  syncBlockedHook = hook
}

export { isMainThread, threadId }
