/**
 * The protocol between the thread that starts a worker task (the *owner*) and
 * the pool thread that runs it. One task = one Piscina call carrying a
 * `TaskPayload`, answered by a `TaskResult`, plus a small control block in
 * shared memory for what must reach a thread whose event loop may be busy.
 *
 * Control block (Int32Array over a SharedArrayBuffer of CONTROL_BYTES):
 *
 * | index | name     | written by                  | read by        | meaning                                                        |
 * |-------|----------|-----------------------------|----------------|----------------------------------------------------------------|
 * | 0     | kState   | owner (1), worker (2)       | worker, owner  | 0 running; 1 cancel requested (owner, + notify); 2 task ended   |
 * | 1     | kThread  | worker, once at task start  | owner          | threadId of the worker running it; 0 while still queued         |
 * | 2     | kArgsTaken | worker, once, before reviving the arguments | owner | 1 once the worker took over the moved endpoints of the arguments |
 *
 * Ordering: the owner writes kState=1 with Atomics.store then Atomics.notify;
 * the worker watches kState with Atomics.waitAsync(kState, 0), so a request
 * made before the watch starts is seen as "not-equal" at once and one made
 * after wakes the watch. `checkCancelledSync()` reads kState too, for code
 * blocked in Atomics.wait. The worker's final store of 2 + notify releases
 * its own pending watch, so no waiter outlives the task.
 *
 * kArgsTaken decides who closes the endpoints moved in the arguments if the
 * task never completes normally: while it is 0 the worker has not revived
 * them, so the owner revives and closes them (its thread died first, or the
 * payload never reached it); once 1, they belong to the worker's thread and
 * the worker-exit hooks close them. The worker stores 1 *before* reviving: a
 * death between the two leaks those handles (a narrow window) rather than
 * letting both sides close them (which would corrupt the open counts).
 */
import type { MessagePort } from 'node:worker_threads'

export const kState = 0
export const kThread = 1
export const kArgsTaken = 2
export const CONTROL_BYTES = 3 * Int32Array.BYTES_PER_ELEMENT

export const STATE_RUNNING = 0
export const STATE_CANCEL_REQUESTED = 1
export const STATE_ENDED = 2

export interface TaskPayload {
  /** Module URL of the task function. */
  readonly module: string
  /** Export name of the task function. */
  readonly name: string
  /** Arguments, with transferable objects replaced by markers (transfer.ts). */
  readonly args: unknown
  /** The control block. */
  readonly control: SharedArrayBuffer
  /** For `Nursery.start`: the port on which `started(value)` is posted. */
  readonly startedPort?: MessagePort
  /** Bootstraps registered after the pool was made (the pool's workerData holds the earlier ones). */
  readonly bootstraps?: { module: string; data: unknown }[]
}

export type TaskResult =
  | { readonly kind: 'ok'; readonly value: unknown }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'cancelled' }

/** Message posted on `startedPort`. */
export interface StartedMessage {
  readonly value: unknown
}
