/**
 * @gotrio/runtime — Trio's structured concurrency for Node.js, with tasks that
 * run in parallel on a worker pool. See API.md for the contract.
 */
export { run, dumpTasks, type RunOptions } from './run.ts'
export { openNursery, Nursery, type TaskStatus } from './nursery.ts'
export { CancelScope, currentTime, type CancelScopeOptions } from './cancel-scope.ts'
export { sleep, sleepForever, checkpoint, throwIfCancelled, moveOnAfter, failAfter } from './timeouts.ts'
export { Cancelled, TooSlowError, DeadlockError, NurseryError, type WaitingTask } from './errors.ts'
export { currentEffectiveDeadline, moveOnAt, failAt, sleepUntil } from './deadlines.ts'
export { Event, Lock, Semaphore, CapacityLimiter, Condition } from './sync/index.ts'
export { WouldBlock } from './would-block.ts'
export { workerTask, runInWorker, type WorkerTask, type CrossThreadArgs, type ThreadLocalArgument } from './worker-task.ts'
export { warmUpWorkers } from './warm-up.ts'
import './worker-pool.ts' // installs the worker-task runner
