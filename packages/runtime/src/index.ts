/**
 * @gotrio/runtime — Trio's structured concurrency for Node.js, with tasks that
 * run in parallel on a worker pool. See API.md for the contract.
 */
export { run, dumpTasks, type RunOptions } from './run.js'
export { openNursery, Nursery, type TaskStatus } from './nursery.js'
export { CancelScope, currentTime, type CancelScopeOptions } from './cancel-scope.js'
export { sleep, sleepForever, checkpoint, throwIfCancelled, moveOnAfter, failAfter } from './timeouts.js'
export { Cancelled, TooSlowError, DeadlockError, NurseryError, type WaitingTask } from './errors.js'
export { workerTask, runInWorker, type WorkerTask, type CrossThreadArgs, type ThreadLocalArgument } from './worker-task.js'
import './worker-pool.js' // installs the worker-task runner
