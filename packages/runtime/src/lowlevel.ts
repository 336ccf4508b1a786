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
export { current, checkCancelled, park, yieldDue, macrotask, type TaskContext } from './context.js'
export { Parked, CancelStatus, type TaskInfo, type Closeable } from './status.js'
export { waitingTasks } from './run.js'
export { InternalError, assert } from './errors.js'
export { registerErrorClass, type ErrorClass } from './error-classes.js'
export { adoptResource, releaseResource, kTransfer, type Transferable, type TransferRecord } from './resources.js'
export { waitAllTasksBlocked } from './testing.js'
export {
  registerWorkerBootstrap,
  workerBootstraps,
  runWorkerBootstraps,
  onWorkerExit,
  onBeforeWorkerTerminate,
  cancelRequestedSync,
  checkCancelledSync,
  syncWaitBegin,
  syncWaitEnd,
  type WorkerBootstrap,
} from './threads.js'
