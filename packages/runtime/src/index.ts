/**
 * @gotrio/runtime — Trio's structured concurrency for Node.js, with tasks that
 * run in parallel on a worker pool. See API.md for the contract.
 */
export { run, dumpTasks, type RunOptions } from './run.js'
export { openNursery, Nursery, type TaskStatus } from './nursery.js'
export { CancelScope, currentTime, type CancelScopeOptions } from './cancel-scope.js'
export { sleep, sleepForever, checkpoint, moveOnAfter, failAfter } from './timeouts.js'
export { Cancelled, TooSlowError, DeadlockError, NurseryError, type WaitingTask } from './errors.js'
export { currentEffectiveDeadline, moveOnAt, failAt, sleepUntil } from './deadlines.js'
export { Event, Lock, Semaphore, CapacityLimiter, Condition } from './sync/index.js'
export { WouldBlock } from './would-block.js'
export { workerTask, runInWorker, type WorkerTask } from './worker-task.js'
import './worker-pool.js' // installs the worker-task runner
