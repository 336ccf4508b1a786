/**
 * @gotrio/runtime/lowlevel — the escape hatch for building blocking primitives
 * (what @gotrio/channels is built on), like `trio.lowlevel`. Not needed by
 * application code.
 *
 * A blocking operation follows one pattern:
 * ```ts
 * const ctx = current()            // once per operation
 * checkCancelled(ctx)              // a checkpoint: throws Cancelled if cancelled
 * if (canCompleteNow()) { ...; return }
 * return park(new MyOp(...), ctx)  // MyOp extends Parked: abort() undoes the registration
 * ```
 */
export { current, checkCancelled, park, yieldDue, macrotask, type TaskContext } from './context.ts'
export { Parked, CancelStatus, type TaskInfo, type Closeable } from './status.ts'
export { waitingTasks } from './run.ts'
export { InternalError, assert } from './errors.ts'
export { registerErrorClass, type ErrorClass } from './error-classes.ts'
export { adoptResource, releaseResource, kTransfer, type Transferable, type TransferRecord } from './resources.ts'
export { waitAllTasksBlocked } from './testing.ts'
export {
  registerWorkerBootstrap,
  workerBootstraps,
  runWorkerBootstraps,
  onWorkerExit,
  onBeforeWorkerTerminate,
  cancelRequestedSync,
  cancelRequestedIn,
  checkCancelledSync,
  syncWaitBegin,
  syncWaitEnd,
  syncWaitSlice,
  type WorkerBootstrap,
} from './threads.ts'
export { kTaskRunner, runWorkerTask, moduleUrl, type Runner as WorkerTaskRunner } from './worker-task.ts'
export { registerOwnTimers } from './deadlock/local.ts'
